"""Dispatch re-checks the rules just before the provider call: a message accepted while
the window was open but dispatched after it closed never goes out as free-form.

To dispatch "after the window closed" deterministically, the message is accepted
through ``messages.service.accept`` (what ``POST /v1/messages`` runs) and, in the same
transaction, the workspace's test clock moves past the window's end. The worker only
sees the message once that transaction commits, so it always dispatches late."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from omniroute.channels.models import Channel
from omniroute.contacts import service as contacts
from omniroute.contacts.models import Contact
from omniroute.core.db import Database
from omniroute.core.errors import PolicyError
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.messages import service
from omniroute.messages.facts import Facts
from omniroute.policy.templates import TemplateStatus
from omniroute.templates.models import Template
from omniroute.templates.service import record_status
from omniroute.workspaces.models import Workspace
from tests.conftest import Tenant, accept_in, settled, ts

PAST_THE_WINDOW = 25 * 3600


async def accept_then_close_window(db: Database, tenant: Tenant, body: dict[str, Any]) -> str:
    async with db.transaction() as session:
        message = await accept_in(session, tenant, **body)
        assert message.kind == "session"
        await session.execute(
            update(Workspace)
            .where(Workspace.id == tenant.workspace_id)
            .values(test_clock_offset_seconds=Workspace.test_clock_offset_seconds + PAST_THE_WINDOW)
        )
        return message.id


async def test_message_queued_in_the_window_but_dispatched_after_it_closed_fails_window_closed(
    tenant: Tenant, db: Database
) -> None:
    await tenant.inbound()
    message_id = await accept_then_close_window(db, tenant, {"text": {"body": "Hi Ada"}})

    failed = await tenant.wait_for(message_id, "failed")
    assert failed["error"]["code"] == "window_closed"
    assert failed["error"]["provider_code"] is None
    assert failed["provider_message_id"] is None
    assert failed["kind"] == "session"
    assert [h["status"] for h in failed["status_history"]] == ["queued", "failed"]
    await settled(db, tenant.workspace_id)
    assert (await tenant.message(message_id))["status"] == "failed"


async def test_message_dispatched_after_the_window_closed_uses_its_template_fallback(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template("order_update")
    await tenant.inbound()
    message_id = await accept_then_close_window(
        db,
        tenant,
        {
            "text": {"body": "Hi Ada"},
            "fallback": {
                "template": {
                    "name": "order_update",
                    "language": "en",
                    "parameters": {"body": ["Ada", "#4582"]},
                }
            },
        },
    )

    read = await tenant.wait_for(message_id, "read")
    assert read["kind"] == "template"
    assert read["fallback_used"] == "template"
    assert read["template"]["name"] == "order_update"
    assert [h["status"] for h in read["status_history"]] == ["queued", "sending", "sent", "delivered", "read"]


async def test_message_dispatched_after_the_window_closed_uses_its_channel_fallback(
    tenant: Tenant, db: Database
) -> None:
    await tenant.inbound()
    message_id = await accept_then_close_window(
        db,
        tenant,
        {
            "text": {"body": "Hi Ada"},
            "fallback": {"channel_id": tenant.sms, "text": {"body": "Hi Ada (SMS)"}},
        },
    )

    delivered = await tenant.wait_for(message_id, "delivered")
    assert delivered["fallback_used"] == "channel"
    assert delivered["channel_id"] == tenant.sms
    assert delivered["text"]["body"] == "Hi Ada (SMS)"


async def test_opt_out_after_acceptance_stops_the_dispatch(tenant: Tenant, db: Database) -> None:
    await tenant.inbound()
    async with db.transaction() as session:
        message = await accept_in(session, tenant, text={"body": "Hi"})
        await contacts.opt_out(
            session, message.contact_id, tenant.whatsapp, at=message.created_at, source="api"
        )
        message_id = message.id

    failed = await tenant.wait_for(message_id, "failed")
    assert failed["error"]["code"] == "recipient_opted_out"


async def test_decide_refuses_free_form_once_now_is_past_the_window(tenant: Tenant, db: Database) -> None:
    opened = (await tenant.inbound()).json()
    expires_at = ts(opened["window"]["expires_at"])
    async with db.sessionmaker() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        contact = await session.get(Contact, opened["message"]["contact_id"])
        assert channel is not None and contact is not None
        draft = service.Draft("text", {"body": "Hi"}, None, None)
        ref = TenantRef(tenant.workspace_id, Mode.TEST)

        inside = await service.decide(
            Facts(session), ref, channel, contact, draft, expires_at - timedelta(seconds=1)
        )
        assert inside.kind == "session"
        with pytest.raises(PolicyError) as refused:
            await service.decide(Facts(session), ref, channel, contact, draft, expires_at)
    assert refused.value.code == "window_closed"
    assert ts(refused.value.details["expired_at"]) == expires_at


async def test_template_paused_while_the_message_waited_is_not_sent(tenant: Tenant, db: Database) -> None:
    approved = await tenant.approved_template("order_update")
    async with db.transaction() as session:
        message = await accept_in(
            session,
            tenant,
            template={"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#1"]}},
        )
        assert message.kind == "template"
        template = await session.get(Template, approved["id"])
        assert template is not None
        record_status(session, template, TemplateStatus.PAUSED, message.created_at)
        message_id = message.id

    failed = await tenant.wait_for(message_id, "failed")
    assert failed["error"]["code"] == "template_not_approved"
    assert [h["status"] for h in failed["status_history"]] == ["queued", "failed"]
