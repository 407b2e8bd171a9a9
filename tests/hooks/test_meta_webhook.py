"""Meta's inbound webhook over real HTTP: the verification handshake, signatures over
the raw body, durable storage with duplicate detection, and every field applied after
the response (statuses, inbound kinds, referrals, quality, account notices)."""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from omniroute.core.db import Database
from omniroute.core.phone import region_of
from omniroute.events.models import Event
from omniroute.hooks.models import ProviderWebhook
from omniroute.policy.pricing import PricingCategory, rate
from tests.conftest import Tenant, assert_error, eventually, ts
from tests.providers.meta import payloads as p
from tests.providers.meta.live import VERIFY_TOKEN, MetaChannel, create_meta_channel, sign

CUSTOMER = "+" + p.CUSTOMER_WA_ID


async def stored(db: Database, channel_id: str) -> list[ProviderWebhook]:
    async with db.sessionmaker() as session:
        return list(
            await session.scalars(select(ProviderWebhook).where(ProviderWebhook.channel_id == channel_id))
        )


async def all_processed(db: Database, channel_id: str, count: int) -> list[ProviderWebhook]:
    """Wait until ``count`` deliveries are stored for the channel and all were applied."""
    rows: list[ProviderWebhook] = await eventually(
        lambda: stored(db, channel_id), lambda rows: len(rows) == count and all(r.processed_at for r in rows)
    )
    return rows


async def inbound_messages(meta: MetaChannel) -> list[dict[str, Any]]:
    response = await meta.client.get("/v1/messages", params={"channel_id": meta.id, "direction": "inbound"})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def customer_writes(
    meta: MetaChannel, db: Database, wamid: str = "wamid.IN1", **extra: Any
) -> dict[str, Any]:
    """The customer sends a text; returns the stored inbound message."""
    assert (
        await meta.deliver(p.inbound_payload("text", {"body": "Hello"}, wamid=wamid, **extra))
    ).status_code == 200
    messages = await eventually(
        lambda: inbound_messages(meta), lambda found: any(m["provider_message_id"] == wamid for m in found)
    )
    return next(m for m in messages if m["provider_message_id"] == wamid)


