"""Live smtp channels pointed at real SMTP servers (``relay.Relay``) on loopback."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from omniroute.config import Settings
from tests.conftest import Tenant, _free_port
from tests.providers.smtp.relay import Relay, TestCertificate, make_certificate


@dataclass
class EmailChannel:
    id: str
    relay: Relay
    tenant: Tenant
    """The workspace with its live client as ``test``, so its helpers act in live mode."""

    async def send(self, to: str = "ada@example.com", **email: Any) -> dict[str, Any]:
        content = {"subject": "Your order has shipped", "text": "It arrives on Monday.", **email}
        response = await self.tenant.send(to, channel_id=self.id, email=content)
        assert response.status_code == 202, response.text
        return dict(response.json())


StartRelay = Callable[..., Any]


@pytest.fixture(scope="session")
def certificate() -> TestCertificate:
    return make_certificate()


@pytest.fixture
def trust_test_ca(settings: Settings, certificate: TestCertificate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server trusts the test CA for SMTP TLS, as an operator would a private relay's."""
    monkeypatch.setattr(settings, "smtp_ca_file", str(certificate.ca_file))


@pytest.fixture
async def start_relay(
    tenant: Tenant, certificate: TestCertificate, trust_test_ca: None
) -> AsyncIterator[Callable[..., Any]]:
    """Start a relay (``security``, ``auth``) and a live smtp channel pointed at it."""
    relays: list[Relay] = []

    async def start(*, security: str = "none", auth: bool = False, **config: Any) -> EmailChannel:
        relay = Relay(_free_port(), security=security, auth=auth, certificate=certificate)
        relay.start()
        relays.append(relay)
        response = await tenant.live.post(
            "/v1/channels",
            json={"type": "email", "provider": "smtp", "name": "Shop mail", "config": relay.config(**config)},
        )
        assert response.status_code == 201, response.text
        return EmailChannel(response.json()["id"], relay, replace(tenant, test=tenant.live))

    yield start
    for relay in relays:
        relay.stop()
