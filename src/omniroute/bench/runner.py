"""One benchmark run, measured from outside: over HTTP (the API, the provider's record)
and by counting messages by status in the database, never through omniroute's internals.

The run: a fresh database; the provider (emulator or sink), the API (``omniroute serve
--no-workers``) and K ``omniroute worker`` processes, each its own process on loopback;
a live workspace key and a Meta channel created the way an operator creates them
(``OMNIROUTE_ALLOW_PRIVATE_TARGETS`` lets the live channel reach the loopback provider).
Then, in order:

1. windows: every recipient writes first (signed inbound webhooks, 100 per body; the
   emulator is told too), so session messages may be sent;
2. baseline: the bulk messages straight to the provider by a bare aiohttp loop;
3. accept, workers stopped: the bulk messages at concurrency 64, then a sample at a
   fixed 500 requests/s; all stay queued;
4. dispatch: workers start; time from the provider's first receipt to its last, while
   high-lane messages are sent every 100 ms and timed accept -> sent
   (``--kill-one-worker``: one worker is SIGKILLed a third of the way through);
5. e2e: accept -> sent at half the capacity measured above;
6. ingest: a signed ``delivered`` status webhook per sent message, until the database
   shows them all;
7. correctness: the provider's record against the database."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from omniroute.bench import database as scratch
from omniroute.bench.http import HttpClient, serve
from omniroute.bench.processes import (
    BenchError,
    Process,
    ResourceMeter,
    environment,
    free_port,
    omniroute_command,
    wait_ready,
)
from omniroute.bench.report import Result, percentile
from omniroute.core.db import Database
from omniroute.core.metrics import MULTIPROCESS_DIR_VARIABLE
from omniroute.core.tenancy import Mode
from omniroute.messages.models import Direction, MessageStatus
from omniroute.migrations.runner import upgrade
from omniroute.workspaces import service as workspaces

Provider = Literal["emulator", "sink"]

PHONE_NUMBER_ID = "100000000000001"
WABA_ID = "200000000000001"
DISPLAY_PHONE_NUMBER = "15550001234"
API_VERSION = "v23.0"

ACCEPT_CONCURRENCY = 64
FIXED_RATE = 500
FIXED_RATE_SHARE = 4
"""One message in this many of the N is accepted at the fixed rate (at most 2,500)."""
PRIORITY_INTERVAL = 0.1
PRIORITY_SAMPLES = 200
E2E_SECONDS = 5
WINDOW_BATCH = 100
DB_POLL_SECONDS = 0.025
FLOOR_RATE = 20.0
"""Every phase's time limit assumes at least this many items a second."""
JOB_LEASE_SECONDS = 10
"""The job lease in a run: a killed worker's claims come back within the run."""
PROVIDER_TIMEOUT_SECONDS = 3
"""Well inside the lease, as the settings require."""


def phase_timeout(count: int) -> float:
    return 30.0 + count / FLOOR_RATE


def recipient(index: int) -> str:
    """Distinct ordinary numbers: ending in 5, never a sandbox magic suffix (0001-0003)."""
    return f"+234801{index * 10 + 5:07d}"


@dataclass(frozen=True)
class Options:
    database: str | None = None
    messages: int = 5000
    workers: int = 2
    api_processes: int = 1
    provider: Provider = "emulator"
    kill_one_worker: bool = False


