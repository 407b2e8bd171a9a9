"""The real ``meta`` adapter and webhook against the Graph API emulator, over HTTP: the
credentials check, the webhook loop (a customer writes, we answer, statuses come back),
every message kind in Meta's shape, and a send whose response was lost."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import CUSTOMER, assert_error, ts
from tests.providers.meta.emulated import Emulated, StartEmulated
from tests.providers.meta.live import ACCESS_TOKEN
from tests.providers.meta.payloads import AD_REFERRAL

CARD = {"name": {"formatted_name": "Ada Obi"}, "phones": [{"phone": "+2348012345679", "type": "WORK"}]}

BUTTONS = {
    "type": "button",
    "body": {"text": "Did the parcel arrive?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "no", "title": "Not yet"}},
        ]
    },
}

LIST = {
    "type": "list",
    "header": {"type": "text", "text": "Delivery slots"},
    "body": {"text": "Pick a slot for tomorrow."},
    "footer": {"text": "Times are local."},
    "action": {
        "button": "Choose",
        "sections": [
            {"title": "Morning", "rows": [{"id": "m1", "title": "9-11", "description": "Before noon"}]},
            {"title": "Afternoon", "rows": [{"id": "a1", "title": "14-16"}, {"id": "a2", "title": "16-18"}]},
        ],
    },
}

EVERY_KIND: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # (what we are asked to send, what Meta must receive under the message's type)
    (
        {"text": {"body": "Track it: https://x.test/t/1"}},
        {"body": "Track it: https://x.test/t/1", "preview_url": False},
    ),
    (
        {"text": {"body": "Track it: https://x.test/t/1", "preview_url": True}},
        {"body": "Track it: https://x.test/t/1", "preview_url": True},
    ),
    (
        {"image": {"link": "https://x.test/r.jpg", "caption": "Receipt"}},
        {"link": "https://x.test/r.jpg", "caption": "Receipt"},
    ),
    ({"image": {"media_id": "1013859600285441"}}, {"id": "1013859600285441"}),
    (
        {"video": {"link": "https://x.test/v.mp4", "caption": "How to"}},
        {"link": "https://x.test/v.mp4", "caption": "How to"},
    ),
    ({"video": {"media_id": "1166846181421424"}}, {"id": "1166846181421424"}),
    ({"audio": {"link": "https://x.test/a.ogg"}}, {"link": "https://x.test/a.ogg"}),
    ({"audio": {"media_id": "1013859600285442"}}, {"id": "1013859600285442"}),
    (
        {"document": {"link": "https://x.test/i.pdf", "caption": "Invoice", "filename": "invoice.pdf"}},
        {"link": "https://x.test/i.pdf", "caption": "Invoice", "filename": "invoice.pdf"},
    ),
    (
        {"document": {"media_id": "1376223850470843", "filename": "terms.pdf"}},
        {"id": "1376223850470843", "filename": "terms.pdf"},
    ),
    ({"sticker": {"link": "https://x.test/s.webp"}}, {"link": "https://x.test/s.webp"}),
    ({"sticker": {"media_id": "798882015472548"}}, {"id": "798882015472548"}),
    ({"interactive": BUTTONS}, BUTTONS),
    ({"interactive": LIST}, LIST),
    (
        {
            "location": {
                "latitude": 6.4281,
                "longitude": 3.4219,
                "name": "Depot",
                "address": "1 Marina, Lagos",
            }
        },
        {"latitude": 6.4281, "longitude": 3.4219, "name": "Depot", "address": "1 Marina, Lagos"},
    ),
]


async def test_the_credentials_check_reaches_the_graph_api(emulated: Emulated) -> None:
    response = await emulated.api.test.post(f"/v1/channels/{emulated.channel_id}/check")
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["result"] == "ok", check
    assert check["channel"]["status"] == "active"


async def test_a_wrong_access_token_rejects_the_credentials_until_fixed(
    start_emulated: StartEmulated,
) -> None:
    emulated = await start_emulated(channel_config={"access_token": "EAAGexpiredtoken"})
    await emulated.customer_writes()
    channel_url = f"/v1/channels/{emulated.channel_id}"

    check = (await emulated.api.test.post(f"{channel_url}/check")).json()
    assert (check["result"], check["provider_code"]) == ("credentials_rejected", 190), check
    assert check["channel"]["status"] == "credentials_rejected"
    error = assert_error(await emulated.api.send(), 409, "channel_unavailable", param="channel_id")
    assert "rejected the credentials" in error["message"]

    fixed = await emulated.api.test.patch(channel_url, json={"config": {"access_token": ACCESS_TOKEN}})
    assert fixed.status_code == 200, fixed.text
    assert (await emulated.api.test.post(f"{channel_url}/check")).json()["channel"]["status"] == "active"
    message = await emulated.sent()
    await emulated.api.wait_for(message["id"], "read")


async def test_a_send_refused_for_the_token_fails_and_marks_the_channel(
    start_emulated: StartEmulated,
) -> None:
    emulated = await start_emulated(channel_config={"access_token": "EAAGexpiredtoken"})
    await emulated.customer_writes()
    message = await emulated.sent()

    failed = await emulated.api.wait_for(message["id"], "failed")
    assert failed["error"]["code"] == "channel_unavailable"
    assert failed["error"]["provider_code"] == 190
    assert failed["attempts"] == 1
    channel = (await emulated.api.test.get(f"/v1/channels/{emulated.channel_id}")).json()
    assert channel["status"] == "credentials_rejected"
    assert_error(await emulated.api.send(), 409, "channel_unavailable")


async def test_a_customer_message_opens_the_window_and_our_reply_is_read(emulated: Emulated) -> None:
    assert (await emulated.api.window())["state"] == "closed"

    inbound = await emulated.customer_writes(text="Where is my parcel?", name="Ada Obi")
    assert (inbound["direction"], inbound["from"], inbound["status"]) == ("inbound", CUSTOMER, "received")
    assert inbound["text"] == {"body": "Where is my parcel?"}
    window = await emulated.api.window()
    assert window["state"] == "open"
    assert ts(window["last_inbound_at"]) == ts(inbound["created_at"])
    assert ts(window["expires_at"]) == ts(inbound["created_at"]) + timedelta(hours=24)
    contact = (await emulated.api.test.get(f"/v1/contacts/{inbound['contact_id']}")).json()
    assert contact["name"] == "Ada Obi"

    reply = await emulated.sent(text={"body": "It arrives tomorrow."})
    read = await emulated.api.wait_for(reply["id"], "read")
    assert [change["status"] for change in read["status_history"]] == [
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
    ]
    [outbound] = (await emulated.recorded())["outbound"]
    assert outbound["id"] == read["provider_message_id"]
    assert outbound["statuses"] == ["sent", "delivered", "read"]
    assert {key: read["pricing"][key] for key in outbound["pricing"]} == outbound["pricing"]
    assert outbound["pricing"]["category"] == "service"
    assert read["pricing"]["cost"] == {"amount": "0", "currency": "USD"}


async def test_an_ad_referral_opens_the_free_entry_point(emulated: Emulated) -> None:
    inbound = await emulated.customer_writes(text="Is this still available?", referral=AD_REFERRAL)
    assert inbound["text"]["referral"] == AD_REFERRAL
    [conversation] = (
        await emulated.api.test.get("/v1/conversations", params={"channel_id": emulated.channel_id})
    ).json()["data"]
    assert ts(conversation["entry_point"]["free_until"]) == ts(inbound["created_at"]) + timedelta(hours=72)

    reply = await emulated.sent(text={"body": "Yes, it is."})
    read = await emulated.api.wait_for(reply["id"], "read")
    assert read["pricing"]["type"] == "free_entry_point"
    assert read["pricing"]["billable"] is False


async def test_every_message_kind_is_sent_in_meta_shape(emulated: Emulated) -> None:
    await emulated.customer_writes()
    sent = [await emulated.sent(**content) for content, _ in EVERY_KIND]
    sent.append(await emulated.sent(contacts=[CARD]))

    for message, (content, expected) in zip(sent, EVERY_KIND, strict=False):
        request = await emulated.accepted_request(message["id"])
        kind = message["type"]
        assert (request["type"], request["to"], request["messaging_product"]) == (kind, CUSTOMER, "whatsapp")
        assert request[kind] == expected, (content, request)
    request = await emulated.accepted_request(sent[-1]["id"])
    assert (request["type"], request["contacts"]) == ("contacts", [CARD])


async def test_replies_and_reactions_quote_meta_ids(emulated: Emulated) -> None:
    inbound = await emulated.customer_writes(text="Can I change the address?")
    first = await emulated.sent(text={"body": "Yes: reply with the new one."})
    first = await emulated.handed_over(first["id"])

    to_customer = await emulated.sent(text={"body": "Noted."}, reply_to=inbound["id"])
    to_ours = await emulated.sent(text={"body": "As said above."}, reply_to=first["id"])
    by_wamid = await emulated.sent(text={"body": "See this."}, reply_to=inbound["provider_message_id"])
    reaction = await emulated.sent(reaction={"message_id": inbound["id"], "emoji": "👍"})

    quoted = {
        to_customer["id"]: inbound["provider_message_id"],
        to_ours["id"]: first["provider_message_id"],
        by_wamid["id"]: inbound["provider_message_id"],
    }
    for message_id, wamid in quoted.items():
        assert (await emulated.accepted_request(message_id))["context"] == {"message_id": wamid}
    assert (await emulated.accepted_request(reaction["id"]))["reaction"] == {
        "message_id": inbound["provider_message_id"],
        "emoji": "👍",
    }


async def test_mark_as_read_reaches_the_emulator(emulated: Emulated) -> None:
    inbound = await emulated.customer_writes()
    response = await emulated.api.test.post(f"/v1/messages/{inbound['id']}/read")
    assert response.status_code == 200, response.text
    [customer_message] = (await emulated.recorded())["inbound"]
    assert customer_message["message"]["id"] == inbound["provider_message_id"]
    assert customer_message["read"] is True


@asynccontextmanager
async def response_dropping_proxy(upstream: str) -> AsyncIterator[str]:
    """A network path that delivers each request to ``upstream`` and then breaks the
    connection instead of returning the answer: the request left, the response is lost."""
    target = urlsplit(upstream)

    async def relay(client: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(target.hostname, target.port)

        async def forward() -> None:
            while data := await client.read(65536):
                upstream_writer.write(data)
                await upstream_writer.drain()

        forwarding = asyncio.create_task(forward())
        await upstream_reader.read(1)  # upstream has answered
        forwarding.cancel()
        client_writer.close()
        upstream_writer.close()

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


async def test_a_lost_response_is_not_resent_and_the_status_webhook_settles_it(
    emulated: Emulated, caplog: pytest.LogCaptureFixture
) -> None:
    await emulated.customer_writes()
    async with response_dropping_proxy(emulated.base_url) as lossy:
        patched = await emulated.api.test.patch(
            f"/v1/channels/{emulated.channel_id}", json={"config": {"graph_base_url": lossy}}
        )
        assert patched.status_code == 200, patched.text
        message = await emulated.sent()
        read = await emulated.api.wait_for(message["id"], "read")

    assert f"message {message['id']}: send outcome unknown" in caplog.text
    assert read["attempts"] == 1
    [request] = await emulated.requests_for(message["id"])
    assert request["response"]["messages"][0]["id"] == read["provider_message_id"]
    assert [c["status"] for c in read["status_history"]] == ["queued", "sending", "sent", "delivered", "read"]
