"""The outbound-target policy: which addresses a live key may make the server connect
to. IPv6 forms that carry an IPv4 address are judged by that address (Python's
``is_global`` calls ``64:ff9b::a9fe:a9fe`` global, though it reaches 169.254.169.254)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.tenancy import Mode
from omniroute.providers.meta.provider import graph_client
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


async def test_the_graph_client_refuses_an_internal_address_before_connecting(
    listening: tuple[str, Receiver],
) -> None:
    """Checked where the connection is made, on the address connected to: a URL that
    passed when it was saved cannot be turned inward later."""
    url, receiver = listening
    async with graph_client(Settings()) as client:
        for target in (url, url.replace("127.0.0.1", "localhost")):
            with pytest.raises(targets.TargetRefused, match=r"127\.0\.0\.1"):
                await client.get(f"{target}/v23.0/me")
    assert receiver.received == []


async def test_the_graph_client_connects_when_private_targets_are_allowed(
    listening: tuple[str, Receiver],
) -> None:
    url, receiver = listening
    async with graph_client(Settings(allow_private_targets=True)) as client:
        response = await client.get(f"{url}/v23.0/me")
    assert response.status_code == 200
    assert [r.path for r in receiver.received] == ["/v23.0/me"]


async def test_the_graph_client_reads_the_setting_when_it_connects(listening: tuple[str, Receiver]) -> None:
    url, _ = listening
    settings = Settings(allow_private_targets=True)
    async with graph_client(settings) as client:
        settings.allow_private_targets = False
        with pytest.raises(targets.TargetRefused):
            await client.get(f"{url}/v23.0/me")
        with pytest.raises(httpx.ConnectError):  # nothing resolves: an ordinary connect error
            await client.get("http://does-not-resolve.invalid/v23.0/me")