async def live_send(meta: MetaChannel) -> str:
    response = await meta.client.post(
        "/v1/messages",
        json={"channel_id": meta.id, "to": CUSTOMER, "text": {"body": "Your order has shipped."}},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def message(meta: MetaChannel, message_id: str) -> dict[str, Any]:
    response = await meta.client.get(f"/v1/messages/{message_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- verification handshake -------------------------------------------------------


async def test_handshake_answers_the_challenge_as_plain_text(meta: MetaChannel) -> None:
    response = await meta.hooks.get(
        meta.hook_url,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
async def test_handshake_with_a_wrong_token_or_mode_is_forbidden(
    meta: MetaChannel, params: dict[str, str]
) -> None:
    assert_error(await meta.hooks.get(meta.hook_url, params=params), 403, "verification_failed")


async def test_handshake_for_an_unknown_or_non_meta_channel_is_not_found(
    meta: MetaChannel, tenant: Tenant
) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    assert_error(await meta.hooks.get("/hooks/meta/ch_nope", params=params), 404, "resource_not_found")
    assert_error(
        await meta.hooks.get(f"/hooks/meta/{tenant.whatsapp}", params=params), 404, "resource_not_found"
    )


# --- signatures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=abc", sign(b"{}"), sign(b"x", secret="not-the-app-secret")],
    ids=["missing", "wrong", "wrong-scheme", "other-body", "other-secret"],
)
async def test_a_missing_or_bad_signature_is_refused_and_changes_nothing(
    meta: MetaChannel, db: Database, signature: str | None
) -> None:
    response = await meta.deliver(
        p.inbound_payload("text", {"body": "Hello"}, wamid="wamid.BAD"), signature=signature
    )
    assert_error(response, 401, "signature_invalid", param="X-Hub-Signature-256")
    assert await stored(db, meta.id) == []
    assert await inbound_messages(meta) == []


async def test_the_signature_is_checked_over_the_raw_bytes(meta: MetaChannel, db: Database) -> None:
    body = b'{"object": "whatsapp_business_account",  "entry": []}'  # not how json.dumps would write it
    headers = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
    response = await meta.hooks.post(meta.hook_url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    [row] = await all_processed(db, meta.id, 1)
    assert row.body == body


async def test_a_sender_hanging_up_mid_body_is_no_server_error(
    meta: MetaChannel, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    url = meta.hooks.base_url
    _, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"POST {meta.hook_url} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
        'Content-Length: 1000\r\n\r\n{"object": "whatsapp_business'.encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()

    async def noted() -> bool:
        return f"client disconnected during POST {meta.hook_url}" in caplog.text

    await eventually(noted, bool)
    assert await stored(db, meta.id) == []


# --- storage and duplicates ---------------------------------------------------------


async def test_a_duplicate_delivery_is_recognised_and_changes_nothing(
    meta: MetaChannel, db: Database
) -> None:
    payload = p.inbound_payload("text", {"body": "Hello"}, wamid="wamid.DUP")
    first = await meta.deliver(payload)
    assert first.status_code == 200
    assert first.json() == {"received": True, "duplicate": False}
    await all_processed(db, meta.id, 1)
    second = await meta.deliver(payload)
    assert second.status_code == 200
    assert second.json() == {"received": True, "duplicate": True}
    assert len(await stored(db, meta.id)) == 1
    assert len(await inbound_messages(meta)) == 1


async def test_a_signed_body_that_is_not_json_is_kept_with_its_error(
    meta: MetaChannel, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"not json at all"
    response = await meta.hooks.post(meta.hook_url, content=body, headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 200
    [row] = await all_processed(db, meta.id, 1)
    assert row.error and "unreadable body" in row.error
    assert any(r.levelno == logging.WARNING and row.id in r.getMessage() for r in caplog.records)


async def test_text_no_database_can_store_is_cleaned_not_refused(meta: MetaChannel, db: Database) -> None:
    payload = p.inbound_payload("text", {"body": "Hel\u0000lo \ud83d"}, wamid="wamid.NUL")
    body = json.dumps(payload).encode()  # ASCII, with \u0000 and a lone surrogate escaped
    response = await meta.hooks.post(meta.hook_url, content=body, headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 200
    [row] = await all_processed(db, meta.id, 1)
    assert row.body == body and row.error is None
    [received] = await inbound_messages(meta)
    assert received["text"] == {"body": "Hello \ufffd"}


async def test_a_message_from_an_unparseable_sender_is_recorded_and_skipped(
    meta: MetaChannel, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    payload = p.inbound_payload("text", {"body": "Hello"}, wamid="wamid.NOPHONE", **{"from": "not a phone"})
    assert (await meta.deliver(payload)).status_code == 200
    [row] = await all_processed(db, meta.id, 1)
    assert row.error is None
    assert await inbound_messages(meta) == []
    conversations = (await meta.client.get("/v1/conversations", params={"channel_id": meta.id})).json()
    assert conversations["data"] == []
    assert any(
        r.levelno == logging.WARNING and "wamid.NOPHONE" in r.getMessage() and "not a phone" in r.getMessage()
        for r in caplog.records
    )


# --- inbound messages -----------------------------------------------------------------


async def test_a_customer_message_opens_the_window_from_its_own_timestamp(
    meta: MetaChannel, db: Database
) -> None:
    written = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    payload = p.envelope(
        "messages",
        p.messages_value(
            messages=[p.inbound("text", {"body": "Hello"}, wamid="wamid.LATE", at=int(written.timestamp()))]
        ),
    )
    assert (await meta.deliver(payload)).status_code == 200
    await all_processed(db, meta.id, 1)
    [received] = await inbound_messages(meta)
    assert (received["type"], received["text"], received["from"], received["status"]) == (
        "text",
        {"body": "Hello"},
        CUSTOMER,
        "received",
    )
    window = (await meta.client.get(f"/v1/channels/{meta.id}/window", params={"to": CUSTOMER})).json()
    assert window["state"] == "open"
    assert ts(window["last_inbound_at"]) == written
    assert ts(window["expires_at"]) == written + timedelta(hours=24)
    contact = (await meta.client.get("/v1/contacts", params={"address": CUSTOMER})).json()["data"][0]
    assert contact["name"] == "Ada Obi"


INBOUND_KINDS: list[tuple[str, dict[str, Any] | None, dict[str, Any], Any]] = [
    (
        "image",
        {"caption": "Broken", "mime_type": "image/jpeg", "sha256": "h=", "id": "9001"},
        {},
        {"caption": "Broken", "mime_type": "image/jpeg", "sha256": "h=", "media_id": "9001"},
    ),
    (
        "video",
        {"mime_type": "video/mp4", "sha256": "h=", "id": "9002"},
        {},
        {"mime_type": "video/mp4", "sha256": "h=", "media_id": "9002"},
    ),
    (
        "audio",
        {"mime_type": "audio/ogg", "sha256": "h=", "id": "9003", "voice": True},
        {},
        {"mime_type": "audio/ogg", "sha256": "h=", "media_id": "9003", "voice": True},
    ),
    (
        "document",
        {"filename": "r.pdf", "mime_type": "application/pdf", "sha256": "h=", "id": "9004"},
        {},
        {"filename": "r.pdf", "mime_type": "application/pdf", "sha256": "h=", "media_id": "9004"},
    ),
    (
        "sticker",
        {"mime_type": "image/webp", "sha256": "h=", "id": "9005", "animated": False},
        {},
        {"mime_type": "image/webp", "sha256": "h=", "media_id": "9005", "animated": False},
    ),
    (
        "location",
        {"latitude": 6.43, "longitude": 3.42, "name": "Home"},
        {},
        {"latitude": 6.43, "longitude": 3.42, "name": "Home"},
    ),
    (
        "contacts",
        None,
        {"contacts": [{"name": {"formatted_name": "Chidi Obi"}}]},
        [{"name": {"formatted_name": "Chidi Obi"}}],
    ),
    (
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "today", "title": "Today"}},
        {},
        {"type": "button_reply", "button_reply": {"id": "today", "title": "Today"}},
    ),
    (
        "interactive",
        {"type": "list_reply", "list_reply": {"id": "9", "title": "9:00"}},
        {},
        {"type": "list_reply", "list_reply": {"id": "9", "title": "9:00"}},
    ),
    (
        "interactive",
        {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}},
        {},
        {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}},
    ),
    ("button", {"text": "Track order", "payload": "TRACK"}, {}, {"text": "Track order", "payload": "TRACK"}),
    (
        "reaction",
        {"message_id": "wamid.OURS", "emoji": "👍"},
        {},
        {"message_id": "wamid.OURS", "emoji": "👍"},
    ),
    (
        "order",
        {"catalog_id": "7895", "product_items": [{"product_retailer_id": "sku-1", "quantity": 1}]},
        {},
        {"catalog_id": "7895", "product_items": [{"product_retailer_id": "sku-1", "quantity": 1}]},
    ),
    (
        "system",
        {"body": "Number changed", "wa_id": "2348099999999", "type": "user_changed_number"},
        {},
        {"body": "Number changed", "wa_id": "2348099999999", "type": "user_changed_number"},
    ),
    (
        "unsupported",
        None,
        {"errors": [{"code": 131051, "title": "Message type unknown"}]},
        {"errors": [{"code": 131051, "title": "Message type unknown"}]},
    ),
]


@pytest.mark.parametrize(
    ("kind", "body", "extra", "shown"),
    INBOUND_KINDS,
    ids=[f"{k[0]}-{i}" for i, k in enumerate(INBOUND_KINDS)],
)
async def test_every_inbound_kind_is_stored_and_shown(
    meta: MetaChannel, db: Database, kind: str, body: dict[str, Any] | None, extra: dict[str, Any], shown: Any
) -> None:
    assert (
        await meta.deliver(p.inbound_payload(kind, body, wamid=f"wamid.{kind}", **extra))
    ).status_code == 200
    await all_processed(db, meta.id, 1)
    [received] = await inbound_messages(meta)
    assert received["type"] == kind
    assert received[kind] == shown
    window = (await meta.client.get(f"/v1/channels/{meta.id}/window", params={"to": CUSTOMER})).json()
    assert window["state"] == "open"


async def test_a_reply_keeps_the_message_it_quotes(meta: MetaChannel, db: Database) -> None:
    context = {"from": p.DISPLAY_NUMBER, "id": "wamid.QUOTED"}
    received = await customer_writes(meta, db, "wamid.REPLY", context=context)
    assert received["text"] == {"body": "Hello", "context": context}


async def test_a_referral_from_an_ad_opens_the_free_entry_point(meta: MetaChannel, db: Database) -> None:
    received = await customer_writes(meta, db, "wamid.AD", referral=p.AD_REFERRAL)
    assert received["text"]["referral"] == p.AD_REFERRAL
    [conversation] = (await meta.client.get("/v1/conversations", params={"channel_id": meta.id})).json()[
        "data"
    ]
    free_until = conversation["entry_point"]["free_until"]
    assert free_until is not None
    assert ts(free_until) == ts(received["created_at"]) + timedelta(hours=72)


async def test_stop_opts_the_customer_out(meta: MetaChannel, db: Database) -> None:
    assert (
        await meta.deliver(p.inbound_payload("text", {"body": "STOP"}, wamid="wamid.STOP"))
    ).status_code == 200
    await all_processed(db, meta.id, 1)
    response = await meta.client.post(
        "/v1/messages", json={"channel_id": meta.id, "to": CUSTOMER, "text": {"body": "One more thing"}}
    )
    assert_error(response, 409, "recipient_opted_out")


async def test_messages_for_another_number_of_the_app_reach_that_channel(
    meta: MetaChannel, db: Database, tenant: Tenant
) -> None:
    other = await create_meta_channel(tenant.live, meta.hooks, phone_number_id="106540352240000")
    payload = p.envelope(
        "messages",
        p.messages_value(
            messages=[p.inbound("text", {"body": "Hi"}, wamid="wamid.OTHER")],
            phone_number_id="106540352240000",
        ),
    )
    assert (await meta.deliver(payload)).status_code == 200
    await all_processed(db, meta.id, 1)
    assert await inbound_messages(meta) == []
    [received] = await inbound_messages(other)
    assert received["provider_message_id"] == "wamid.OTHER"


# --- statuses -------------------------------------------------------------------------


async def test_statuses_carry_our_id_pricing_and_never_go_backwards(meta: MetaChannel, db: Database) -> None:
    await customer_writes(meta, db)
    message_id = await live_send(meta)
    # Meta is unreachable here, so no send response ever gave us a wamid: the statuses
    # are matched by biz_opaque_callback_data, our message id.
    read_payload = p.status_payload("read", wamid="wamid.OUT1", ours=message_id)
    delivered = p.status_payload("delivered", wamid="wamid.OUT1", ours=message_id, pricing=p.PRICING)
    assert (await meta.deliver(read_payload)).status_code == 200
    await all_processed(db, meta.id, 2)
    assert (await meta.deliver(delivered)).status_code == 200
    await all_processed(db, meta.id, 3)
    sent = await message(meta, message_id)
    assert sent["status"] == "read"
    assert sent["provider_message_id"] == "wamid.OUT1"
    amount, currency = rate(region_of(CUSTOMER), PricingCategory.UTILITY, datetime.now(UTC).date())
    assert sent["pricing"] == {
        **p.PRICING,
        "conversation": p.CONVERSATION,
        "cost": {"amount": str(amount), "currency": currency},
    }
    statuses = [change["status"] for change in sent["status_history"]]
    assert statuses[-1] == "read" and "delivered" not in statuses


async def test_a_failed_status_keeps_meta_code(meta: MetaChannel, db: Database) -> None:
    await customer_writes(meta, db)
    message_id = await live_send(meta)
    failed = p.status_payload("failed", wamid="wamid.OUT2", ours=message_id, errors=[p.UNDELIVERABLE])
    assert (await meta.deliver(failed)).status_code == 200
    await all_processed(db, meta.id, 2)
    sent = await message(meta, message_id)
    assert sent["status"] == "failed"
    assert sent["error"] == {
        "code": "undeliverable",
        "message": "Message Undeliverable.",
        "provider_code": 131026,
    }


async def test_a_status_for_an_unknown_message_changes_nothing(meta: MetaChannel, db: Database) -> None:
    assert (await meta.deliver(p.status_payload("delivered", wamid="wamid.NOBODY"))).status_code == 200
    [row] = await all_processed(db, meta.id, 1)
    assert row.error is None


# --- account-level fields -------------------------------------------------------------


async def test_a_quality_update_changes_the_channel_and_records_an_event(
    meta: MetaChannel, db: Database
) -> None:
    assert (
        await meta.deliver(p.envelope("phone_number_quality_update", p.NUMBER_FLAGGED))
    ).status_code == 200
    await all_processed(db, meta.id, 1)
    channel = (await meta.client.get(f"/v1/channels/{meta.id}")).json()
    assert (channel["quality_rating"], channel["messaging_tier"]) == ("RED", "TIER_10K")
    async with db.sessionmaker() as session:
        [event] = await session.scalars(select(Event).where(Event.channel_id == meta.id))
    assert event.type == "channel.quality_updated"
    assert event.data["event"] == "FLAGGED"
    assert event.data["channel"]["quality_rating"] == "RED"
    assert event.mode == "live"


async def test_a_tier_upgrade_keeps_the_quality_rating(meta: MetaChannel, db: Database) -> None:
    assert (
        await meta.deliver(p.envelope("phone_number_quality_update", p.NUMBER_UPGRADED))
    ).status_code == 200
    await all_processed(db, meta.id, 1)
    channel = (await meta.client.get(f"/v1/channels/{meta.id}")).json()
    assert (channel["quality_rating"], channel["messaging_tier"]) == ("GREEN", "TIER_10K")


async def test_a_throughput_upgrade_raises_the_channels_throughput(meta: MetaChannel, db: Database) -> None:
    before = (await meta.client.get(f"/v1/channels/{meta.id}")).json()
    assert before["throughput_per_second"] == 80
    delivered = await meta.deliver(p.envelope("phone_number_quality_update", p.NUMBER_THROUGHPUT_UPGRADED))
    assert delivered.status_code == 200
    await all_processed(db, meta.id, 1)
    channel = (await meta.client.get(f"/v1/channels/{meta.id}")).json()
    assert (channel["throughput_per_second"], channel["messaging_tier"]) == (1000, "TIER_UNLIMITED")
    assert channel["quality_rating"] == before["quality_rating"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message_template_status_update", p.TEMPLATE_APPROVED),
        ("template_category_update", p.CATEGORY_ANNOUNCED),
        ("template_category_update", p.CATEGORY_COMPLETED),
        ("message_template_quality_update", p.TEMPLATE_QUALITY),
        ("business_capability_update", p.CAPABILITY),
        ("account_update", p.ACCOUNT_UPDATE),
        ("user_preferences", p.USER_PREFERENCES),
    ],
)
async def test_template_and_account_fields_are_accepted_and_applied(
    meta: MetaChannel, db: Database, field: str, value: dict[str, Any]
) -> None:
    assert (await meta.deliver(p.envelope(field, value))).status_code == 200
    [row] = await all_processed(db, meta.id, 1)
    assert row.error is None


async def test_an_unknown_field_is_kept_raw_and_logged(
    meta: MetaChannel, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    payload = p.envelope("security", {"display_phone_number": p.DISPLAY_NUMBER, "event": "PIN_CHANGED"})
    response = await meta.deliver(payload)
    assert response.status_code == 200
    [row] = await all_processed(db, meta.id, 1)
    assert b'"security"' in row.body and b"PIN_CHANGED" in row.body
    assert any(r.levelno == logging.WARNING and "security" in r.getMessage() for r in caplog.records)
