"""The business answers through POST /v1/messages: an open widget gets the reply on its
live stream (``sent`` by stream, then ``delivered``), a widget that opens later finds it
(``sent`` stored, ``delivered`` when the widget acknowledges it), and ``read`` when shown."""

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from omniroute.app import create_app
from omniroute.config import Settings
from tests.conftest import Tenant, assert_error, eventually, serve
from tests.webchat.conftest import Stream, Visitor, create_web_channel, reply, sandbox_web_channel

BUTTONS = {
    "type": "button",
    "body": {"text": "Which size?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "s", "title": "Small"}},
            {"type": "reply", "reply": {"id": "l", "title": "Large"}},
        ]
    },
}


async def history(client: httpx.AsyncClient, message_id: str) -> list[tuple[str, str | None]]:
    message = (await client.get(f"/v1/messages/{message_id}")).json()
    return [(change["status"], change["detail"]) for change in message["status_history"]]


async def reaches(client: httpx.AsyncClient, message_id: str, status: str) -> list[tuple[str, str | None]]:
    changes: list[tuple[str, str | None]] = await eventually(
        lambda: history(client, message_id), lambda h: h[-1][0] == status
    )
    return changes


async def test_a_reply_reaches_an_open_widget_by_stream_then_is_read(
    tenant: Tenant, page: httpx.AsyncClient, streams: list[Stream]
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    await visitor.say("Is the blue one in stock?")
    stream = await visitor.open_stream(streams)
    sent = await reply(tenant.live, channel, visitor.id, text={"body": "Yes, 3 left."})
    shown = await stream.message_from("business")
    assert (shown["id"], shown["content"]["body"]) == (sent["id"], "Yes, 3 left.")
    assert await reaches(tenant.live, sent["id"], "delivered") == [
        ("queued", None),
        ("sending", None),
        ("sent", "stream"),
        ("delivered", "stream"),
    ]
    assert (await visitor.marker("read", sent["id"])).status_code == 204
    assert (await history(tenant.live, sent["id"]))[-1] == ("read", "widget")
    events = (await tenant.live.get("/v1/logs", params={"kind": "event", "message_id": sent["id"]})).json()[
        "data"
    ]
    assert {"message.sent", "message.delivered", "message.read"} <= {e["type"] for e in events}


async def test_a_reply_to_a_visitor_who_left_waits_for_the_next_visit(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    await visitor.say("Call me back tomorrow")
    image = await reply(
        tenant.live,
        channel,
        visitor.id,
        image={"link": "https://shop.example.com/blue.png", "caption": "The blue one"},
    )
    buttons = await reply(tenant.live, channel, visitor.id, interactive=BUTTONS)
    for message in (image, buttons):
        assert (await reaches(tenant.live, message["id"], "sent"))[-1] == ("sent", "stored")
    shown = await visitor.messages()
    assert [(m["author"], m["type"]) for m in shown] == [
        ("visitor", "text"),
        ("business", "image"),
        ("business", "interactive"),
    ]
    assert shown[1]["content"]["caption"] == "The blue one"
    assert [b["reply"]["title"] for b in shown[2]["content"]["action"]["buttons"]] == ["Small", "Large"]
    assert (await visitor.marker("delivered", buttons["id"])).status_code == 204
    for message in (image, buttons):
        assert (await history(tenant.live, message["id"]))[-1] == ("delivered", "widget")


async def test_a_stream_resumes_after_its_last_event_id(
    tenant: Tenant, page: httpx.AsyncClient, streams: list[Stream]
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    first_stream = await visitor.open_stream(streams)
    first = await reply(tenant.live, channel, visitor.id, text={"body": "first"})
    assert (await first_stream.message_from("business"))["id"] == first["id"]
    assert first_stream.task is not None
    first_stream.task.cancel()
    await eventually(lambda: history(tenant.live, first["id"]), lambda h: h[-1][0] == "delivered")
    await visitor.say("are you there?")
    second = await reply(tenant.live, channel, visitor.id, text={"body": "second"})
    await reaches(tenant.live, second["id"], "sent")
    resumed = await visitor.open_stream(streams, last_event_id=first["id"])
    assert (await resumed.next())["content"]["body"] == "are you there?"
    assert (await resumed.next())["id"] == second["id"]
    assert (await reaches(tenant.live, second["id"], "delivered"))[-1] == ("delivered", "stream")


async def test_the_stream_carries_the_visitors_own_messages_to_its_other_tabs(
    tenant: Tenant, page: httpx.AsyncClient, streams: list[Stream]
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    other_tab = await visitor.open_stream(streams)
    said = await visitor.say("typed in the first tab")
    assert (await other_tab.next())["id"] == said["id"]


async def test_a_reply_to_someone_who_is_not_a_visitor_of_the_channel_fails(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    channel = await create_web_channel(tenant)
    other = await create_web_channel(tenant)
    stranger = await Visitor(page, other["public_key"]).start()
    for to in ("vis_nobody", stranger.id):
        sent = await reply(tenant.live, channel, to)
        failed = await eventually(
            lambda sent=sent: tenant.live.get(f"/v1/messages/{sent['id']}"),
            lambda r: r.json()["status"] == "failed",
        )
        assert failed.json()["error"]["code"] == "recipient_unknown"


@pytest.mark.parametrize(
    ("content", "param", "channel_kind"),
    [
        ({"video": {"link": "https://shop.example.com/a.mp4"}}, "video", "web"),
        ({"location": {"latitude": 6.5, "longitude": 3.4}}, "location", "web"),
        ({"push": {"title": "Hi"}}, "push", "whatsapp"),
    ],
)
async def test_content_a_channel_cannot_show_is_refused(
    tenant: Tenant, content: dict[str, Any], param: str, channel_kind: str
) -> None:
    channel_id = (await sandbox_web_channel(tenant))["id"] if channel_kind == "web" else tenant.whatsapp
    to = "vis_ada" if channel_kind == "web" else "+2348012345678"
    response = await tenant.test.post("/v1/messages", json={"channel_id": channel_id, "to": to, **content})
    assert_error(response, 422, "channel_type_unsupported", param=param)


async def test_the_sandbox_web_channel_chats_with_real_visitors(
    tenant: Tenant, page: httpx.AsyncClient, streams: list[Stream]
) -> None:
    channel = await sandbox_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"], origin="http://localhost:5173").start()
    stream = await visitor.open_stream(streams)
    sent = await reply(tenant.test, channel, visitor.id, text={"body": "Hello from test mode"})
    assert (await stream.message_from("business"))["id"] == sent["id"]
    assert (await reaches(tenant.test, sent["id"], "delivered"))[2:] == [
        ("sent", "stream"),
        ("delivered", "stream"),
    ]
    push = await reply(tenant.test, channel, visitor.id, push={"title": "New reply", "body": "Come back"})
    assert (await reaches(tenant.test, push["id"], "sent"))[-1] == ("sent", "push_simulated")


async def test_a_reply_accepted_by_one_process_reaches_a_stream_on_another(
    tenant: Tenant, settings: Settings, streams: list[Stream]
) -> None:
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        pytest.skip(
            "SQLite runs one API process (its broker is in-process); PostgreSQL's LISTEN/NOTIFY spans processes"
        )
    other_url, stop = await serve(create_app(settings, run_workers=False))
    try:
        channel = await create_web_channel(tenant)
        async with httpx.AsyncClient(base_url=other_url, timeout=10) as other_page:
            visitor = await Visitor(other_page, channel["public_key"]).start()
            stream = await visitor.open_stream(streams)
            sent = await reply(tenant.live, channel, visitor.id, text={"body": "from the other process"})
            assert (await stream.message_from("business", within=5))["id"] == sent["id"]
            assert (await reaches(tenant.live, sent["id"], "delivered"))[-1] == ("delivered", "stream")
            for opened in streams:
                assert opened.task is not None
                opened.task.cancel()
    finally:
        await stop()
