"""The ``omniroute`` command line: serve, worker, migrate, keys, templates, emulator."""

import asyncio
import json
import logging
import signal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import select

from omniroute.config import Settings, get_settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.migrations.runner import upgrade
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND

app = typer.Typer(help="omniroute: a multi-channel business messaging gateway.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
templates_app = typer.Typer(help="Work with WhatsApp message templates offline.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")

console = Console(stderr=True, soft_wrap=True)


class ModeOption(StrEnum):
    test = "test"
    live = "live"


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
    from omniroute.workspaces import service

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
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[bool, typer.Option(help="Run the background workers in this process.")] = True,
) -> None:
    """Start the HTTP API with in-process background workers."""
    import uvicorn

    from omniroute.app import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    _configure_logging(settings)
    upgrade(settings.database_url)
    key, workspace_id, channels = asyncio.run(_bootstrap(settings))
    base = f"http://{host}:{port}"
    console.print(f"\n[bold green]omniroute[/] is starting on [bold]{base}[/]")
    console.print(f"  API docs:      {base}/docs")
    console.print(f"  Database:      {_redacted(settings.database_url)}")
    console.print(f"  Workspace:     {workspace_id}")
    for channel_id, channel_type, address in channels:
        console.print(f"  Sandbox {channel_type:<9} {channel_id}  ({address})")
    console.print(f"  Test API key:  [bold]{key}[/]")
    console.print(f'\n  Try: curl -H "Authorization: Bearer {key}" {base}/v1/channels?type=whatsapp\n')
    uvicorn.run(create_app(settings, run_workers=workers), host=host, port=port, log_level=settings.log_level)


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
    )
    console.print(
        f"WhatsApp Cloud API emulator on [bold]http://{host}:{port}[/] "
        f"(phone number {phone_number_id}, WABA {waba_id}); webhooks to {webhook_url}"
    )
    uvicorn.run(create_emulator_app(config), host=host, port=port, log_level="warning")


@keys_app.command("create")
def create_key(
    mode: Annotated[ModeOption, typer.Option(help="test keys use the sandbox; live keys real providers.")],
    workspace: Annotated[
        str | None, typer.Option(help="Workspace id (default: the first workspace).")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Create an API key. The key is printed once, alone on the last line."""
    from omniroute.workspaces import service
    from omniroute.workspaces.models import Workspace

    settings = get_settings()
    upgrade(settings.database_url)

    async def create() -> str:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                if workspace is None:
                    target = await service.default_workspace(session)
                else:
                    found = await session.get(Workspace, workspace)
                    if found is None:
                        raise typer.BadParameter(f"no workspace {workspace}", param_hint="--workspace")
                    target = found
                return await service.create_api_key(session, target, Mode(mode.value), name=name)
        finally:
            await db.dispose()

    key = asyncio.run(create())
    typer.echo(key)


@templates_app.command("lint")
def lint_templates(
    file: Annotated[
        Path, typer.Argument(help="A JSON file holding one template or a list of templates in Meta's shape.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the lint results as JSON.")] = False,
) -> None:
    """Lint templates without a server, e.g. in CI. Exits 1 when any template has an error."""
    from rich.markup import escape
    from rich.table import Table

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
