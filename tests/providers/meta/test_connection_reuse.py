"""The Graph API session against a real local HTTP/1.1 server that closes idle keep-alive
connections, as uvicorn does after 5 s: the client lets an idle connection go before the
server does, so a send never races the server's close; a request that provably never
reached the server (the connection failed before it was completely written) is sent again
at once; a request that was written and then lost its connection stays an unknown outcome
and is not repeated."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from omniroute.channels.models import ChannelType
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.outbound import KEEPALIVE_EXPIRY, OutboundHttp
from omniroute.providers.base import ChannelRef, OutboundMessage
from omniroute.providers.errors import ProviderOutcomeUnknown
from omniroute.providers.meta.provider import MetaContext, MetaWhatsApp, graph_http
from tests.conftest import CUSTOMER
from tests.providers.meta.live import meta_config

LOOPBACK_ALLOWED = Settings(allow_private_targets=True)
"""The local Graph server is on loopback, which the outbound-target guard refuses by default."""

UVICORN_KEEP_ALIVE_SECONDS = 5.0
"""uvicorn's default ``timeout_keep_alive``, the shortest common server idle timeout."""


def text(message_id: str, body: str = "Hi") -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id, recipient=CUSTOMER, content_type="text", content={"body": body}
    )


@dataclass
class GraphServer:
    """A keep-alive HTTP/1.1 server answering sends like Meta. A connection idle for
    ``idle_timeout`` is closed when the next request arrives on it, unanswered: the
    moment a server closes an idle connection just as a client sends on it."""

    idle_timeout: float = UVICORN_KEEP_ALIVE_SECONDS
    abort_first_connection_after_head: bool = False
    """The first connection is reset as soon as a request's head arrived (body unread)."""
    abort_after_request: bool = False
    """Every connection is reset after a complete request was read, unanswered."""
    received: list[str] = field(default_factory=list)
    """The ``biz_opaque_callback_data`` of every complete request the server read."""
    dropped: int = 0
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        first = self.connections == 1
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                if loop.time() - idle_since >= self.idle_timeout:
                    self.dropped += 1
                    writer.transport.abort()
                    return
                if first and self.abort_first_connection_after_head:
                    writer.transport.abort()
                    return
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = json.loads(await reader.readexactly(length))
                self.received.append(body["biz_opaque_callback_data"])
                if self.abort_after_request:
                    writer.transport.abort()
                    return
                answer = json.dumps({"messages": [{"id": f"wamid.{len(self.received)}"}]}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
                idle_since = loop.time()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def graph_server() -> AsyncIterator[GraphServer]:
    stub = GraphServer()
    server = await asyncio.start_server(stub.handle, "127.0.0.1", 0)
    stub.port = int(server.sockets[0].getsockname()[1])
    yield stub
    server.close()


def adapter(db: Database, http: OutboundHttp, port: int) -> MetaWhatsApp:
    channel = ChannelRef(
        "ch_1",
        "ws_1",
        "live",
        ChannelType.WHATSAPP,
        "+15550783881",
        meta_config(graph_base_url=f"http://127.0.0.1:{port}"),
    )
    return MetaWhatsApp(channel, MetaContext(http=http, db=db))


async def test_an_idle_connection_is_let_go_before_the_server_closes_it(
    db: Database, graph_server: GraphServer
) -> None:
    assert KEEPALIVE_EXPIRY < UVICORN_KEEP_ALIVE_SECONDS
    graph_server.idle_timeout = KEEPALIVE_EXPIRY + 0.3  # a server stricter than uvicorn
    async with graph_http(LOOPBACK_ALLOWED) as http:
        meta = adapter(db, http, graph_server.port)
        await meta.send(text("msg_1"))
        await asyncio.sleep(graph_server.idle_timeout + 0.1)  # the server now closes it on use
        receipt = await meta.send(text("msg_2"))
    assert receipt.provider_message_id == "wamid.2"
    assert graph_server.received == ["msg_1", "msg_2"] and graph_server.dropped == 0


async def test_a_request_that_never_reached_the_server_is_sent_again(
    db: Database, graph_server: GraphServer
) -> None:
    graph_server.abort_first_connection_after_head = True
    big = text("msg_big", "x" * 16_000_000)  # more than the socket buffers hold before the server reads
    async with graph_http(LOOPBACK_ALLOWED) as http:
        receipt = await adapter(db, http, graph_server.port).send(big)
    assert receipt.provider_message_id == "wamid.1"
    assert graph_server.received == ["msg_big"]  # once: the first request never arrived whole


async def test_a_request_written_before_the_connection_dropped_stays_unknown_and_is_not_repeated(
    db: Database, graph_server: GraphServer
) -> None:
    graph_server.abort_after_request = True
    async with graph_http(LOOPBACK_ALLOWED) as http:
        with pytest.raises(ProviderOutcomeUnknown) as caught:
            await adapter(db, http, graph_server.port).send(text("msg_lost"))
    assert caught.value.code == "send_outcome_unknown"
    assert graph_server.received == ["msg_lost"]
