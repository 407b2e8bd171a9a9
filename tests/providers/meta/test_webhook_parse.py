"""Meta webhook bodies → provider-neutral events (the parser alone, no I/O)."""

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from omniroute.providers.events import (
    AccountNotice,
    ChannelQualityUpdate,
    InboundMessage,
    StatusUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateReview,
)
from omniroute.providers.meta.webhook import parse
from tests.providers.meta import payloads as p

AT = 1731705721
WHEN = datetime.fromtimestamp(AT, UTC)


def only(payload: dict[str, Any]) -> Any:
    [parsed] = parse(payload)
    return parsed.event


def inbound(kind: str, body: dict[str, Any] | None = None, **extra: Any) -> InboundMessage:
    event = only(
        p.envelope(
            "messages", p.messages_value(messages=[p.inbound(kind, body, wamid="wamid.IN", at=AT, **extra)])
        )
    )
    assert isinstance(event, InboundMessage)
    assert (event.provider_message_id, event.sender, event.timestamp) == ("wamid.IN", "+2348012345678", WHEN)
    assert event.content_type == kind
    assert event.profile_name == "Ada Obi"
    return event


def test_text() -> None:
    assert inbound("text", {"body": "Where is my order?"}).content == {"body": "Where is my order?"}


@pytest.mark.parametrize(
    ("kind", "media"),
    [
        (
            "image",
            {"caption": "Broken box", "mime_type": "image/jpeg", "sha256": "abc=", "id": "1003383421387256"},
        ),
        ("video", {"mime_type": "video/mp4", "sha256": "abc=", "id": "1003383421387257"}),
        (
            "audio",
            {
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "abc=",
                "id": "1003383421387258",
                "voice": True,
            },
        ),
        (
            "document",
            {
                "filename": "receipt.pdf",
                "mime_type": "application/pdf",
                "sha256": "abc=",
                "id": "1003383421387259",
            },
        ),
        (
            "sticker",
            {"mime_type": "image/webp", "sha256": "abc=", "id": "1003383421387260", "animated": False},
        ),
    ],
)
def test_media_keeps_meta_fields_with_the_id_as_media_id(kind: str, media: dict[str, Any]) -> None:
    content = inbound(kind, media).content
    expected = {k: v for k, v in media.items() if k != "id"} | {"media_id": media["id"]}
    assert content == expected


def test_location() -> None:
    location = {"latitude": 6.43, "longitude": 3.42, "name": "Home", "address": "2 Marina"}
    assert inbound("location", location).content == location


def test_contacts() -> None:
    cards = [
        {
            "name": {"formatted_name": "Chidi Obi", "first_name": "Chidi"},
            "phones": [{"phone": "+234 801 000 0000", "type": "CELL"}],
        }
    ]
    assert inbound("contacts", None, contacts=cards).content == {"contacts": cards}


@pytest.mark.parametrize(
    "interactive",
    [
        {"type": "button_reply", "button_reply": {"id": "today", "title": "Today"}},
        {"type": "list_reply", "list_reply": {"id": "9", "title": "9:00", "description": "Early"}},
        {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": '{"flow_token": "t"}'},
        },
    ],
)
def test_interactive_replies(interactive: dict[str, Any]) -> None:
    context = {"from": p.DISPLAY_NUMBER, "id": "wamid.OURS"}
    content = inbound("interactive", interactive, context=context).content
    assert content == {**interactive, "context": context}


def test_template_quick_reply_button() -> None:
    context = {"from": p.DISPLAY_NUMBER, "id": "wamid.TEMPLATE"}
    content = inbound("button", {"text": "Stop promotions", "payload": "STOP"}, context=context).content
    assert content == {"text": "Stop promotions", "payload": "STOP", "context": context}


def test_reaction() -> None:
    assert inbound("reaction", {"message_id": "wamid.OURS", "emoji": "❤️"}).content == {
        "message_id": "wamid.OURS",
        "emoji": "❤️",
    }


def test_order() -> None:
    order = {
        "catalog_id": "7895",
        "text": "Please deliver fast",
        "product_items": [
            {"product_retailer_id": "sku-1", "quantity": 2, "item_price": 10, "currency": "USD"}
        ],
    }
    assert inbound("order", order).content == order


def test_system_number_change() -> None:
    system = {"body": "Ada changed her number", "wa_id": "2348099999999", "type": "user_changed_number"}
    assert inbound("system", system).content == system


def test_unsupported_keeps_meta_errors() -> None:
    errors = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "error_data": {"details": "Message type is not currently supported"},
        }
    ]
    assert inbound("unsupported", None, errors=errors).content == {"errors": errors}


def test_referral_from_an_ad() -> None:
    event = inbound("text", {"body": "Is this still available?"}, referral=p.AD_REFERRAL)
    assert event.referral == p.AD_REFERRAL


def test_unknown_kind_is_kept_raw_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        event = inbound("hologram", {"shape": "cube"})
    assert event.content == {"type": "hologram", "hologram": {"shape": "cube"}}
    assert any(r.levelno == logging.WARNING and "hologram" in r.getMessage() for r in caplog.records)


def test_status_with_pricing_conversation_and_our_id() -> None:
    event = only(p.status_payload("delivered", wamid="wamid.OUT", ours="msg_1", at=AT, pricing=p.PRICING))
    assert event == StatusUpdate(
        provider_message_id="wamid.OUT",
        status="delivered",
        timestamp=WHEN,
        recipient="+2348012345678",
        client_reference="msg_1",
        pricing={**p.PRICING, "conversation": p.CONVERSATION},
    )


