"""The Cloud API request bodies for every message kind, compared with the JSON in
Meta's documentation (``POST /{phone_number_id}/messages``)."""

from typing import Any

import pytest

from omniroute.messages.schemas import SendMessage
from omniroute.providers.base import OutboundMessage, TemplateDefinition, TemplateSend
from omniroute.providers.errors import ProviderOutcomeUnknown, ProviderRejected
from omniroute.providers.meta import wire
from omniroute.providers.meta.config import MetaConfig

TO = "+2348012345678"
ENVELOPE = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": TO,
    "biz_opaque_callback_data": "msg_ours",
}


def payload_for(**body: Any) -> dict[str, Any]:
    """What the adapter sends for a ``POST /v1/messages`` body (our API in, Meta's JSON out)."""
    request = SendMessage.model_validate({"channel_id": "ch_1", "to": TO, **body})
    message = OutboundMessage(
        message_id="msg_ours", recipient=TO, content_type=request.content_type, content=request.content()
    )
    return wire.message_payload(message, {"msg_earlier": "wamid.EARLIER"})


def template_payload(components: list[dict[str, Any]]) -> dict[str, Any]:
    message = OutboundMessage(
        message_id="msg_ours",
        recipient=TO,
        content_type="template",
        template=TemplateSend(
            name="order_update", language="en_US", category="UTILITY", components=components
        ),
    )
    return wire.message_payload(message, {})


def test_text_with_link_preview() -> None:
    assert payload_for(text={"body": "Track it at https://x.test", "preview_url": True}) == {
        **ENVELOPE,
        "type": "text",
        "text": {"body": "Track it at https://x.test", "preview_url": True},
    }


def test_text_without_preview_says_so() -> None:
    assert payload_for(text={"body": "Hi"})["text"] == {"body": "Hi", "preview_url": False}


@pytest.mark.parametrize(
    ("kind", "given", "sent"),
    [
        (
            "image",
            {"link": "https://x.test/a.jpg", "caption": "Your receipt"},
            {"link": "https://x.test/a.jpg", "caption": "Your receipt"},
        ),
        ("image", {"media_id": "1013859600285441"}, {"id": "1013859600285441"}),
        (
            "video",
            {"link": "https://x.test/v.mp4", "caption": "How to"},
            {"link": "https://x.test/v.mp4", "caption": "How to"},
        ),
        ("audio", {"media_id": "1013859600285442"}, {"id": "1013859600285442"}),
        (
            "document",
            {"link": "https://x.test/i.pdf", "caption": "Invoice", "filename": "invoice-4582.pdf"},
            {"link": "https://x.test/i.pdf", "caption": "Invoice", "filename": "invoice-4582.pdf"},
        ),
        ("sticker", {"link": "https://x.test/s.webp"}, {"link": "https://x.test/s.webp"}),
    ],
)
def test_media_by_link_or_id(kind: str, given: dict[str, Any], sent: dict[str, Any]) -> None:
    assert payload_for(**{kind: given}) == {**ENVELOPE, "type": kind, kind: sent}


def test_interactive_buttons_go_out_as_given() -> None:
    buttons = {
        "type": "button",
        "header": {"type": "text", "text": "Delivery"},
        "body": {"text": "When should we deliver?"},
        "footer": {"text": "Reply any time"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "today", "title": "Today"}},
                {"type": "reply", "reply": {"id": "tomorrow", "title": "Tomorrow"}},
            ]
        },
    }
    assert payload_for(interactive=buttons) == {**ENVELOPE, "type": "interactive", "interactive": buttons}


def test_interactive_list_and_cta_url() -> None:
    listing = {
        "type": "list",
        "body": {"text": "Pick a slot"},
        "action": {
            "button": "Slots",
            "sections": [
                {"title": "Morning", "rows": [{"id": "9", "title": "9:00", "description": "Early"}]}
            ],
        },
    }
    cta = {
        "type": "cta_url",
        "body": {"text": "See your order"},
        "action": {"name": "cta_url", "parameters": {"display_text": "Open", "url": "https://x.test/o/1"}},
    }
    assert payload_for(interactive=listing)["interactive"] == listing
    assert payload_for(interactive=cta)["interactive"] == cta


