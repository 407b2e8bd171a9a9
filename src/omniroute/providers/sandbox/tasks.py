"""Plays the sandbox's scheduled network events when they fall due."""

from typing import Any

from pydantic import TypeAdapter

from omniroute.channels.models import Channel
from omniroute.core.tenancy import Mode
from omniroute.ingest.service import apply_event
from omniroute.jobs.registry import JobContext, task
from omniroute.providers.events import ProviderEvent
from omniroute.providers.sandbox.provider import EMIT_JOB
from omniroute.workspaces.models import Workspace

_EVENT: TypeAdapter[ProviderEvent] = TypeAdapter(ProviderEvent)


@task(EMIT_JOB)
async def emit(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        channel = await session.get(Channel, payload["channel_id"])
        if channel is None:
            return
        workspace = await session.get(Workspace, channel.workspace_id)
        assert workspace is not None
        now = workspace.now(Mode(channel.mode))
        event = _EVENT.validate_python({**payload["event"], "timestamp": now})
        await apply_event(session, channel, event)
