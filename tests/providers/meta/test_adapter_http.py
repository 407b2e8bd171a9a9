"""The adapter's network behaviour that can be shown without a Graph API: a refused
connection is retried, a request that got no answer is an unknown outcome, and every
message kind is accepted by ``POST /v1/messages``."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest

from omniroute.channels.models import ChannelType
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.outbound import OutboundHttp
from omniroute.providers.base import ChannelRef, OutboundMessage
from omniroute.providers.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderTransientError
from omniroute.providers.meta.provider import GRAPH_TIMEOUT, MetaContext, MetaWhatsApp, graph_http
from tests.conftest import CUSTOMER, Tenant, assert_error, eventually
from tests.providers.meta import payloads as p
from tests.providers.meta.live import MetaChannel, create_meta_channel, meta_config
from tests.webhooks.conftest import serving

TEXT = OutboundMessage(message_id="msg_1", recipient=CUSTOMER, content_type="text", content={"body": "Hi"})
LOOPBACK_ALLOWED = Settings(allow_private_targets=True)
"""The local Graph servers are on loopback, which the outbound-target guard refuses by default."""


def adapter(db: Database, http: OutboundHttp, **config: Any) -> MetaWhatsApp:
    channel = ChannelRef("ch_1", "ws_1", "live", ChannelType.WHATSAPP, "+15550783881", meta_config(**config))
    return MetaWhatsApp(channel, MetaContext(http=http, db=db))


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that reads the request and never answers (the request did leave)."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_refused_connection_is_retryable(db: Database) -> None:
    async with graph_http(LOOPBACK_ALLOWED) as http:
        meta = adapter(db, http)
        with pytest.raises(ProviderTransientError) as sent:
            await meta.send(TEXT)
        with pytest.raises(ProviderTransientError):
            await meta.list_templates()
    assert sent.value.code == "provider_unreachable"
    assert isinstance(sent.value.__cause__, aiohttp.ClientConnectorError)


async def test_no_answer_after_the_request_left_is_an_unknown_outcome(db: Database, silent_port: int) -> None:
    impatient = aiohttp.ClientTimeout(connect=2.0, sock_read=0.3)
    async with OutboundHttp(max_connections=1, timeout=impatient, guarded_by=LOOPBACK_ALLOWED) as http:
        meta = adapter(db, http, graph_base_url=f"http://127.0.0.1:{silent_port}")
        with pytest.raises(ProviderOutcomeUnknown) as caught:
            await meta.send(TEXT)
    assert isinstance(caught.value.__cause__, aiohttp.SocketTimeoutError)


async def test_a_request_that_cannot_be_written_is_never_sent(db: Database, silent_port: int) -> None:
    """A token aiohttp refuses to put in a header (a control character) fails before
    anything leaves: retryable, like a refused connection."""
    async with graph_http(LOOPBACK_ALLOWED) as http:
        meta = adapter(
            db, http, graph_base_url=f"http://127.0.0.1:{silent_port}", access_token="EAAG\r\nX: 1"
        )
        with pytest.raises(ProviderTransientError) as caught:
            await meta.send(TEXT)
    assert caught.value.code == "provider_unreachable"
    assert isinstance(caught.value.__cause__, ValueError)


def test_graph_calls_are_bounded_inside_the_dispatchers_limit() -> None:
    """Connecting, waiting for a free connection and reading each have a bound, and so
    does the whole request (aiohttp has no write timeout), under the 15 s after which
    the dispatcher calls any send's outcome unknown."""
    assert GRAPH_TIMEOUT.total is not None and GRAPH_TIMEOUT.sock_read is not None
    assert GRAPH_TIMEOUT.connect is not None and GRAPH_TIMEOUT.sock_connect is not None
    assert GRAPH_TIMEOUT.total < Settings().provider_timeout_seconds


@pytest.fixture
async def meta(tenant: Tenant, anonymous: httpx.AsyncClient) -> MetaChannel:
    return await create_meta_channel(tenant.live, anonymous)


async def test_a_live_send_while_meta_is_unreachable_is_retried_not_failed(meta: MetaChannel) -> None:
    assert (await meta.deliver(p.inbound_payload("text", {"body": "Hi"}, wamid="wamid.W"))).status_code == 200
    await eventually(
        lambda: meta.client.get(f"/v1/channels/{meta.id}/window", params={"to": CUSTOMER}),
        lambda r: r.json()["state"] == "open",
    )
    response = await meta.client.post(
        "/v1/messages", json={"channel_id": meta.id, "to": CUSTOMER, "text": {"body": "Hi"}}
    )
    assert response.status_code == 202, response.text

    async def fetch() -> dict[str, Any]:
        return dict((await meta.client.get(f"/v1/messages/{response.json()['id']}")).json())

    message = await eventually(fetch, lambda m: m["attempts"] >= 1 and m["status"] == "sending")
    assert message["error"] is None