def test_reaction_to_our_message_uses_its_whatsapp_id() -> None:
    assert payload_for(reaction={"message_id": "msg_earlier", "emoji": "👍"}) == {
        **ENVELOPE,
        "type": "reaction",
        "reaction": {"message_id": "wamid.EARLIER", "emoji": "👍"},
    }


def test_reaction_to_a_whatsapp_id_is_sent_unchanged() -> None:
    sent = payload_for(reaction={"message_id": "wamid.HBgM", "emoji": ""})
    assert sent["reaction"] == {"message_id": "wamid.HBgM", "emoji": ""}


def test_location() -> None:
    location = {"latitude": 6.4281, "longitude": 3.4216, "name": "Shop", "address": "1 Marina, Lagos"}
    assert payload_for(location=location) == {**ENVELOPE, "type": "location", "location": location}


def test_contacts() -> None:
    card = {
        "name": {"formatted_name": "Ada Obi", "first_name": "Ada", "last_name": "Obi"},
        "phones": [{"phone": "+2348012345679", "type": "WORK", "wa_id": "2348012345679"}],
        "emails": [{"email": "ada@x.test", "type": "WORK"}],
        "org": {"company": "Shop", "title": "Support"},
    }
    assert payload_for(contacts=[card]) == {**ENVELOPE, "type": "contacts", "contacts": [card]}


def test_reply_quotes_the_earlier_message_in_context() -> None:
    sent = payload_for(text={"body": "Yes, it ships today"}, reply_to="msg_earlier")
    assert sent["context"] == {"message_id": "wamid.EARLIER"}
    assert sent["text"] == {"body": "Yes, it ships today", "preview_url": False}
    assert payload_for(image={"media_id": "1"}, reply_to="wamid.X")["context"] == {"message_id": "wamid.X"}


def test_referenced_ids_are_only_ours() -> None:
    message = OutboundMessage(
        message_id="msg_new",
        recipient=TO,
        content_type="reaction",
        content={"message_id": "msg_a", "emoji": "👍", "reply_to": "wamid.B"},
    )
    assert wire.referenced_ids(message) == ["msg_a"]


def test_template_without_parameters_has_no_components() -> None:
    assert template_payload([]) == {
        **ENVELOPE,
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"}},
    }


TEMPLATE_COMPONENTS = [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.test/h.jpg"}}]},
    {
        "type": "body",
        "parameters": [
            {"type": "text", "text": "Ada"},
            {
                "type": "currency",
                "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990},
            },
            {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}},
        ],
    },
    {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "order/4582"}],
    },
    {
        "type": "button",
        "sub_type": "copy_code",
        "index": "1",
        "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
    },
    {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "2",
        "parameters": [{"type": "payload", "payload": "STOP"}],
    },
]


def test_template_parameters_of_every_kind_are_sent_as_meta_documents_them() -> None:
    assert template_payload(TEMPLATE_COMPONENTS) == {
        **ENVELOPE,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": TEMPLATE_COMPONENTS,
        },
    }


@pytest.mark.parametrize(
    "header",
    [
        {"type": "video", "video": {"id": "4490"}},
        {"type": "document", "document": {"link": "https://x.test/t.pdf", "filename": "ticket.pdf"}},
        {"type": "text", "text": "Order #4582"},
    ],
)
def test_template_header_parameters(header: dict[str, Any]) -> None:
    components = [{"type": "header", "parameters": [header]}]
    assert template_payload(components)["template"]["components"] == components


def test_named_body_parameters_keep_their_names() -> None:
    components = [
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Ada"}]}
    ]
    assert template_payload(components)["template"]["components"] == components


def test_mark_read() -> None:
    assert wire.mark_read_payload("wamid.IN") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
    }


