"""The public visitor API: a page on an allowed origin opens a session, the visitor
writes (the business gets ``message.received``), and reads only its own conversation."""

import httpx
from sqlalchemy import select

from omniroute.core.db import Database
from omniroute.webchat.models import Visitor as VisitorRow
from tests.conftest import Tenant, assert_error, eventually
from tests.webchat.conftest import SHOP, Visitor, create_web_channel, reply, sandbox_web_channel


async def test_a_visitor_session_is_a_visitor_id_and_a_token_stored_only_hashed(
    tenant: Tenant, page: httpx.AsyncClient, db: Database
) -> None:
    channel = await create_web_channel(tenant)
    response = await page.post(
        "/widget/v1/sessions",
        params={"key": channel["public_key"]},
        json={"public_key": channel["public_key"], "visitor": {"name": "Ada", "email": "ada@example.com"}},
        headers={"Origin": SHOP},
    )
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == SHOP
    session = response.json()
    assert session["visitor_id"].startswith("vis_") and session["token"].startswith("vt_")
    async with db.sessionmaker() as db_session:
        row = await db_session.get(VisitorRow, session["visitor_id"])
        assert row is not None and row.origin == SHOP and row.name == "Ada"
        assert row.token_hash != session["token"] and session["token"] not in row.token_hash
        tokens = (await db_session.scalars(select(VisitorRow.token_hash))).all()
    assert all(session["token"] not in stored for stored in tokens)


