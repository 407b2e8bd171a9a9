"""A campaign goes exactly as fast as its channel allows, measured where the sends arrive
(the simulated network, on its own clock), and a reply or a one-time code sent meanwhile
is not held behind it."""

import time
from collections import defaultdict

import pytest
from sqlalchemy.engine import make_url

from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.providers.base import OutboundMessage
from omniroute.providers.sandbox.provider import SandboxWhatsApp
from tests.campaigns.support import create, recipients, set_throughput, until
from tests.conftest import CUSTOMER, Tenant, eventually, settled

THROUGHPUT = 100
RECIPIENTS = 300  # three seconds of sends at THROUGHPUT: the urgent ones go while two remain

Log = dict[str, dict[str, float]]


@pytest.fixture
def network_log(monkeypatch: pytest.MonkeyPatch) -> Log:
    """The time each send reached the simulated network (``time.monotonic``), by channel
    and message id."""
    log: Log = defaultdict(dict)
    check = SandboxWhatsApp._check_limits

    def recorded(self: SandboxWhatsApp, message: OutboundMessage) -> None:
        log[self.channel.id][message.message_id] = time.monotonic()
        check(self, message)

    monkeypatch.setattr(SandboxWhatsApp, "_check_limits", recorded)
    return log


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window (sliding over every send)."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_busiest_second_counts_a_sliding_window() -> None:
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.2]) == 4
    assert busiest_second([]) == 0


AUTHENTICATION = [
    {"type": "BODY", "add_security_recommendation": True},
    {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
]


def urgent_within(settings: Settings) -> float:
    """Seconds from acceptance to the network for an urgent send during the campaign: one
    on PostgreSQL. On SQLite (one writer) the urgent send's claim and prepare take the next
    writer turn ahead of the campaign's queued transactions, but still wait for the one
    holding it, and the one process's event loop lags on this shared 2-core machine:
    median 0.24 s, 3 of 30 measured over 1.2 s, the worst 1.96 s (docs/campaigns.md), so
    two there."""
    return 1.0 if make_url(settings.database_url).get_backend_name() == "postgresql" else 2.0


async def test_a_campaign_never_exceeds_the_channel_throughput_and_lets_urgent_sends_through(
    tenant: Tenant, db: Database, network_log: Log, settings: Settings
) -> None:
    await tenant.approved_template()
    await tenant.approved_template("login_code", category="AUTHENTICATION", components=AUTHENTICATION)
    await set_throughput(tenant, THROUGHPUT)
    await tenant.inbound(CUSTOMER, "Where is my order?")
    campaign = await create(tenant, recipients(RECIPIENTS))

    async def sent() -> int:
        return len(network_log[tenant.whatsapp])

    await eventually(sent, lambda n: n >= THROUGHPUT)  # the campaign is in full flow

    urgent: list[tuple[float, str]] = []
    for payload in (
        {"text": {"body": "It left the warehouse this morning."}},  # a session reply
        {"template": {"name": "login_code", "language": "en", "parameters": {"buttons": ["482913"]}}},
    ):
        response = await tenant.send(CUSTOMER, priority="high", **payload)
        assert response.status_code == 202, response.text
        urgent.append((time.monotonic(), response.json()["id"]))  # accepted
    for accepted, message_id in urgent:
        await tenant.wait_for(message_id, "sent", within=5)
        assert network_log[tenant.whatsapp][message_id] - accepted < urgent_within(settings)

    done = await until(tenant, campaign["id"], "completed", within=90)  # its statuses queue on a loaded box
    assert done["counts"]["sent"] == RECIPIENTS and done["counts"]["failed"] == 0
    sends = list(network_log[tenant.whatsapp].values())
    assert len(sends) == RECIPIENTS + 2
    assert busiest_second(sends) <= THROUGHPUT
    await settled(db, tenant.workspace_id, within=120)  # 900 simulated statuses, before the next test