def test_failed_status_carries_the_classified_error() -> None:
    event = only(p.status_payload("failed", wamid="wamid.OUT", errors=[p.UNDELIVERABLE]))
    assert isinstance(event, StatusUpdate) and event.error is not None
    assert (event.error.code, event.error.provider_code, event.error.message) == (
        "undeliverable",
        131026,
        "Message Undeliverable.",
    )


def test_several_statuses_and_messages_in_one_change_all_parse() -> None:
    value = p.messages_value(
        statuses=[p.status("sent", wamid="wamid.A"), p.status("read", wamid="wamid.B")],
        messages=[p.inbound("text", {"body": "hi"}, wamid="wamid.C")],
    )
    parsed = parse(p.envelope("messages", value))
    assert [type(item.event).__name__ for item in parsed] == [
        "StatusUpdate",
        "StatusUpdate",
        "InboundMessage",
    ]
    assert {item.phone_number_id for item in parsed} == {p.PHONE_NUMBER_ID}


def test_template_status_update() -> None:
    assert only(p.envelope("message_template_status_update", p.TEMPLATE_REJECTED, at=AT)) == TemplateReview(
        provider_template_id="594425479261596",
        name="order_update",
        language="en_US",
        status="REJECTED",
        reason="INCORRECT_CATEGORY",
        timestamp=WHEN,
    )
    approved = only(p.envelope("message_template_status_update", p.TEMPLATE_APPROVED))
    assert (approved.status, approved.reason) == ("APPROVED", None)


def test_a_rejection_keeps_the_explanation_meta_gives() -> None:
    value = {
        **p.TEMPLATE_REJECTED,
        "reason": "INVALID_FORMAT",
        "rejection_info": {
            "reason": "Variables can't be at the start or end of the template.",
            "recommendation": "Add text around the variables.",
        },
    }
    rejected = only(p.envelope("message_template_status_update", value))
    assert rejected.reason == "INVALID_FORMAT: Variables can't be at the start or end of the template."


def test_category_change_announced_a_day_ahead() -> None:
    assert only(
        p.envelope("template_category_update", p.CATEGORY_ANNOUNCED, at=AT)
    ) == TemplateCategoryUpdate(
        provider_template_id="594425479261596",
        name="order_update",
        language="en_US",
        previous_category="UTILITY",
        new_category="MARKETING",
        stage="announced",
        timestamp=WHEN,
    )


def test_category_change_completed() -> None:
    event = only(p.envelope("template_category_update", p.CATEGORY_COMPLETED))
    assert isinstance(event, TemplateCategoryUpdate)
    assert (event.previous_category, event.new_category, event.stage) == ("UTILITY", "MARKETING", "completed")


def test_template_quality_update() -> None:
    assert only(
        p.envelope("message_template_quality_update", p.TEMPLATE_QUALITY, at=AT)
    ) == TemplateQualityUpdate(
        provider_template_id="594425479261596",
        name="order_update",
        language="en_US",
        previous_score="GREEN",
        new_score="YELLOW",
        timestamp=WHEN,
    )


def test_number_flagged_lowers_quality() -> None:
    assert only(p.envelope("phone_number_quality_update", p.NUMBER_FLAGGED, at=AT)) == ChannelQualityUpdate(
        event="FLAGGED", quality_rating="RED", messaging_tier="TIER_10K", timestamp=WHEN
    )


def test_tier_upgrade_changes_only_the_tier() -> None:
    event = only(p.envelope("phone_number_quality_update", p.NUMBER_UPGRADED))
    assert (event.event, event.quality_rating, event.messaging_tier) == ("UPGRADE", None, "TIER_10K")


def test_a_throughput_upgrade_raises_the_numbers_throughput() -> None:
    event = only(p.envelope("phone_number_quality_update", p.NUMBER_THROUGHPUT_UPGRADED))
    assert (event.event, event.throughput_per_second, event.messaging_tier) == (
        "THROUGHPUT_UPGRADE",
        1000,
        "TIER_UNLIMITED",
    )
    assert only(p.envelope("phone_number_quality_update", p.NUMBER_UPGRADED)).throughput_per_second is None


def test_newer_limit_names_are_understood() -> None:
    value = {
        "display_phone_number": p.DISPLAY_NUMBER,
        "event": "UPGRADE",
        "max_daily_conversations_per_business": "100K",
    }
    assert only(p.envelope("phone_number_quality_update", value)).messaging_tier == "TIER_100K"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("business_capability_update", p.CAPABILITY),
        ("account_update", p.ACCOUNT_UPDATE),
        ("user_preferences", p.USER_PREFERENCES),
    ],
)
def test_account_level_notices_are_kept(
    field: str, value: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert only(p.envelope(field, value, at=AT)) == AccountNotice(
            field=field, value=value, timestamp=WHEN
        )
    assert not caplog.records


def test_unknown_field_is_kept_raw_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        event = only(p.envelope("security", {"event": "PIN_CHANGED"}, at=AT))
    assert event == AccountNotice(field="security", value={"event": "PIN_CHANGED"}, timestamp=WHEN)
    assert any(r.levelno == logging.WARNING and "security" in r.getMessage() for r in caplog.records)


def test_a_malformed_change_is_kept_raw_and_the_rest_still_parse(caplog: pytest.LogCaptureFixture) -> None:
    payload = p.envelope("message_template_status_update", {"event": "APPROVED"})
    payload["entry"][0]["changes"].append({"field": "account_update", "value": p.ACCOUNT_UPDATE})
    with caplog.at_level(logging.WARNING):
        first, second = (item.event for item in parse(payload))
    assert first == AccountNotice(
        field="message_template_status_update", value={"event": "APPROVED"}, timestamp=first.timestamp
    )
    assert isinstance(second, AccountNotice) and second.field == "account_update"
    assert any(r.levelno == logging.WARNING for r in caplog.records)