def test_template_submission_body() -> None:
    components = [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ada"]]}}]
    definition = TemplateDefinition(name="hello", language="en", category="UTILITY", components=components)
    assert wire.template_payload(definition) == {
        "name": "hello",
        "language": "en",
        "category": "UTILITY",
        "components": components,
    }


def test_a_template_time_to_live_is_submitted_when_set() -> None:
    components = [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ada"]]}}]
    definition = TemplateDefinition("hello", "en", "UTILITY", components, message_send_ttl_seconds=600)
    assert wire.template_payload(definition)["message_send_ttl_seconds"] == 600


def test_urls_use_the_configured_base_and_version() -> None:
    config = MetaConfig(
        phone_number_id="106540352242922",
        waba_id="102290129340398",
        access_token="t",
        app_secret="s",
        verify_token="v",
        graph_base_url="http://127.0.0.1:9999/",
        api_version="v21.0",
    )
    assert config.url("106540352242922/messages") == "http://127.0.0.1:9999/v21.0/106540352242922/messages"
    defaults = MetaConfig(
        phone_number_id="1", waba_id="2", access_token="t", app_secret="s", verify_token="v"
    )
    assert defaults.url("1") == "https://graph.facebook.com/v23.0/1"


SEND_RESPONSE = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+2348012345678", "wa_id": "2348012345678"}],
    "messages": [
        {"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA", "message_status": "accepted"}
    ],
}


def test_accepted_send_response() -> None:
    receipt = wire.send_receipt(SEND_RESPONSE)
    assert receipt.provider_message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"
    assert receipt.provider_status == "accepted"


def test_held_for_quality_assessment_is_accepted_with_that_status() -> None:
    body = {**SEND_RESPONSE, "messages": [{"id": "wamid.H", "message_status": "held_for_quality_assessment"}]}
    assert wire.send_receipt(body).provider_status == "held_for_quality_assessment"


def test_a_response_without_status_is_accepted() -> None:
    assert wire.send_receipt({"messages": [{"id": "wamid.A"}]}).provider_status == "accepted"


def test_paused_is_a_final_refusal() -> None:
    body = {**SEND_RESPONSE, "messages": [{"id": "wamid.P", "message_status": "paused"}]}
    with pytest.raises(ProviderRejected) as caught:
        wire.send_receipt(body)
    assert (caught.value.code, caught.value.provider_code) == ("template_paused", "paused")


def test_a_success_without_a_message_id_is_an_unknown_outcome() -> None:
    with pytest.raises(ProviderOutcomeUnknown):
        wire.send_receipt({"messaging_product": "whatsapp", "messages": []})


def test_template_listing_item() -> None:
    item = {
        "id": "594425479261596",
        "name": "order_update",
        "language": "en_US",
        "status": "REJECTED",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}"}],
        "rejected_reason": "PROMOTIONAL",
        "quality_score": {"score": "YELLOW", "date": 1700000000},
    }
    template = wire.provider_template(item)
    assert template.provider_template_id == "594425479261596"
    assert (template.name, template.language, template.status, template.category) == (
        "order_update",
        "en_US",
        "REJECTED",
        "MARKETING",
    )
    assert template.components == [{"type": "BODY", "text": "Hi {{1}}"}]
    assert (template.rejection_reason, template.quality_score) == ("PROMOTIONAL", "YELLOW")


def test_template_listing_item_without_reason_or_score() -> None:
    template = wire.provider_template(
        {
            "id": 1,
            "name": "a",
            "language": "en",
            "status": "APPROVED",
            "category": "UTILITY",
            "rejected_reason": "NONE",
        }
    )
    assert (template.rejection_reason, template.quality_score, template.components) == (None, None, [])


def test_listing_pages_are_followed_until_there_is_no_next() -> None:
    middle = {
        "data": [],
        "paging": {"cursors": {"before": "QVFI1", "after": "QVFI2"}, "next": "https://graph/next"},
    }
    last = {"data": [], "paging": {"cursors": {"before": "QVFI3", "after": "QVFI4"}}}
    assert wire.next_cursor(middle) == "QVFI2"
    assert wire.next_cursor(last) is None
    assert wire.next_cursor({"data": []}) is None