async def test_the_widget_config_is_public_for_allowed_origins(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await create_web_channel(tenant, title="Ada's shop", color="#112233")
    response = await page.get(
        "/widget/v1/config", params={"key": channel["public_key"]}, headers={"Origin": SHOP}
    )
    assert response.status_code == 200, response.text
    config = response.json()
    assert (config["title"], config["color"], config["greeting"]) == (
        "Ada's shop",
        "#112233",
        "Hi! How can we help?",
    )
    assert config["vapid_public_key"] == channel["vapid_public_key"]
    assert "vapid_private_key" not in response.text


async def test_other_origins_are_refused_without_cors_headers(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await create_web_channel(tenant)
    key = channel["public_key"]
    for origin, code in (
        ("https://evil.example", "origin_forbidden"),
        ("https://shop.example.com:8443", "origin_forbidden"),
        (None, "origin_required"),
    ):
        headers = {"Origin": origin} if origin else {}
        response = await page.post(
            "/widget/v1/sessions", params={"key": key}, json={"public_key": key}, headers=headers
        )
        assert_error(response, 403, code)
        assert "access-control-allow-origin" not in response.headers


async def test_the_preflight_is_exact(tenant: Tenant, page: httpx.AsyncClient) -> None:
    channel = await create_web_channel(tenant)
    key = channel["public_key"]
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await page.options(
        "/widget/v1/messages", params={"key": key}, headers={"Origin": SHOP, **preflight}
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    assert "POST" in allowed.headers["access-control-allow-methods"]
    for params, origin in (({"key": key}, "https://evil.example"), ({}, SHOP)):
        refused = await page.options(
            "/widget/v1/messages", params=params, headers={"Origin": origin, **preflight}
        )
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers


async def test_an_unknown_key_is_not_found(page: httpx.AsyncClient) -> None:
    response = await page.get("/widget/v1/config", params={"key": "pk_01nothere"}, headers={"Origin": SHOP})
    assert_error(response, 404, "resource_not_found", param="key")


async def test_a_visitors_message_is_received_by_the_business(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start(name="Ada")
    said = await visitor.say("Do you ship to Lagos?")
    assert (said["author"], said["type"], said["content"]) == (
        "visitor",
        "text",
        {"body": "Do you ship to Lagos?"},
    )
    message = (await tenant.live.get(f"/v1/messages/{said['id']}")).json()
    assert (message["direction"], message["status"], message["from"]) == ("inbound", "received", visitor.id)
    assert message["text"] == {"body": "Do you ship to Lagos?"}
    conversations = (await tenant.live.get("/v1/conversations", params={"channel_id": channel["id"]})).json()[
        "data"
    ]
    assert [c["id"] for c in conversations] == [message["conversation_id"]]
    contact = (await tenant.live.get(f"/v1/contacts/{message['contact_id']}")).json()
    assert (contact["address"], contact["name"]) == (visitor.id, "Ada")
    events = (await tenant.live.get("/v1/logs", params={"kind": "event", "message_id": said["id"]})).json()[
        "data"
    ]
    assert [e["type"] for e in events] == ["message.received"]
    assert [m["id"] for m in await visitor.messages()] == [said["id"]]


async def test_a_visitor_reads_only_its_own_conversation(tenant: Tenant, page: httpx.AsyncClient) -> None:
    channel = await create_web_channel(tenant)
    other_channel = await create_web_channel(tenant)
    ada = await Visitor(page, channel["public_key"]).start()
    bola = await Visitor(page, channel["public_key"]).start()
    await ada.say("Ada's secret order number is 4582")
    await reply(tenant.live, channel, ada.id, text={"body": "For Ada only"})
    await eventually(ada.messages, lambda messages: len(messages) == 2)
    await bola.say("Hi")
    assert [m["content"]["body"] for m in await bola.messages()] == ["Hi"]
    assert await bola.messages(after="msg_0") == await bola.messages()
    intruder = Visitor(page, other_channel["public_key"], token=ada.token)
    assert_error(await intruder.request("GET", "/messages"), 401, "invalid_visitor_token")
    forged = Visitor(page, channel["public_key"], token="vt_" + "A" * 43)
    assert_error(await forged.request("GET", "/messages"), 401, "invalid_visitor_token")
    anonymous = Visitor(page, channel["public_key"])
    assert_error(await anonymous.request("GET", "/messages"), 401, "invalid_visitor_token")


async def test_the_visitor_api_has_size_and_rate_limits(tenant: Tenant, page: httpx.AsyncClient) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    assert_error(
        await visitor.request("POST", "/messages", json={"text": "x" * 4001}),
        422,
        "parameter_invalid",
        param="text",
    )
    too_large = await visitor.request(
        "POST",
        "/messages",
        content=b'{"text": "' + b"x" * 20000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert too_large.status_code == 413
    for _ in range(30):
        await visitor.say("hello?")
    limited = await visitor.request("POST", "/messages", json={"text": "hello??"})
    error = assert_error(limited, 429, "rate_limited")
    assert error["details"]["retry_after"] >= 1
    assert limited.headers["access-control-allow-origin"] == SHOP  # the page can read why
    other = await Visitor(page, channel["public_key"]).start()
    await other.say("a visitor of its own")


async def test_typing_is_an_event_for_the_business(tenant: Tenant, page: httpx.AsyncClient) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    assert (await visitor.marker("typing")).status_code == 204
    events = (await tenant.live.get("/v1/logs", params={"kind": "event"})).json()["data"]
    typing = [e for e in events if e["type"] == "conversation.visitor_typing"]
    assert typing and typing[0]["data"]["visitor_id"] == visitor.id
    assert_error(await visitor.marker("read"), 422, "parameter_missing", param="message_id")


async def test_the_sandbox_web_channel_takes_any_origin_in_test_mode(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await sandbox_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"], origin="http://localhost:5173").start()
    said = await visitor.say("Testing my site")
    assert (await tenant.test.get(f"/v1/messages/{said['id']}")).json()["status"] == "received"
    assert (await tenant.live.get(f"/v1/messages/{said['id']}")).status_code == 404


async def test_an_address_opens_at_most_20_chats_a_minute_on_one_site(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await create_web_channel(tenant)
    for _ in range(20):
        await Visitor(page, channel["public_key"]).start()
    key = channel["public_key"]
    refused = await page.post(
        "/widget/v1/sessions", params={"key": key}, json={"public_key": key}, headers={"Origin": SHOP}
    )
    assert_error(refused, 429, "rate_limited")
    other_site = await create_web_channel(tenant)
    await Visitor(page, other_site["public_key"]).start()