async def test_marking_a_live_message_read_reports_an_unreachable_api(meta: MetaChannel) -> None:
    assert (await meta.deliver(p.inbound_payload("text", {"body": "Hi"}, wamid="wamid.R"))).status_code == 200

    async def inbound() -> list[dict[str, Any]]:
        return list((await meta.client.get("/v1/messages", params={"direction": "inbound"})).json()["data"])

    [received] = await eventually(inbound, lambda found: len(found) == 1)
    error = assert_error(
        await meta.client.post(f"/v1/messages/{received['id']}/read"), 502, "provider_unreachable"
    )
    assert error["type"] == "provider_error"


async def test_marking_read_in_test_mode(tenant: Tenant) -> None:
    assert (await tenant.inbound(body="Hello")).status_code in (200, 201, 202)
    [received] = (await tenant.test.get("/v1/messages", params={"direction": "inbound"})).json()["data"]
    response = await tenant.test.post(f"/v1/messages/{received['id']}/read")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == received["id"]
    sent = await tenant.send()
    assert_error(await tenant.test.post(f"/v1/messages/{sent.json()['id']}/read"), 422, "message_not_inbound")
    assert_error(await tenant.test.post("/v1/messages/msg_nope/read"), 404, "resource_not_found")


CARD = {"name": {"formatted_name": "Ada Obi"}, "phones": [{"phone": "+2348012345679", "type": "WORK"}]}


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"media_id": "4490"}},
        {"audio": {"link": "https://x.test/a.ogg"}},
        {"document": {"link": "https://x.test/i.pdf", "caption": "Invoice", "filename": "invoice.pdf"}},
        {"contacts": [CARD]},
        {"location": {"latitude": 6.43, "longitude": 3.42}},
        {"reaction": {"message_id": "INBOUND", "emoji": "👍"}},
        {"text": {"body": "Yes"}, "reply_to": "INBOUND"},
        {
            "interactive": {
                "type": "button",
                "body": {"text": "Pick"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
            }
        },
    ],
)
async def test_every_kind_can_be_sent(tenant: Tenant, content: dict[str, Any]) -> None:
    """A reply or a reaction quotes the customer's message ("INBOUND")."""
    inbound = (await tenant.inbound()).json()["message"]
    quoted = json.loads(json.dumps(content).replace('"INBOUND"', json.dumps(inbound["provider_message_id"])))
    response = await tenant.send(**quoted)
    assert response.status_code == 202, response.text
    kind = next(k for k in content if k != "reply_to")
    assert response.json()["type"] == kind
    await tenant.wait_for(response.json()["id"], "read")


@pytest.mark.parametrize(
    ("content", "param"),
    [
        ({"sticker": {"media_id": "1", "caption": "no"}}, "sticker.caption"),
        ({"audio": {"media_id": "1", "caption": "no"}}, "audio.caption"),
        ({"image": {"media_id": "1", "filename": "a.jpg"}}, "image.filename"),
        ({"contacts": [{"phones": []}]}, "contacts[0].name"),
        ({"contacts": [{"name": {"first_name": "Ada"}}]}, "contacts[0].name.formatted_name"),
        ({"text": {"body": "x"}, "reply_to": ""}, "reply_to"),
    ],
)
async def test_malformed_kinds_are_refused_naming_the_field(
    tenant: Tenant, content: dict[str, Any], param: str
) -> None:
    response = await tenant.send(**content)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


async def test_reply_to_cannot_quote_with_a_template(tenant: Tenant) -> None:
    response = await tenant.send(template={"name": "order_update", "language": "en"}, reply_to="wamid.X")
    assert_error(response, 422, "parameter_invalid", param="reply_to")


async def answer_unknown_recipient(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A Graph API that refuses every send with a NUL character in its explanation."""
    assert scope["type"] == "http"
    while (await receive()).get("more_body"):
        pass
    error = {"error": {"code": 131026, "error_data": {"details": "Recipient\u0000 unknown"}}}
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(error).encode()})


async def test_text_from_the_graph_api_that_no_database_can_store_is_cleaned(db: Database) -> None:
    async with serving(answer_unknown_recipient, lifespan="off") as url, graph_http(LOOPBACK_ALLOWED) as http:
        with pytest.raises(ProviderRejected) as rejected:
            await adapter(db, http, graph_base_url=url).send(TEXT)
    assert rejected.value.message.endswith("Recipient unknown")