@dataclass(frozen=True)
class Recipients:
    bulk: list[str]
    high: list[str]
    e2e: list[str]

    @classmethod
    def plan(cls, messages: int) -> "Recipients":
        e2e = max(10, messages // 5)
        numbers = [recipient(index) for index in range(messages + PRIORITY_SAMPLES + e2e)]
        high_end = messages + PRIORITY_SAMPLES
        return cls(numbers[:messages], numbers[messages:high_end], numbers[high_end:])

    def __iter__(self) -> Iterator[str]:
        yield from (*self.bulk, *self.high, *self.e2e)

    def __len__(self) -> int:
        return len(self.bulk) + len(self.high) + len(self.e2e)


@dataclass
class ProviderStats:
    sends: int
    distinct: int
    duplicates: int
    callback_data: set[str] | None
    """Every ``biz_opaque_callback_data`` received, when the provider lists them."""

    @classmethod
    def of(cls, body: dict[str, Any]) -> "ProviderStats":
        listed = body.get("callback_data")
        return cls(
            int(body["sends"]),
            int(body["distinct"]),
            int(body["duplicates"]),
            {str(item) for item in listed} if isinstance(listed, list | dict) else None,
        )


@dataclass
class Timings:
    """Latencies (seconds) and how many requests were refused."""

    latencies: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    elapsed: float = 0.0


class SentWatcher:
    """Times messages from their POST to the moment the database shows them ``sent``
    (polled every 25 ms)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.pending: dict[str, float] = {}
        self.latencies: list[float] = []
        self.all_sent = asyncio.Event()
        self.all_sent.set()

    def watch(self, message_id: str, since: float) -> None:
        self.pending[message_id] = since
        self.all_sent.clear()

    async def run(self) -> None:
        while True:
            if self.pending:
                done = await scratch.handed_over(self.engine, list(self.pending))
                now = time.perf_counter()
                for message_id in done:
                    self.latencies.append(now - self.pending.pop(message_id))
                if not self.pending:
                    self.all_sent.set()
            await asyncio.sleep(DB_POLL_SECONDS)

    async def drain(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_sent.wait(), seconds)


async def run(options: Options, progress: Callable[[str], None]) -> Result:
    database = await scratch.create(options.database)
    try:
        async with _Bench.started(options, database, progress) as bench:
            return await bench.measure()
    finally:
        await scratch.drop(database, options.database)


class _Bench:
    def __init__(self, options: Options, database: scratch.ScratchDatabase, progress: Callable[[str], None]):
        self.options = options
        self.database = database
        self.progress = progress
        self.workdir = Path(tempfile.mkdtemp(prefix="omniroute-bench-run-"))
        self.recipients = Recipients.plan(options.messages)
        self.app_secret = secrets.token_hex(16)
        self.access_token = secrets.token_hex(24)
        self.provider_port = free_port()
        self.api_port = free_port()
        self.meter = ResourceMeter()
        self.workers: list[Process] = []
        self.processes: list[Process] = []
        self.engine = scratch.reader(database.url)
        self.api = HttpClient("127.0.0.1", self.api_port, connections=1024)
        self.provider = HttpClient("127.0.0.1", self.provider_port, connections=ACCEPT_CONCURRENCY)
        self.collector: asyncio.Server | None = None
        self.channel_id = ""
        self.auth: dict[str, str] = {}
        self.result = Result(database.kind, options.messages, options.workers)
        metrics_directory = self.workdir / "metrics"
        metrics_directory.mkdir()
        self.env = environment(
            {
                "OMNIROUTE_DATABASE_URL": database.url,
                "OMNIROUTE_SECRET_KEY": Fernet.generate_key().decode(),
                "OMNIROUTE_ALLOW_PRIVATE_TARGETS": "true",
                "OMNIROUTE_LOG_LEVEL": "warning",
                "OMNIROUTE_JOB_LEASE_SECONDS": str(JOB_LEASE_SECONDS),
                "OMNIROUTE_PROVIDER_TIMEOUT_SECONDS": str(PROVIDER_TIMEOUT_SECONDS),
                MULTIPROCESS_DIR_VARIABLE: str(metrics_directory),
            }
        )

    @classmethod
    @contextlib.asynccontextmanager
    async def started(
        cls, options: Options, database: scratch.ScratchDatabase, progress: Callable[[str], None]
    ) -> AsyncIterator["_Bench"]:
        bench = cls(options, database, progress)
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(shutil.rmtree, bench.workdir, ignore_errors=True)
            stack.push_async_callback(bench.engine.dispose)
            stack.push_async_callback(bench.stop_all)
            await bench.start()
            sampling = asyncio.create_task(bench.meter.run())
            stack.callback(sampling.cancel)
            yield bench

    def start_process(self, name: str, command: list[str], *, measured: bool = True) -> Process:
        process = Process(name, command, self.env, self.workdir / f"{name.replace(' ', '-')}.log")
        self.processes.append(process)
        if measured:
            self.meter.track(process.pid)
        return process

    async def stop_all(self) -> None:
        await asyncio.gather(*(process.stop() for process in self.processes))
        await self.api.close()
        await self.provider.close()
        if self.collector is not None:
            self.collector.close()

    async def start(self) -> None:
        self.progress(f"database: fresh {self.database.kind} ({self.database.name})")
        await asyncio.to_thread(upgrade, self.database.url)
        self.auth = {"Authorization": f"Bearer {await self.live_key()}"}
        provider = await self.start_provider()
        api = self.start_process(
            "api",
            omniroute_command(
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.api_port),
                "--no-workers",
                "--processes",
                str(self.options.api_processes),
            ),
        )
        await asyncio.gather(
            wait_ready(provider, self.provider, "/_emulator/health"), wait_ready(api, self.api, "/healthz")
        )
        self.channel_id = await self.create_channel()
        self.progress(
            f"started: {self.options.provider} on :{self.provider_port}, API ({self.options.api_processes} "
            f"process(es)) on :{self.api_port}, channel {self.channel_id}"
        )

    async def live_key(self) -> str:
        database = Database(self.database.url)
        try:
            async with database.transaction() as session:
                workspace = await workspaces.default_workspace(session)
                return await workspaces.create_api_key(session, workspace, Mode.LIVE, name="omniroute bench")
        finally:
            await database.dispose()

    async def start_provider(self) -> Process:
        port = str(self.provider_port)
        if self.options.provider == "sink":
            command = [
                sys.executable,
                "-m",
                "omniroute.bench.sink",
                "--port",
                port,
                "--phone-number-id",
                PHONE_NUMBER_ID,
                "--access-token",
                self.access_token,
                "--display-phone-number",
                DISPLAY_PHONE_NUMBER,
            ]
            return self.start_process("sink", command, measured=False)
        # The emulator's own webhooks (inbound echoes of the windows, statuses an hour
        # after each send) go to a collector: the benchmark posts its own, measured.
        collector_port = free_port()
        self.collector = await serve(lambda request: (200, {}), "127.0.0.1", collector_port)
        command = omniroute_command(
            "emulator",
            "--unlimited",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--phone-number-id",
            PHONE_NUMBER_ID,
            "--waba-id",
            WABA_ID,
            "--app-secret",
            self.app_secret,
            "--access-token",
            self.access_token,
            "--webhook-url",
            f"http://127.0.0.1:{collector_port}/",
            "--display-phone-number",
            DISPLAY_PHONE_NUMBER,
            "--status-interval",
            "3600",
        )
        return self.start_process("emulator", command, measured=False)

    async def create_channel(self) -> str:
        body = {
            "type": "whatsapp",
            "provider": "meta",
            "config": {
                "phone_number_id": PHONE_NUMBER_ID,
                "waba_id": WABA_ID,
                "access_token": self.access_token,
                "app_secret": self.app_secret,
                "verify_token": secrets.token_hex(8),
                "graph_base_url": f"http://127.0.0.1:{self.provider_port}",
                "api_version": API_VERSION,
            },
        }
        response = await self.api.request("POST", "/v1/channels", body, self.auth)
        if response.status != 201:
            raise BenchError(f"creating the Meta channel failed ({response.status}): {response.body!r}")
        channel = response.json()
        if channel["status"] != "active":
            raise BenchError(f"the Meta channel is {channel['status']}: the provider refused the check")
        return str(channel["id"])

    def start_workers(self) -> None:
        self.workers = [
            self.start_process(f"worker {index}", omniroute_command("worker"))
            for index in range(self.options.workers)
        ]

    async def stop_workers(self) -> None:
        await asyncio.gather(*(worker.stop() for worker in self.workers))
        self.workers = []

    # -- measuring ---------------------------------------------------------------------

    async def measure(self) -> Result:
        self.start_workers()
        await self.open_windows()
        await self.stop_workers()
        await self.measure_baseline()
        accept_cpu = await self.measure_accept()
        await self.measure_dispatch(accept_cpu)
        await self.measure_e2e()
        await self.measure_ingest()
        await self.check_correctness()
        self.result.peak_rss_mb = self.meter.peak_rss_bytes / 2**20
        return self.result

    async def open_windows(self) -> None:
        numbers = list(self.recipients)
        self.progress(f"windows: {len(numbers)} customers write first")
        now = int(time.time())
        batches = [numbers[start : start + WINDOW_BATCH] for start in range(0, len(numbers), WINDOW_BATCH)]
        payloads = (self.inbound_payload(batch, now) for batch in batches)
        await _bounded(8, (self.post_webhook(payload) for payload in payloads))
        if self.options.provider == "emulator":
            injections = (
                self.provider.request("POST", "/_emulator/inbound", {"from": number, "text": "hi"}, self.auth)
                for number in numbers
            )
            for response in await _bounded(ACCEPT_CONCURRENCY, injections):
                if response.status != 200:
                    raise BenchError(f"the emulator refused an inbound message: {response.body!r}")
        await self.until(
            "windows",
            lambda: scratch.count_messages(self.engine, self.channel_id, direction=Direction.INBOUND),
            len(numbers),
            phase_timeout(len(numbers)),
        )

    async def measure_baseline(self) -> None:
        numbers = self.recipients.bulk
        self.progress(f"baseline: {len(numbers)} messages straight to the {self.options.provider} (aiohttp)")
        url = f"http://127.0.0.1:{self.provider_port}/{API_VERSION}/{PHONE_NUMBER_ID}/messages"
        failures: list[str] = []
        work = iter(enumerate(numbers))
        connector = aiohttp.TCPConnector(limit=ACCEPT_CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector, headers=self.provider_auth()) as session:

            async def lane() -> None:
                for index, number in work:
                    payload = {
                        "messaging_product": "whatsapp",
                        "recipient_type": "individual",
                        "to": number,
                        "type": "text",
                        "text": {"body": "omniroute bench", "preview_url": False},
                        "biz_opaque_callback_data": f"baseline-{index}",
                    }
                    async with session.post(url, json=payload) as response:
                        body = await response.read()
                        if response.status != 200:
                            failures.append(body.decode(errors="replace"))

            started = time.perf_counter()
            await asyncio.gather(*(lane() for _ in range(ACCEPT_CONCURRENCY)))
            elapsed = time.perf_counter() - started
        if failures:
            raise BenchError(
                f"the {self.options.provider} refused {len(failures)} baseline sends: {failures[0]}"
            )
        self.result.baseline_mps = len(numbers) / elapsed
        response = await self.provider.request("POST", "/_emulator/stats/reset", None, self.auth)
        if response.status != 200:
            raise BenchError(f"resetting the provider's record failed: {response.body!r}")

    async def measure_accept(self) -> float:
        """Both accept figures, workers stopped; returns the CPU seconds it took."""
        bulk = self.recipients.bulk
        fixed_count = min(max(1, len(bulk) // FIXED_RATE_SHARE), 2500)
        closed, fixed = bulk[: len(bulk) - fixed_count], bulk[len(bulk) - fixed_count :]
        self.meter.sample()
        cpu_before = self.meter.cpu_seconds()
        self.progress(f"accept: {len(closed)} messages at concurrency {ACCEPT_CONCURRENCY}")
        timings = await _within("accept", phase_timeout(len(closed)), self.closed_loop(closed))
        self.result.accept_rps = len(timings.message_ids) / timings.elapsed
        self.result.accept_p50_ms = _ms(percentile(timings.latencies, 0.5))
        self.result.accept_p99_ms = _ms(percentile(timings.latencies, 0.99))
        self.progress(f"accept: {len(fixed)} messages at {FIXED_RATE} req/s")
        at_rate = await _within("accept at 500/s", phase_timeout(len(fixed)), self.fixed_rate(fixed))
        self.result.accept_p99_ms_at_500 = _ms(percentile(at_rate.latencies, 0.99))
        refused = timings.refused + at_rate.refused
        if refused:
            self.progress(f"warning: {len(refused)} sends refused, e.g. {refused[0]}")
        self.meter.sample()
        return self.meter.cpu_seconds() - cpu_before

    async def send(
        self, number: str, priority: str, timings: Timings, *, since: float | None = None
    ) -> str | None:
        started = time.perf_counter()
        body = {
            "channel_id": self.channel_id,
            "to": number,
            "text": {"body": "omniroute bench"},
            "priority": priority,
        }
        response = await self.api.request("POST", "/v1/messages", body, self.auth)
        timings.latencies.append(time.perf_counter() - (since if since is not None else started))
        if response.status != 202:
            timings.refused.append(f"{response.status} {response.body[:300]!r}")
            return None
        message_id = str(response.json()["id"])
        timings.message_ids.append(message_id)
        return message_id

    async def closed_loop(self, numbers: list[str]) -> Timings:
        timings = Timings()
        work = iter(numbers)

        async def lane() -> None:
            for number in work:
                await self.send(number, "bulk", timings)

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(ACCEPT_CONCURRENCY)))
        timings.elapsed = time.perf_counter() - started
        return timings

    async def fixed_rate(
        self,
        numbers: list[str],
        rate: float = FIXED_RATE,
        priority: str = "bulk",
        watcher: SentWatcher | None = None,
    ) -> Timings:
        """Open loop: request i is due ``i / rate`` seconds after the start, whatever the
        answers before it; its latency counts from when it was due."""
        timings = Timings()
        started = time.perf_counter()

        async def one(index: int, number: str) -> None:
            due = started + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            message_id = await self.send(number, priority, timings, since=due)
            if watcher is not None and message_id is not None:
                watcher.watch(message_id, due)

        await asyncio.gather(*(one(index, number) for index, number in enumerate(numbers)))
        timings.elapsed = time.perf_counter() - started
        return timings

    async def provider_stats(self) -> ProviderStats:
        response = await self.provider.request("GET", "/_emulator/stats", None, self.auth)
        if response.status != 200:
            raise BenchError(f"the provider's stats failed ({response.status}): {response.body!r}")
        return ProviderStats.of(response.json())

    async def measure_dispatch(self, accept_cpu: float) -> None:
        bulk = len(self.recipients.bulk)
        queued = await scratch.count_messages(self.engine, self.channel_id, statuses=[MessageStatus.QUEUED])
        self.progress(
            f"dispatch: {queued} queued, {self.options.workers} worker(s) start"
            + (", one is killed a third of the way" if self.options.kill_one_worker else "")
        )
        run = _DispatchRun(bulk, poll=max(0.05, bulk / 100_000), sent=SentWatcher(self.engine))
        timeout = phase_timeout(bulk) + (60 if self.options.kill_one_worker else 0)
        deadline = time.perf_counter() + timeout
        watching = asyncio.create_task(run.sent.run())
        try:
            self.start_workers()
            first = await self.first_receipt(run, deadline)
            if first is None:
                self.progress(f"warning: the provider received nothing within {timeout:g} s")
                return
            self.meter.sample()
            cpu_at_first = self.meter.cpu_seconds()
            posting = asyncio.create_task(self.send_high_lane(run))
            received = await self.until_received(run, posting, deadline)
            elapsed = time.perf_counter() - first
            self.meter.sample()
            self.result.dispatch_mps = received / elapsed
            handled = bulk + len(run.high.message_ids)
            self.result.cpu_ms_per_msg = (
                (accept_cpu + self.meter.cpu_seconds() - cpu_at_first) * 1000 / handled
            )
            await posting
            await run.sent.drain(phase_timeout(len(run.high.message_ids)))
            self.result.priority_p99_ms = _ms(percentile(run.sent.latencies, 0.99))
            self.progress(f"dispatch: {len(run.sent.latencies)} high-lane messages timed during the bulk run")
        finally:
            run.bulk_done.set()
            watching.cancel()

    async def first_receipt(self, run: "_DispatchRun", deadline: float) -> float | None:
        """When the provider received the first message: the time of the last poll that
        still saw none."""
        while True:
            asked = time.perf_counter()
            if (await self.provider_stats()).distinct > 0:
                return run.last_empty
            run.last_empty = asked
            if asked > deadline:
                return None
            await asyncio.sleep(run.poll)

    async def until_received(self, run: "_DispatchRun", posting: asyncio.Task[None], deadline: float) -> int:
        """Poll the provider until it has every bulk and high-lane message (or the
        database has nothing left to send); returns how many it received."""
        kill_pending = self.options.kill_one_worker
        while True:
            stats = await self.provider_stats()
            high = len(run.high.message_ids)
            if kill_pending and stats.distinct >= run.bulk // 3:
                self.workers[0].kill()
                kill_pending = False
                self.progress(
                    f"dispatch: killed worker pid {self.workers[0].pid} at {stats.distinct} received"
                )
            if stats.distinct - high >= run.bulk:
                run.bulk_done.set()
            everything = stats.distinct >= run.bulk + high
            if posting.done() and (everything or await self.settled()):
                return stats.distinct
            if time.perf_counter() > deadline:
                self.progress(f"warning: dispatch timed out ({stats.distinct} received)")
                return stats.distinct
            await asyncio.sleep(run.poll)

    async def send_high_lane(self, run: "_DispatchRun") -> None:
        """A high-lane message every 100 ms while the bulk run lasts."""
        for number in self.recipients.high:
            if run.bulk_done.is_set():
                return
            started = time.perf_counter()
            message_id = await self.send(number, "high", run.high)
            if message_id is not None:
                run.sent.watch(message_id, started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    run.bulk_done.wait(), max(0.0, started + PRIORITY_INTERVAL - time.perf_counter())
                )

    async def settled(self) -> bool:
        """No outbound message is still queued or sending."""
        return await scratch.count_messages(self.engine, self.channel_id, statuses=scratch.UNSETTLED) == 0

    async def measure_e2e(self) -> None:
        capacities = [rate for rate in (self.result.accept_rps, self.result.dispatch_mps) if rate]
        if not capacities:
            return
        rate = min(capacities) / 2
        numbers = self.recipients.e2e[: max(10, int(rate * E2E_SECONDS))]
        self.progress(f"e2e: {len(numbers)} messages at {rate:,.0f} msg/s (half the capacity)")
        watcher = SentWatcher(self.engine)
        watching = asyncio.create_task(watcher.run())
        try:
            await _within(
                "e2e", phase_timeout(len(numbers)), self.fixed_rate(numbers, rate, "normal", watcher)
            )
            await watcher.drain(phase_timeout(len(numbers)))
        finally:
            watching.cancel()
        if watcher.pending:
            self.progress(f"warning: {len(watcher.pending)} e2e messages were not sent in time")
        self.result.e2e_p50_ms = _ms(percentile(watcher.latencies, 0.5))
        self.result.e2e_p99_ms = _ms(percentile(watcher.latencies, 0.99))

    async def measure_ingest(self) -> None:
        sent = await scratch.provider_ids(self.engine, self.channel_id)
        self.progress(f"ingest: {len(sent)} signed 'delivered' status webhooks")
        reached = (MessageStatus.DELIVERED, MessageStatus.READ)
        before = await scratch.count_messages(self.engine, self.channel_id, statuses=reached)
        now = int(time.time())
        started = time.perf_counter()
        await _bounded(
            ACCEPT_CONCURRENCY,
            (self.post_webhook(self.status_payload(*row, now)) for row in sent),
        )
        await self.until(
            "ingest",
            lambda: scratch.count_messages(self.engine, self.channel_id, statuses=reached),
            before + len(sent),
            phase_timeout(len(sent)),
        )
        if sent:
            self.result.ingest_sps = len(sent) / (time.perf_counter() - started)

    async def check_correctness(self) -> None:
        stats = await self.provider_stats()
        ours = await scratch.outbound_ids(self.engine, self.channel_id)
        self.result.duplicates = stats.duplicates
        if stats.callback_data is not None:
            self.result.lost = len(ours - stats.callback_data)
        else:
            self.result.lost = max(0, len(ours) - stats.distinct)

    # -- helpers -----------------------------------------------------------------------

    def provider_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    async def until(
        self, phase: str, probe: Callable[[], Awaitable[int]], target: int, seconds: float
    ) -> None:
        deadline = time.perf_counter() + seconds
        while (value := await probe()) < target:
            if time.perf_counter() > deadline:
                self.progress(f"warning: {phase} timed out after {seconds:g} s ({value} of {target})")
                return
            await asyncio.sleep(DB_POLL_SECONDS * 4)

    async def post_webhook(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        response = await self.api.request(
            "POST",
            f"/hooks/meta/{self.channel_id}",
            body,
            {"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
        if response.status != 200:
            raise BenchError(f"the gateway refused a webhook ({response.status}): {response.body!r}")

    def _envelope(self, value: dict[str, Any], now: int) -> dict[str, Any]:
        metadata = {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "time": now,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                        }
                    ],
                }
            ],
        }

    def inbound_payload(self, numbers: list[str], now: int) -> dict[str, Any]:
        wa_ids = [number.lstrip("+") for number in numbers]
        return self._envelope(
            {
                "contacts": [{"profile": {"name": "Bench Customer"}, "wa_id": wa_id} for wa_id in wa_ids],
                "messages": [
                    {
                        "from": wa_id,
                        "id": f"wamid.BENCHIN{wa_id}",
                        "timestamp": str(now),
                        "type": "text",
                        "text": {"body": "hi"},
                    }
                    for wa_id in wa_ids
                ],
            },
            now,
        )

    def status_payload(
        self, message_id: str, provider_message_id: str, number: str, now: int
    ) -> dict[str, Any]:
        status = {
            "id": provider_message_id,
            "status": "delivered",
            "timestamp": str(now),
            "recipient_id": number.lstrip("+"),
            "biz_opaque_callback_data": message_id,
        }
        return self._envelope({"statuses": [status]}, now)


@dataclass
class _DispatchRun:
    """The dispatch phase's state: the bulk size, and the high-lane messages sent during
    it with their timing."""

    bulk: int
    poll: float
    sent: SentWatcher
    high: Timings = field(default_factory=Timings)
    bulk_done: asyncio.Event = field(default_factory=asyncio.Event)
    last_empty: float = field(default_factory=time.perf_counter)


async def _bounded(limit: int, work: Iterable[Awaitable[Any]]) -> list[Any]:
    """Await ``work`` with at most ``limit`` running at once; the results in order."""
    items = list(enumerate(work))
    results: list[Any] = [None] * len(items)
    queue = iter(items)

    async def lane() -> None:
        for index, awaitable in queue:
            results[index] = await awaitable

    await asyncio.gather(*(lane() for _ in range(limit)))
    return results


async def _within(phase: str, seconds: float, work: Awaitable[Timings]) -> Timings:
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError as exc:
        raise BenchError(f"{phase} did not finish within {seconds:g} s") from exc


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000
