"""Helpers for template tests: provider events injected through the ingest service (as
Meta's webhooks or the sandbox deliver them), templates inserted without a scheduled
review, and the events recorded for a template."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.events.models import Event
from omniroute.ingest.service import apply_event
from omniroute.jobs.models import Job
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.events import (
    ProviderEvent,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateReview,
)
from omniroute.templates.models import Template
from omniroute.templates.service import record_status
from omniroute.templates.variables import expected_variables
from tests.conftest import POSITIONAL_BODY, Tenant, eventually, ts


async def clock(tenant: Tenant) -> datetime:
    """Now on the workspace's test clock."""
    return ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])


async def inject(db: Database, tenant: Tenant, event: ProviderEvent) -> None:
    async with db.transaction() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        await apply_event(session, channel, event)


async def review(
    db: Database,
    tenant: Tenant,
    template: dict[str, Any],
    status: str,
    *,
    at: datetime | None = None,
    reason: str | None = None,
    suggested_category: str | None = None,
) -> datetime:
    """Meta reports a status for the template (``message_template_status_update``)."""
    at = at or await clock(tenant)
    await inject(
        db,
        tenant,
        TemplateReview(
            provider_template_id=await provider_id(db, template["id"]),
            name=template["name"],
            language=template["language"],
            status=status,
            reason=reason,
            suggested_category=suggested_category,
            timestamp=at,
        ),
    )
    return at


async def recategorise(
    db: Database, tenant: Tenant, template: dict[str, Any], stage: str, *, at: datetime | None = None
) -> datetime:
    """Meta moves the template from UTILITY to MARKETING (``template_category_update``)."""
    at = at or await clock(tenant)
    await inject(
        db,
        tenant,
        TemplateCategoryUpdate(
            provider_template_id=await provider_id(db, template["id"]),
            name=template["name"],
            language=template["language"],
            previous_category="UTILITY",
            new_category="MARKETING",
            stage=stage,  # type: ignore[arg-type]
            timestamp=at,
        ),
    )
    return at


async def quality(db: Database, tenant: Tenant, template: dict[str, Any], score: str, at: datetime) -> None:
    await inject(
        db,
        tenant,
        TemplateQualityUpdate(
            name=template["name"], language=template["language"], new_score=score, timestamp=at
        ),
    )


async def provider_id(db: Database, template_id: str) -> str:
    async with db.sessionmaker() as session:
        template = await session.get(Template, template_id)
        assert template is not None and template.provider_template_id is not None
        return template.provider_template_id


async def insert_template(
    db: Database,
    tenant: Tenant,
    name: str,
    status: TemplateStatus,
    components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A template the sandbox is not reviewing (no review is scheduled), as the API shows it."""
    components = components or [POSITIONAL_BODY]
    at = datetime.now(UTC) - timedelta(minutes=1)
    async with db.transaction() as session:
        template = Template(
            id=new_id("tpl"),
            workspace_id=tenant.workspace_id,
            mode=Mode.TEST,
            channel_id=tenant.whatsapp,
            name=name,
            language="en",
            category="UTILITY",
            status=status,
            components=components,
            variables=expected_variables(components),
            provider_template_id=f"sbx_tpl_{name}",
            created_at=at,
        )
        session.add(template)
        await session.flush()
        record_status(session, template, status, at)
        template_id = template.id
    return await fetch(tenant, template_id)


async def fetch(tenant: Tenant, template_id: str) -> dict[str, Any]:
    response = await tenant.test.get(f"/v1/templates/{template_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def events_of(db: Database, template_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The events recorded for a template, oldest first: (type, data). Events of one
    change share their time; their order among themselves is not defined."""
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(Event).where(Event.template_id == template_id).order_by(Event.occurred_at, Event.id)
        )
        return [(row.type, row.data) for row in rows]


async def due_work_done(db: Database, tenant: Tenant) -> None:
    """Wait until every background job of the workspace that is due has run (later ones,
    like the end of a pause, stay scheduled)."""

    async def due() -> int:
        async with db.sessionmaker() as session:
            count = await session.scalar(
                select(func.count()).where(
                    Job.workspace_id == tenant.workspace_id, Job.dead.is_(False), Job.run_at <= time.time()
                )
            )
        return int(count or 0)

    await eventually(due, lambda count: count == 0)
