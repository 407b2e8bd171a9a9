"""The outbound-target policy: which addresses a live key may make the server connect
to. IPv6 forms that carry an IPv4 address are judged by that address (Python's
``is_global`` calls ``64:ff9b::a9fe:a9fe`` global, though it reaches 169.254.169.254)."""

import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.outbound import OutboundHttp
from omniroute.core.tenancy import Mode
from omniroute.providers.meta.provider import graph_http
from tests.webhooks.conftest import Receiver, serving

INTERNAL = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fe80::1%eth0",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:a9fe:a9fe",
    "::7f00:1",  # IPv4-compatible: 127.0.0.1
    "::a00:1",  # IPv4-compatible: 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64: 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64: 127.0.0.1
    "64:ff9b::c0a8:101",  # NAT64: 192.168.1.1
    "64:ff9b:1::808:808",  # local-use NAT64: never public
    "2002:a9fe:a9fe::",  # 6to4: 169.254.169.254
    "2002:7f00:1::1",  # 6to4: 127.0.0.1
    "2002:a00:1::",  # 6to4: 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1 (obfuscated)
]
PUBLIC = [
    "93.184.215.14",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "64:ff9b::808:808",  # NAT64 to 8.8.8.8
    "2002:808:808::1",  # 6to4 from 8.8.8.8
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address: str) -> None:
    assert targets.is_internal(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not targets.is_internal(address)


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "::7f00:1", "2002:a9fe:a9fe::"])
async def test_urls_with_embedded_internal_ipv4_are_refused_in_live_mode(address: str) -> None:
    with pytest.raises(targets.TargetRefused, match="private, loopback or link-local"):
        await targets.check(f"https://[{address}]/x", Mode.LIVE, Settings(), unresolvable_ok=False)


async def test_test_mode_and_the_operator_setting_allow_internal_targets() -> None:
    await targets.check("http://127.0.0.1/x", Mode.TEST, Settings(), unresolvable_ok=False)
    allowing = Settings(allow_private_targets=True)
    await targets.check("http://127.0.0.1/x", Mode.LIVE, allowing, unresolvable_ok=False)


@pytest.mark.parametrize(
    "variable", ["OMNIROUTE_ALLOW_PRIVATE_TARGETS", "OMNIROUTE_WEBHOOK_ALLOW_PRIVATE_TARGETS"]
)
def test_one_setting_under_its_new_and_its_old_name(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    assert Settings().allow_private_targets is False
    monkeypatch.setenv(variable, "true")
    assert Settings().allow_private_targets is True


@pytest.fixture
async def listening() -> AsyncIterator[tuple[str, Receiver]]:
    receiver = Receiver()
    async with serving(receiver) as url:
        yield url, receiver


async def get(http: OutboundHttp, url: str) -> int:
    async with http.request("GET", url) as response:
        return response.status


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_the_graph_session_refuses_an_internal_address_before_connecting(
    listening: tuple[str, Receiver], host: str
) -> None:
    """Checked where the connection is made, on the address connected to: a URL that
    passed when it was saved cannot be turned inward later."""
    url, receiver = listening
    async with graph_http(Settings()) as http:
        with pytest.raises(targets.TargetRefused, match="resolves to a private, loopback or link-local"):
            await get(http, f"{url.replace('127.0.0.1', host)}/v23.0/me")
    assert receiver.received == []


async def test_the_graph_session_connects_when_private_targets_are_allowed(
    listening: tuple[str, Receiver],
) -> None:
    url, receiver = listening
    async with graph_http(Settings(allow_private_targets=True)) as http:
        assert await get(http, f"{url}/v23.0/me") == 200
    assert [r.path for r in receiver.received] == ["/v23.0/me"]


async def test_the_graph_session_reads_the_setting_when_it_connects(listening: tuple[str, Receiver]) -> None:
    url, _ = listening
    settings = Settings(allow_private_targets=True)
    async with graph_http(settings) as http:
        settings.allow_private_targets = False
        with pytest.raises(targets.TargetRefused):
            await get(http, f"{url}/v23.0/me")
        with pytest.raises(aiohttp.ClientConnectorError):  # nothing resolves: an ordinary connect error
            await get(http, "http://does-not-resolve.invalid/v23.0/me")


class Rebinding(AbstractResolver):
    """DNS under an attacker's control: ``hooks.partner.example`` resolves to a public
    address until it is re-pointed at ``address``."""

    def __init__(self) -> None:
        self.address = "93.184.215.14"

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        assert host == "hooks.partner.example"
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("rebound_to", ["127.0.0.1", "169.254.169.254", "10.0.0.7"])
async def test_a_name_rebound_to_an_internal_address_is_refused_at_connect(
    listening: tuple[str, Receiver], rebound_to: str
) -> None:
    """The name is judged by what it resolves to when the connection is made, and that
    answer is the address connected to: a public answer when the URL was saved, then an
    internal one (DNS rebinding), is refused before any packet is sent."""
    url, receiver = listening
    dns = Rebinding()
    port = urlsplit(url).port
    connector = targets.GuardedConnector(Settings(), resolver=dns, use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        dns.address = rebound_to
        with pytest.raises(targets.TargetRefused, match=f"hooks.partner.example resolves to .*{rebound_to}"):
            await session.get(f"http://hooks.partner.example:{port}/hooks")
    assert receiver.received == []


async def test_the_guarded_connector_connects_to_the_address_it_checked(
    listening: tuple[str, Receiver],
) -> None:
    """Allowed internal targets are reached at the resolver's answer: no second lookup."""
    url, receiver = listening
    dns = Rebinding()
    dns.address = "127.0.0.1"
    connector = targets.GuardedConnector(Settings(allow_private_targets=True), resolver=dns)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(f"http://hooks.partner.example:{urlsplit(url).port}/hooks") as response,
    ):
        assert response.status == 200
    assert [r.path for r in receiver.received] == ["/hooks"]
