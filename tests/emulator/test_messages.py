"""Sends in Meta's format: every message kind accepted with Meta's exact response, the
24 h window enforced, statuses and replies played as signed webhooks."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.emulator.conftest import (
    CUSTOMER,
    CUSTOMER_WA_ID,
    PHONE_NUMBER_ID,
    Emulator,
    details,
)

KINDS: dict[str, dict[str, Any]] = {
    "text with preview": {"type": "text", "text": {"body": "See https://example.com", "preview_url": True}},
    "image by link": {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "A photo"}},
    "image by id": {"type": "image", "image": {"id": "1479537139650973"}},
    "video by link": {"type": "video", "video": {"link": "https://example.com/a.mp4"}},
    "audio by id": {"type": "audio", "audio": {"id": "1013859600285441"}},
    "document by link": {
        "type": "document",
        "document": {"link": "https://example.com/a.pdf", "filename": "invoice.pdf", "caption": "Invoice"},
    },
    "sticker by id": {"type": "sticker", "sticker": {"id": "798882015472548"}},
    "reply buttons": {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Your order"},
            "body": {"text": "Shall we deliver tomorrow?"},
            "footer": {"text": "Reply with a button"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "no", "title": "No"}},
                    {"type": "reply", "reply": {"id": "later", "title": "Later"}},
                ]
            },
        },
    },
    "list": {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Pick a delivery slot"},
            "action": {
                "button": "Slots",
                "sections": [
                    {"title": "Morning", "rows": [{"id": "m1", "title": "9-10", "description": "Early"}]},
                    {"title": "Evening", "rows": [{"id": "e1", "title": "18-19"}]},
                ],
            },
        },
    },
    "cta url": {
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": "Track your parcel"},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": "Track", "url": "https://example.com/t"},
            },
        },
    },
    "reaction": {
        "type": "reaction",
        "reaction": {
            "message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA",
            "emoji": "👍",
        },
    },
    "location": {
        "type": "location",
        "location": {"latitude": 6.4541, "longitude": 3.3947, "name": "Shop", "address": "1 Marina, Lagos"},
    },
    "contacts": {
        "type": "contacts",
        "contacts": [
            {
                "name": {"formatted_name": "Ada Obi", "first_name": "Ada"},
                "phones": [{"phone": "+2348000000000"}],
            }
        ],
    },
    "reply context": {
        "type": "text",
        "text": {"body": "Answering your question"},
        "context": {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="},
    },
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_message_kind_is_accepted_with_metas_response(emulator: Emulator, kind: str) -> None:
    await emulator.customer_writes()
    response = await emulator.send(to=CUSTOMER, **KINDS[kind])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER_WA_ID}]
    [message] = body["messages"]
    assert message["id"].startswith("wamid.")
    assert message["message_status"] == "accepted"
    listing = (await emulator.control.get("/_emulator/messages")).json()
    assert [(m["id"], m["type"]) for m in listing["outbound"]] == [(message["id"], KINDS[kind]["type"])]


async def test_free_form_outside_the_window_is_131047_until_the_customer_writes(emulator: Emulator) -> None:
    refused = await emulator.send()
    assert "24 hours" in details(refused, 131047)
    assert refused.json()["error"]["message"] == "(#131047) Re-engagement message"

    inbound = await emulator.customer_writes(CUSTOMER, "Where is my order?", name="Ada")
    assert inbound["wa_id"] == CUSTOMER_WA_ID
    webhook = await emulator.receiver.wait_for("messages", lambda v: "messages" in v)
    assert webhook["contacts"] == [{"profile": {"name": "Ada"}, "wa_id": CUSTOMER_WA_ID}]
    [message] = webhook["messages"]
    assert message == {
        "from": CUSTOMER_WA_ID,
        "id": inbound["id"],
        "timestamp": message["timestamp"],
        "type": "text",
        "text": {"body": "Where is my order?"},
    }
    assert webhook["metadata"]["phone_number_id"] == PHONE_NUMBER_ID

    assert (await emulator.send()).status_code == 200


async def test_the_window_runs_24_hours_from_the_customers_own_message_time(emulator: Emulator) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=25)
    await emulator.customer_writes(timestamp=long_ago.isoformat())
    details(await emulator.send(), 131047)

    recent = datetime.now(UTC) - timedelta(hours=23)
    answer = await emulator.customer_writes(timestamp=int(recent.timestamp()))
    assert datetime.fromisoformat(answer["window_expires_at"]) > datetime.now(UTC)
    assert (await emulator.send()).status_code == 200


async def test_statuses_arrive_sent_delivered_read_with_pricing_and_callback_data(emulator: Emulator) -> None:
    await emulator.customer_writes()
    response = await emulator.send(biz_opaque_callback_data="msg_123")
    message_id = response.json()["messages"][0]["id"]

    statuses = await emulator.receiver.wait_for_statuses(message_id, ["sent", "delivered", "read"])
    for status in statuses:
        assert status["recipient_id"] == CUSTOMER_WA_ID
        assert status["biz_opaque_callback_data"] == "msg_123"
        assert int(status["timestamp"]) > 0
        assert status["pricing"] == {
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
            "billable": False,
        }
        assert status["conversation"]["origin"] == {"type": "service"}
    assert "expiration_timestamp" in statuses[0]["conversation"]
    assert emulator.receiver.bad_signatures == 0


async def test_graph_v24_and_later_status_webhooks_carry_no_conversation(emulator: Emulator) -> None:
    await emulator.customer_writes()
    response = await emulator.control.post(
        f"/v24.0/{PHONE_NUMBER_ID}/messages",
        headers=emulator.graph.headers,
        json={"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "Hi"}},
    )
    message_id = response.json()["messages"][0]["id"]
    statuses = await emulator.receiver.wait_for_statuses(message_id, ["sent", "delivered", "read"])
    assert all("conversation" not in s and s["pricing"]["pricing_model"] == "PMP" for s in statuses)


async def test_a_customer_from_an_ad_gets_free_entry_point_pricing(emulator: Emulator) -> None:
    referral = {"source_url": "https://fb.me/ad", "source_type": "ad", "source_id": "120", "ctwa_clid": "abc"}
    inbound = await emulator.customer_writes(referral=referral)
    webhook = await emulator.receiver.wait_for("messages", lambda v: "messages" in v)
    assert webhook["messages"][0]["referral"] == referral
    assert webhook["messages"][0]["id"] == inbound["id"]

    message_id = (await emulator.send()).json()["messages"][0]["id"]
    statuses = await emulator.receiver.wait_for_statuses(message_id, ["sent", "delivered", "read"])
    assert {s["pricing"]["type"] for s in statuses} == {"free_entry_point"}


async def test_an_undeliverable_recipient_fails_by_webhook_with_131026_after_a_200(
    emulator: Emulator,
) -> None:
    recipient = "+2348012340001"
    await emulator.customer_writes(recipient)
    response = await emulator.send(recipient)
    assert response.status_code == 200, response.text
    message_id = response.json()["messages"][0]["id"]

    [failed] = await emulator.receiver.wait_for_statuses(message_id, ["failed"])
    [error] = failed["errors"]
    assert error["code"] == 131026
    assert error["title"] == "Message undeliverable"
    assert error["error_data"]["details"]
    assert "pricing" not in failed


async def test_a_recipient_ending_0002_is_delivered_but_never_read(emulator: Emulator) -> None:
    recipient = "+2348012340002"
    for number in (recipient, CUSTOMER):
        await emulator.customer_writes(number)
    never_read = (await emulator.send(recipient)).json()["messages"][0]["id"]
    read = (await emulator.send(CUSTOMER)).json()["messages"][0]["id"]
    await emulator.receiver.wait_for_statuses(read, ["sent", "delivered", "read"])
    assert [s["status"] for s in emulator.receiver.statuses(never_read)] == ["sent", "delivered"]


async def test_a_recipient_ending_0003_replies_stop_after_delivery(emulator: Emulator) -> None:
    recipient = "+2348012340003"
    await emulator.customer_writes(recipient, "Hello")
    message_id = (await emulator.send(recipient)).json()["messages"][0]["id"]
    await emulator.receiver.wait_for_statuses(message_id, ["sent", "delivered"])
    reply = await emulator.receiver.wait_for(
        "messages", lambda v: any(m.get("text", {}).get("body") == "STOP" for m in v.get("messages", []))
    )
    assert reply["messages"][0]["from"] == "2348012340003"
    assert reply["contacts"][0]["wa_id"] == "2348012340003"


async def test_mark_as_read_answers_success_for_a_customer_message(emulator: Emulator) -> None:
    inbound = await emulator.customer_writes()
    response = await emulator.graph.post(
        f"/{PHONE_NUMBER_ID}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": inbound["id"]},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    listing = (await emulator.control.get("/_emulator/messages")).json()
    assert listing["inbound"][0]["read"] is True

    unknown = await emulator.graph.post(
        f"/{PHONE_NUMBER_ID}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"},
    )
    assert "message_id" in details(unknown)


async def test_with_status_webhooks_off_a_send_gets_no_statuses_but_a_scripted_reply_still_comes(
    start_emulator: Any,
) -> None:
    emulator: Emulator = await start_emulator(status_webhooks=False)
    recipient = "+2348012340003"
    await emulator.customer_writes(recipient, "Hello")
    message_id = (await emulator.send(recipient)).json()["messages"][0]["id"]
    await emulator.receiver.wait_for(
        "messages", lambda v: any(m.get("text", {}).get("body") == "STOP" for m in v.get("messages", []))
    )  # the reply is the script's last step: statuses would have come before it
    assert emulator.receiver.statuses(message_id) == []
    listing = (await emulator.control.get("/_emulator/messages")).json()
    assert listing["outbound"][0]["statuses"] == []
