"""The messaging tier: templates may start conversations with at most the tier's number
of unique customers in a rolling 24 h; customers already counted, and customers whose
window is open, do not count again."""

from sqlalchemy import update

from omniroute.channels.models import Channel
from omniroute.contacts.models import Contact
from omniroute.core.db import Database
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.messages.models import Direction, Message, MessageKind, MessageStatus
from omniroute.policy.limits import MESSAGING_LIMIT_PERIOD, TIER_LIMITS, MessagingTier
from omniroute.workspaces.models import Workspace
from tests.conftest import Tenant, assert_error

TIER = MessagingTier.TIER_250
LIMIT = TIER_LIMITS[TIER]


def number(index: int) -> str:
    return f"+23480555{index:05d}"


async def fill_the_tier(db: Database, tenant: Tenant) -> None:
    """Record that templates already started conversations with LIMIT customers today."""
    assert LIMIT is not None
    async with db.transaction() as session:
        await session.execute(
            update(Channel).where(Channel.id == tenant.whatsapp).values(messaging_tier=TIER.value)
        )
        workspace = await session.get(Workspace, tenant.workspace_id)
        assert workspace is not None
        now = workspace.now(Mode.TEST)
        for index in range(LIMIT):
            contact = Contact(
                id=new_id("ct"), workspace_id=tenant.workspace_id, mode=Mode.TEST, address=number(index)
            )
            session.add(contact)
            session.add(
                Message(
                    id=new_id("msg"),
                    workspace_id=tenant.workspace_id,
                    mode=Mode.TEST,
                    channel_id=tenant.whatsapp,
                    contact_id=contact.id,
                    direction=Direction.OUTBOUND,
                    kind=MessageKind.TEMPLATE,
                    content_type="template",
                    recipient=number(index),
                    sender="+15550100001",
                    status=MessageStatus.DELIVERED,
                    business_initiated=True,
                    attempts=1,
                    created_at=now,
                )
            )


def template(name: str = "order_update") -> dict[str, object]:
    return {"template": {"name": name, "language": "en", "parameters": {"body": ["Ada", "#4582"]}}}


async def test_a_template_to_a_new_customer_beyond_the_tier_is_refused(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await fill_the_tier(db, tenant)
    refused = await tenant.send(number(LIMIT), **template())
    error = assert_error(refused, 409, "messaging_limit_reached", param="to")
    assert error["details"] == {"tier": TIER.value, "limit": LIMIT, "started": LIMIT}


async def test_customers_already_counted_can_still_get_templates(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await fill_the_tier(db, tenant)
    assert (await tenant.send(number(0), **template())).status_code == 202


async def test_a_template_inside_an_open_window_does_not_count(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await fill_the_tier(db, tenant)
    await tenant.inbound(number(LIMIT + 1))
    sent = await tenant.send(number(LIMIT + 1), **template())
    assert sent.status_code == 202, sent.text


async def test_the_limit_rolls_over_after_24_hours(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await fill_the_tier(db, tenant)
    await tenant.advance_clock(MESSAGING_LIMIT_PERIOD.total_seconds() + 1)
    assert (await tenant.send(number(LIMIT), **template())).status_code == 202
