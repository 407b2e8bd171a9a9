"""What dispatch does with each kind of provider answer: accepted, retryable, final,
rejected credentials and, above all, an unknown outcome, which is never sent twice.

The provider here is a scripted stand-in for a network we cannot reach from the tests
(a timeout after the request left, a 5xx); the real adapters map their errors into the
same ``providers.errors`` tree. The message is accepted through the real service and its
dispatch job is run directly, so the server's own worker never touches it."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from omniroute.channels.models import Channel
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.ingest.service import apply_status
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.jobs.registry import JobContext, RetryLater
from omniroute.messages import dispatch
from omniroute.messages.models import Message
from omniroute.messages.service import DISPATCH_JOB
from omniroute.providers.base import OutboundMessage, Provider, SendReceipt
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderTransientError,
)
from omniroute.providers.events import StatusUpdate
from omniroute.providers.registry import ProviderRegistry
from omniroute.requestlog.writer import RequestLogWriter
from omniroute.services import Services
from omniroute.workspaces.models import Workspace
from tests.campaigns.support import set_throughput
from tests.conftest import CUSTOMER, Tenant, accept_in
from tests.database_outage import SimulatedOutage


class ScriptedProvider(Provider):
    """Answers each send with the next scripted outcome and counts the calls."""

    name = "scripted"

    def __init__(self, outcomes: list[ProviderError | str]) -> None:
        self.outcomes = outcomes
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.sent.append(message)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, ProviderError):
            raise outcome
        return SendReceipt(outcome)


class Harness:
    def __init__(self, db: Database, settings: Settings, provider: ScriptedProvider) -> None:
        registry = ProviderRegistry(settings, db)
        registry.for_channel = lambda channel: provider  # type: ignore[method-assign]
        services = Services(settings=settings, db=db, providers=registry, request_log=RequestLogWriter(db))
        self.context = JobContext(db, services, attempt=1)
        self.db = db

    async def run(self, message_id: str) -> None:
        await dispatch.dispatch(self.context, {"message_id": message_id})

    async def message(self, message_id: str) -> Message:
        async with self.db.sessionmaker() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            return message


@pytest.fixture
def harness(
    db: Database, settings: Settings
) -> Callable[[list[ProviderError | str]], tuple[Harness, ScriptedProvider]]:
    def make(outcomes: list[ProviderError | str]) -> tuple[Harness, ScriptedProvider]:
        provider = ScriptedProvider(outcomes)
        return Harness(db, settings, provider), provider

    return make


async def accept_without_worker(db: Database, tenant: Tenant, **body: Any) -> str:
    """Accept a message and remove its dispatch job in the same transaction, so only the
    test runs the dispatch."""
    async with db.transaction() as session:
        message = await accept_in(session, tenant, **body)
        await session.flush()
        await session.execute(delete(Job).where(Job.payload["message_id"].as_string() == message.id))
        return message.id


@pytest.fixture
async def queued(tenant: Tenant, db: Database) -> str:
    await tenant.inbound()
    return await accept_without_worker(db, tenant, text={"body": "Your order has shipped"})


async def test_an_accepted_send_is_sent_with_the_provider_id_before_any_status_arrives(
    harness: Any, queued: str
) -> None:
    run, provider = harness(["wamid.ok"])
    await run.run(queued)
    message = await run.message(queued)
    # The provider has it: ``sent`` at once, so a status webhook lost or late (an outage on
    # our side) never leaves an accepted message ``sending``.
    assert (message.status, message.provider_message_id, message.attempts) == ("sent", "wamid.ok", 1)
    assert provider.sent[0].message_id == queued, "our id travels with the send, for reconciliation"


class OutageDuringTheCall(ScriptedProvider):
    """Accepts the send, and the database goes away while the answer is on its way back."""

    def __init__(self, outage: SimulatedOutage) -> None:
        super().__init__(["wamid.kept"])
        self.outage = outage

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.outage.for_seconds(0.5)
        return await super().send(message)


async def test_an_acceptance_the_database_could_not_take_is_recorded_once_it_is_back(
    settings: Settings, queued: str
) -> None:
    db = Database(settings.database_url)
    outage = SimulatedOutage(db)
    provider = OutageDuringTheCall(outage)
    run = Harness(db, settings, provider)
    await run.run(queued)
    message = await run.message(queued)
    await db.dispose()
    assert outage.refused > 0
    assert (message.status, message.provider_message_id) == ("sent", "wamid.kept")
    assert message.provider_call_started_at is None and len(provider.sent) == 1


async def test_a_timeout_after_the_request_left_is_not_resent(harness: Any, queued: str) -> None:
    run, provider = harness([ProviderOutcomeUnknown("read timeout after the request was sent")])
    await run.run(queued)
    message = await run.message(queued)
    assert message.status == "sending"
    assert message.outcome_unknown_since is not None

    await run.run(queued)  # the same job running again (a crash before it was finished)
    assert len(provider.sent) == 1, "a message whose outcome is unknown must never be sent twice"


async def test_a_worker_that_died_mid_send_leaves_an_unknown_outcome_not_a_second_send(
    harness: Any, queued: str, db: Database
) -> None:
    run, provider = harness(["wamid.never"])
    async with db.transaction() as session:  # what a worker committed just before it died
        message = await session.get(Message, queued)
        assert message is not None
        message.provider_call_started_at = message.created_at
    await run.run(queued)
    assert provider.sent == []
    assert (await run.message(queued)).outcome_unknown_since is not None


async def test_a_status_carrying_our_id_settles_an_unknown_outcome(
    harness: Any, queued: str, db: Database, tenant: Tenant
) -> None:
    run, _ = harness([ProviderOutcomeUnknown("timeout")])
    await run.run(queued)
    async with db.transaction() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        workspace = await session.get(Workspace, tenant.workspace_id)
        assert workspace is not None
        await apply_status(
            session,
            channel,
            StatusUpdate(
                provider_message_id="wamid.late",
                status="delivered",
                timestamp=workspace.now(Mode.TEST),
                recipient=CUSTOMER,
                client_reference=queued,
            ),
        )
    message = await run.message(queued)
    assert (message.status, message.provider_message_id, message.outcome_unknown_since) == (
        "delivered",
        "wamid.late",
        None,
    )


async def test_an_unknown_outcome_never_confirmed_fails_with_a_reason_after_the_grace(
    harness: Any, queued: str
) -> None:
    run, _ = harness([ProviderOutcomeUnknown("timeout")])
    await run.run(queued)
    await dispatch.resolve_unknown(run.context, {"message_id": queued})
    message = await run.message(queued)
    assert message.status == "failed"
    assert message.error is not None and message.error["code"] == "send_outcome_unknown"
    assert "not retried" in message.error["message"]


async def test_a_retryable_error_is_retried_with_back_off_and_then_sent(harness: Any, queued: str) -> None:
    run, provider = harness(
        [ProviderTransientError("503 from the provider", code="provider_unavailable"), "wamid.2"]
    )
    with pytest.raises(RetryLater) as retry:
        await run.run(queued)
    assert retry.value.delay > 0
    message = await run.message(queued)
    assert (message.status, message.next_attempt_at is not None) == ("sending", True)

    await run.run(queued)
    message = await run.message(queued)
    assert (message.provider_message_id, message.attempts, len(provider.sent)) == ("wamid.2", 2, 2)


async def test_retries_stop_after_the_configured_attempts(
    harness: Any, queued: str, settings: Settings
) -> None:
    errors: list[ProviderError | str] = [
        ProviderTransientError("throughput", code="throughput_limited", provider_code=130429)
        for _ in range(settings.send_max_attempts)
    ]
    run, _ = harness(errors)
    for _ in range(settings.send_max_attempts - 1):
        with pytest.raises(RetryLater):
            await run.run(queued)
    await run.run(queued)
    message = await run.message(queued)
    assert message.status == "failed"
    assert message.error == {"code": "retries_exhausted", "message": "throughput", "provider_code": 130429}


async def test_a_final_provider_error_fails_the_message_with_the_provider_code(
    harness: Any, queued: str
) -> None:
    run, _ = harness([ProviderRejected("not a WhatsApp user", code="undeliverable", provider_code=131026)])
    await run.run(queued)
    message = await run.message(queued)
    assert message.status == "failed"
    assert message.error == {
        "code": "undeliverable",
        "message": "not a WhatsApp user",
        "provider_code": 131026,
    }


async def test_rejected_credentials_mark_the_channel_and_later_sends_are_refused(
    harness: Any, queued: str, tenant: Tenant, db: Database
) -> None:
    run, _ = harness([ProviderAuthError("token expired", code="channel_unavailable", provider_code=190)])
    await run.run(queued)
    assert (await run.message(queued)).error == {
        "code": "channel_unavailable",
        "message": "token expired",
        "provider_code": 190,
    }
    async with db.sessionmaker() as session:
        status = await session.scalar(select(Channel.status).where(Channel.id == tenant.whatsapp))
    assert status == "credentials_rejected"

    refused = await tenant.send()
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "channel_unavailable"


async def queued_batch(db: Database, tenant: Tenant, count: int) -> list[queue.ClaimedJob]:
    """``count`` messages to customers whose windows are open, each as the dispatch job a
    batch worker would have claimed."""
    jobs = []
    for n in range(count):
        customer = f"+1555010{n:04d}"
        await tenant.inbound(sender=customer)
        message_id = await accept_without_worker(db, tenant, to=customer, text={"body": f"Order {n}"})
        jobs.append(queue.ClaimedJob(f"job_{n}", DISPATCH_JOB, {"message_id": message_id}, 1, 20))
    return jobs


async def test_a_batch_records_each_message_by_its_own_outcome(
    harness: Any, db: Database, tenant: Tenant
) -> None:
    jobs = await queued_batch(db, tenant, 4)
    run, provider = harness(
        [
            "wamid.sent",
            ProviderTransientError("503 from the provider", code="provider_unavailable"),
            ProviderRejected("not a WhatsApp user", code="undeliverable", provider_code=131026),
            ProviderOutcomeUnknown("read timeout after the request was sent"),
        ]
    )
    retries = await dispatch.dispatch_batch(run.context.services, jobs)

    sent, retried, rejected, unknown = [await run.message(job.payload["message_id"]) for job in jobs]
    assert [sent.message_id for sent in provider.sent] == [job.payload["message_id"] for job in jobs]
    assert (sent.status, sent.provider_message_id) == ("sent", "wamid.sent")
    assert list(retries) == [jobs[1].id], "only the retryable one runs again"
    assert (retried.status, retried.next_attempt_at is not None) == ("sending", True)
    assert rejected.status == "failed" and rejected.error is not None
    assert rejected.error["provider_code"] == 131026
    assert (unknown.status, unknown.outcome_unknown_since is not None) == ("sending", True)


async def test_a_batch_costs_the_same_statements_whatever_its_size(
    harness: Any, db: Database, tenant: Tenant, settings: Settings
) -> None:
    """Every rule is checked again at dispatch, for the whole batch at once: a batch of
    twelve reads and writes with as many statements as a batch of three."""
    statements: list[int] = []

    async def count_statements(jobs: list[queue.ClaimedJob]) -> int:
        counted = Database(settings.database_url)
        seen: list[str] = []
        event.listen(counted.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        run = Harness(counted, settings, ScriptedProvider([f"wamid.{job.id}" for job in jobs]))
        await dispatch.dispatch_batch(run.context.services, jobs)
        await counted.dispose()
        if counted.is_sqlite:
            # SQLite cannot say which generated key belongs to which row of a multi-row
            # INSERT, so SQLAlchemy inserts rows with an autoincrement key (the status
            # history) one at a time there; PostgreSQL takes them in one statement.
            seen = [sql for n, sql in enumerate(seen) if n == 0 or sql != seen[n - 1]]
        return len(seen)

    await set_throughput(tenant, 1000)  # every slot within the pacing horizon: none is held
    jobs = await queued_batch(db, tenant, 15)
    statements.append(await count_statements(jobs[:3]))
    statements.append(await count_statements(jobs[3:]))
    assert statements[0] == statements[1], statements
