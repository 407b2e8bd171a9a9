"""The ``omniroute`` command line: serve, worker, migrate, keys, workspaces, templates, emulator."""

import asyncio
import gc
import json
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns.usage import usage as read_usage
from omniroute.config import Settings, get_settings
from omniroute.core import secrets
from omniroute.core.db import Database
from omniroute.core.errors import APIError
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.core.time import utcnow
from omniroute.migrations.runner import upgrade
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND
from omniroute.workspaces import service
from omniroute.workspaces.models import ApiKey, Workspace
from omniroute.workspaces.schemas import ApiKeyOut, WorkspaceSummary
from omniroute.workspaces.service import MAX_ROTATION_GRACE

app = typer.Typer(help="omniroute: a multi-channel business messaging gateway.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
secrets_app = typer.Typer(help="Manage the key that encrypts channel secrets.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
workspaces_app = typer.Typer(help="Manage workspaces (tenants).", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
templates_app = typer.Typer(help="Work with WhatsApp message templates offline.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
GRACEFUL_SHUTDOWN_SECONDS = 10
"""On shutdown, requests in progress get this long to finish; open web chat streams (which
would otherwise keep the server up) are then cut, and their widgets reconnect elsewhere."""


class ModeOption(StrEnum):
    test = "test"
    live = "live"


class Switch(StrEnum):
    on = "on"
    off = "off"


def _setting_default(name: str) -> str:
    """How ``--help`` shows an option whose default comes from the environment."""
    return f"{Settings.model_fields[name].default}; env OMNIROUTE_{name.upper()}"


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (SQLite or PostgreSQL)."""
    settings = get_settings()
    upgrade(settings.database_url)
    console.print(f"database at [bold]{_redacted(settings.database_url)}[/] is up to date")


async def _bootstrap(settings: Settings) -> tuple[str, str, list[tuple[str, str, str]]]:
    from omniroute.channels.models import Channel

    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            workspace = await service.default_workspace(session)
            key = await service.create_api_key(session, workspace, Mode.TEST, name="printed by serve")
            channels = (
                await session.scalars(
                    select(Channel)
                    .where(
                        Channel.workspace_id == workspace.id,
                        Channel.mode == Mode.TEST,
                        Channel.deleted_at.is_(None),
                    )
                    .order_by(Channel.id)
                )
            ).all()
            return key, workspace.id, [(c.id, c.type, c.address) for c in channels]
    finally:
        await db.dispose()


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on.", show_default=_setting_default("host"))
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on.", show_default=_setting_default("port"))
    ] = None,
    workers: Annotated[bool, typer.Option(help="Run the background workers in this process.")] = True,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes sharing the port (each with its own workers unless --no-workers).",
        ),
    ] = 1,
) -> None:
    """Start the HTTP API with in-process background workers."""
    import uvicorn

    from omniroute.app import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    _configure_logging(settings)
    created_key = secrets.ensure_key_file(settings)
    upgrade(settings.database_url)
    key, workspace_id, channels = asyncio.run(_bootstrap(settings))
    base = f"http://{host}:{port}"
    console.print(f"\n[bold green]omniroute[/] is starting on [bold]{base}[/]")
    console.print(f"  API docs:      {base}/docs")
    console.print(f"  Dashboard:     {base}/dashboard  (sign in with the test API key below)")
    console.print(f"  Database:      {_redacted(settings.database_url)}")
    if created_key is not None:
        console.print(f"  Secret key:    created {created_key} (encrypts channel secrets; back it up)")
    console.print(f"  Workspace:     {workspace_id}")
    for channel_id, channel_type, address in channels:
        console.print(f"  Sandbox {channel_type:<9} {channel_id}  ({address})")
    console.print(f"  Test API key:  [bold]{key}[/]")
    if processes > 1:
        console.print(f"  Processes:     {processes}")
    console.print(f'\n  Try: curl -H "Authorization: Bearer {key}" {base}/v1/channels?type=whatsapp\n')
    if processes == 1:
        uvicorn.run(
            create_app(settings, run_workers=workers),
            host=host,
            port=port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        return
    with _shared_metrics_directory():
        uvicorn.run(
            "omniroute.app:create_app" if workers else "omniroute.app:create_api_app",
            factory=True,
            workers=processes,
            host=host,
            port=port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )


@contextmanager
def _shared_metrics_directory() -> Iterator[None]:
    """Several API processes count into one directory, so any of them can answer
    /metrics for all: PROMETHEUS_MULTIPROC_DIR as set, else a fresh one for this run."""
    from omniroute.core.metrics import MULTIPROCESS_DIR_VARIABLE

    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        yield
        return
    directory = tempfile.mkdtemp(prefix="omniroute-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@secrets_app.command("rotate")
def rotate_secrets() -> None:
    """Re-encrypt every stored channel secret with the first key of OMNIROUTE_SECRET_KEY.

    Rotation: set OMNIROUTE_SECRET_KEY=NEW,OLD (NEW first) everywhere and restart, run
    this, then set OMNIROUTE_SECRET_KEY=NEW and restart again."""
    from omniroute.channels.service import reencrypt_secrets

    secrets.configure(get_settings())
    count = _in_transaction(reencrypt_secrets)
    console.print(f"re-encrypted the secrets of {count} channel(s) with the first key")


@app.command()
def worker() -> None:
    """Run background workers only (start several, on several machines, to scale out)."""
    import omniroute.tasks  # noqa: F401  (registers job handlers)
    from omniroute.app import start_workers
    from omniroute.services import build_services

    settings = get_settings()
    _configure_logging(settings)
    upgrade(settings.database_url)

    async def run() -> None:
        services = build_services(settings)
        services.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await start_workers(services, stop)
        finally:
            await services.close()

    asyncio.run(run())


@app.command()
def emulator(
    phone_number_id: Annotated[str, typer.Option(help="The emulated business phone number's id.")],
    waba_id: Annotated[str, typer.Option(help="The emulated WhatsApp Business Account id.")],
    app_secret: Annotated[str, typer.Option(help="Signs webhooks (X-Hub-Signature-256).")],
    access_token: Annotated[str, typer.Option(help="The bearer token API calls must carry.")],
    webhook_url: Annotated[str, typer.Option(help="Where signed webhooks are POSTed.")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    throughput: Annotated[
        int, typer.Option(min=1, help="Messages per second before error 130429.")
    ] = DEFAULT_THROUGHPUT_PER_SECOND,
    status_interval: Annotated[
        float, typer.Option(min=0, help="Seconds between a message's status webhooks.")
    ] = 1.0,
    review_seconds: Annotated[
        float, typer.Option(min=0, help="Seconds before a template's automatic review verdict.")
    ] = 2.0,
    display_phone_number: Annotated[
        str, typer.Option(help="The number shown in webhooks' metadata.")
    ] = "15550001234",
    webhook_time_scale: Annotated[
        float,
        typer.Option(
            min=0,
            help="Multiplies Meta's webhook retry schedule (5 s doubling to 1 h, for 7 days); "
            "0.001 plays it in 10 minutes.",
        ),
    ] = 1.0,
    unlimited: Annotated[
        bool,
        typer.Option(
            "--unlimited",
            help="Lift the simulated limits for benchmarks: no throughput or pair rate refusals; the "
            "number reports HIGH throughput and an unlimited messaging tier.",
        ),
    ] = False,
    status_webhooks: Annotated[
        Switch, typer.Option(help="Send sent/delivered/read (or failed) status webhooks after each send.")
    ] = Switch.on,
) -> None:
    """Run a WhatsApp Cloud API emulator (Graph API paths, signed webhooks, Meta's rules)."""
    import uvicorn

    from omniroute.emulator.app import create_emulator_app
    from omniroute.emulator.config import EmulatorConfig

    config = EmulatorConfig(
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        app_secret=app_secret,
        access_token=access_token,
        webhook_url=webhook_url,
        throughput=throughput,
        status_interval=status_interval,
        review_seconds=review_seconds,
        display_phone_number=display_phone_number,
        webhook_time_scale=webhook_time_scale,
        unlimited=unlimited,
        status_webhooks=status_webhooks is Switch.on,
    )
    console.print(
        f"WhatsApp Cloud API emulator on [bold]http://{host}:{port}[/] "
        f"(phone number {phone_number_id}, WABA {waba_id}); webhooks to {webhook_url}"
    )
    application = create_emulator_app(config)
    # Under load most objects live for one request or one batch of webhooks: collect the young
    # generation rarely enough that they are gone by then, and keep what is loaded by now
    # (it lives as long as the process) out of every collection. Measured: the collector
    # took a quarter of the emulator's time at 5,000 sends/s before.
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop="auto",  # uvloop, a dependency wherever it is available
        http="httptools",
    )


class BenchProvider(StrEnum):
    emulator = "emulator"
    sink = "sink"


@app.command()
def bench(
    database: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL URL: the run creates a fresh database on that server (named after "
            "this one) and drops it after. Default: a fresh temporary SQLite file.",
            show_default=False,
        ),
    ] = None,
    messages: Annotated[
        int, typer.Option(min=10, max=200_000, help="N: messages pre-queued for the dispatch run.")
    ] = 5000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="omniroute worker processes.")] = 2,
    api_processes: Annotated[int, typer.Option(min=1, max=64, help="API processes (serve --processes).")] = 1,
    provider: Annotated[
        BenchProvider,
        typer.Option(help="emulator: omniroute emulator --unlimited; sink: a minimal Graph API sink."),
    ] = BenchProvider.emulator,
    kill_one_worker: Annotated[
        bool,
        typer.Option(
            "--kill-one-worker", help="SIGKILL one worker mid-dispatch (needs --workers 2 or more)."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Measure throughput and latency end to end: starts the provider, the API and the
    workers as processes on loopback, on a fresh database (docs/performance.md)."""
    from omniroute.bench import runner
    from omniroute.bench.http import run
    from omniroute.bench.processes import BenchError

    if kill_one_worker and workers < 2:
        raise typer.BadParameter("--kill-one-worker needs at least 2 workers", param_hint="--workers")
    options = runner.Options(
        database=database,
        messages=messages,
        workers=workers,
        api_processes=api_processes,
        provider=provider.value,
        kill_one_worker=kill_one_worker,
    )
    try:
        result = run(runner.run(options, lambda line: console.print(f"[dim]{escape(line)}[/]")))
    except BenchError as error:
        console.print(f"[bold red]bench failed:[/] {escape(str(error))}")
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(result.as_json())
        return
    title = f"omniroute bench: {provider.value}, {api_processes} API process(es)"
    if kill_one_worker:
        title += ", one worker killed"
    Console(soft_wrap=True).print(result.table(title))


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on the configured (migrated) database; an
    API error it raises (an unknown id, a refused value) becomes a usage error."""
    settings = get_settings()
    upgrade(settings.database_url)

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except APIError as error:
        raise typer.BadParameter(error.message, param_hint=error.param) from error


async def _workspace_or_default(session: AsyncSession, workspace_id: str | None) -> Workspace:

    if workspace_id is None:
        return await service.default_workspace(session)
    return await service.get_workspace(session, workspace_id, param="--workspace")


WorkspaceOption = Annotated[str | None, typer.Option(help="Workspace id (default: the first workspace).")]


@keys_app.command("create")
def create_key(
    mode: Annotated[ModeOption, typer.Option(help="test keys use the sandbox; live keys real providers.")],
    workspace: WorkspaceOption = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    admin: Annotated[
        bool | None,
        typer.Option(
            help="An admin key (live only) manages API keys and workspaces over /v1.",
            show_default="admin for the default workspace's first live key while no admin key works",
        ),
    ] = None,
) -> None:
    """Create an API key. The key is printed once, alone on the last line."""

    async def create(session: AsyncSession) -> tuple[str, bool]:
        target = await _workspace_or_default(session, workspace)
        grant = admin
        if grant is None:
            grant = await service.admin_by_default(session, target, Mode(mode.value), utcnow())
        return await service.create_api_key(session, target, Mode(mode.value), name=name, admin=grant), grant

    key, is_admin = _in_transaction(create)
    if is_admin:
        console.print("This is an [bold]admin key[/]: it manages API keys and workspaces. Keep it safe.")
    typer.echo(key)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, as the API's list shows it.")]


@keys_app.command("list")
def list_keys(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """List a workspace's API keys (their prefixes: a key itself is never shown again)."""

    async def read(session: AsyncSession) -> list[ApiKeyOut]:
        target = await _workspace_or_default(session, workspace)
        rows = (await session.scalars(service.api_keys(target.id).order_by(ApiKey.id))).all()
        return [ApiKeyOut.of(row, utcnow()) for row in rows]

    api_keys = _in_transaction(read)
    if as_json:
        typer.echo(json.dumps([key.model_dump(mode="json") for key in api_keys], indent=2))
        return
    table = Table("id", "prefix", "status", "name", "last used", box=None)
    for column in table.columns[:2]:
        column.no_wrap = True
    for key in api_keys:
        status = key.status if key.expires_at is None else f"{key.status} {_when(key.expires_at)}"
        table.add_row(
            key.id,
            key.prefix,
            f"{status}, admin" if key.admin else status,
            escape(key.name),
            _when(key.last_used_at),
        )
    Console(soft_wrap=True).print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...), from 'keys list'.")],
) -> None:
    """Revoke an API key: requests with it are refused (401) from now on."""

    async def revoke(session: AsyncSession) -> None:
        service.revoke_api_key(await service.get_api_key(session, key_id), utcnow())

    _in_transaction(revoke)
    console.print(f"API key {key_id} is revoked.")


@keys_app.command("rotate")
def rotate_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...), from 'keys list'.")],
    grace_period: Annotated[
        int,
        typer.Option(
            min=0,
            max=int(MAX_ROTATION_GRACE.total_seconds()),
            help="Seconds the old key keeps working; 0 revokes it now.",
        ),
    ] = 0,
) -> None:
    """Replace an API key with a new one (same workspace, mode, name and rights), printed
    once alone on the last line."""

    async def rotate(session: AsyncSession) -> str:
        key = await service.get_api_key(session, key_id)
        return (await service.rotate_api_key(session, key, utcnow(), timedelta(seconds=grace_period))).raw

    new_key = _in_transaction(rotate)
    console.print(
        f"API key {key_id} is replaced" + (f"; it works for {grace_period} s more." if grace_period else ".")
    )
    typer.echo(new_key)


@workspaces_app.command("create")
def create_workspace(name: Annotated[str, typer.Argument(help="The business's name.")]) -> None:
    """Create a workspace with its sandbox channels; its id is printed alone on the last line.
    Then give it keys: 'omniroute keys create --workspace ws_... --mode test'."""

    async def create(session: AsyncSession) -> str:
        return (await service.create_workspace(session, name)).id

    if not 1 <= len(name) <= 200:
        raise typer.BadParameter("a name has 1 to 200 characters", param_hint="NAME")
    typer.echo(_in_transaction(create))


@workspaces_app.command("list")
def list_workspaces(as_json: JsonOption = False) -> None:
    """List every workspace, oldest (the default one) first."""

    async def read(session: AsyncSession) -> list[WorkspaceSummary]:
        rows = (await session.scalars(service.workspaces().order_by(Workspace.id))).all()
        return [WorkspaceSummary.model_validate(row) for row in rows]

    workspaces = _in_transaction(read)
    if as_json:
        typer.echo(json.dumps([workspace.model_dump(mode="json") for workspace in workspaces], indent=2))
        return
    table = Table("id", "name", "created", box=None)
    for workspace in workspaces:
        table.add_row(workspace.id, escape(workspace.name), _when(workspace.created_at))
    Console(soft_wrap=True).print(table)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%MZ")


@templates_app.command("lint")
def lint_templates(
    file: Annotated[
        Path, typer.Argument(help="A JSON file holding one template or a list of templates in Meta's shape.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the lint results as JSON.")] = False,
) -> None:
    """Lint templates without a server, e.g. in CI. Exits 1 when any template has an error."""
    from omniroute.templates.lint import lint

    try:
        loaded: Any = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {file} as JSON: {exc}", param_hint="FILE") from exc
    templates = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(template, dict) for template in templates):
        raise typer.BadParameter("the file must hold a template object or a list of them", param_hint="FILE")
    results = [{"name": t.get("name"), "language": t.get("language"), **lint(t).as_dict()} for t in templates]
    if as_json:
        typer.echo(
            json.dumps(results if isinstance(loaded, list) else results[0], indent=2, ensure_ascii=False)
        )
    else:
        out = Console(soft_wrap=True)
        for result in results:
            verdict = "[bold green]valid[/]" if result["valid"] else "[bold red]invalid[/]"
            out.print(f"{escape(str(result['name']))} ({escape(str(result['language']))}): {verdict}")
            if result["issues"]:
                table = Table("severity", "code", "component", "message", show_lines=False)
                for issue in result["issues"]:
                    colour = "red" if issue["severity"] == "error" else "yellow"
                    table.add_row(
                        f"[{colour}]{issue['severity']}[/]",
                        issue["code"],
                        escape(issue["component"]),
                        escape(issue["message"]),
                    )
                out.print(table)
            if result["suggested_category"]:
                out.print(
                    f"  suggested category: [bold]{result['suggested_category']}[/] "
                    f"(because of: {escape(result['category_reason'])})"
                )
    if not all(result["valid"] for result in results):
        raise typer.Exit(1)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def smsc(
    system_id: Annotated[str, typer.Option(help="The system_id a bind must give.")] = "omniroute",
    password: Annotated[str, typer.Option(help="The password a bind must give.")] = "secret",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (2775 is SMPP's).")] = 2775,
    receipt_delay: Annotated[
        float, typer.Option(min=0, help="Seconds between a submit_sm_resp and its delivery receipt.")
    ] = 1.0,
    receipts_first: Annotated[
        bool, typer.Option("--receipts-first", help="Send each receipt before its submit_sm_resp.")
    ] = False,
    throttle_every: Annotated[
        int, typer.Option(min=0, help="Answer every n-th submit_sm with ESME_RTHROTTLED (0: never).")
    ] = 0,
) -> None:
    """Run an SMSC simulator speaking SMPP 3.4 (binds, submits, delivery receipts)."""
    from omniroute.providers.smpp.simulator import SimulatorOptions, SmscSimulator

    simulator = SmscSimulator(
        SimulatorOptions(
            system_id=system_id,
            password=password,
            receipt_delay=receipt_delay,
            receipts_before_response=receipts_first,
            throttle_every=throttle_every,
        )
    )

    async def run() -> None:
        bound = await simulator.start(host, port)
        console.print(f"SMSC simulator on [bold]smpp://{host}:{bound}[/] (system_id {system_id})")
        try:
            await asyncio.Event().wait()
        finally:
            await simulator.stop()

    with suppress(KeyboardInterrupt):
        asyncio.run(run())


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class GroupBy(StrEnum):
    DAY = "day"
    CHANNEL = "channel"
    CATEGORY = "category"
    COUNTRY = "country"
    CAMPAIGN = "campaign"


@app.command()
def usage(
    since: Annotated[datetime, typer.Option("--from", help="Start (inclusive), e.g. 2026-12-01.")],
    until: Annotated[datetime, typer.Option("--to", help="End (exclusive).")],
    group_by: Annotated[GroupBy, typer.Option(help="How to group the messages.")] = GroupBy.DAY,
    mode: Annotated[ModeOption, typer.Option(help="Live or test data.")] = ModeOption.live,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Outbound messages, the billable ones and their cost, as GET /v1/usage shows them."""

    async def read(session: AsyncSession) -> Any:
        target = await _workspace_or_default(session, workspace)
        tenant = TenantRef(target.id, Mode(mode.value))
        return await read_usage(session, tenant, _utc(since), _utc(until), group_by.value)

    result = _in_transaction(read)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json")["data"], indent=2))
        return
    table = Table(group_by.value, "messages", "billable", "cost", box=None)
    for row in result.data:
        table.add_row(
            escape(row.key), str(row.messages), str(row.billable), f"{row.cost.amount} {row.cost.currency}"
        )
    Console(soft_wrap=True).print(table)  # the report itself: on stdout
