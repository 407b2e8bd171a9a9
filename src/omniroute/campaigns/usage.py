"""``GET /v1/usage``: outbound messages, the billable ones and their cost, grouped by day,
channel, pricing category, country or campaign. Cost is what the providers' pricing
objects said (completed from the rate card where they gave no amount)."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns.schemas import Money, UsageOut, UsageRow
from omniroute.core.phone import region_of
from omniroute.core.tenancy import Tenant
from omniroute.messages.models import Direction, Message

NONE_KEY = "none"


def _key(group_by: str, row: Any) -> str:
    if group_by == "day":
        return str(row.created_at.date().isoformat())
    if group_by == "channel":
        return str(row.channel_id)
    if group_by == "campaign":
        return str(row.campaign_id or NONE_KEY)
    if group_by == "country":
        return region_of(row.recipient) or NONE_KEY if row.recipient.startswith("+") else NONE_KEY
    pricing = row.pricing or {}
    if pricing.get("category"):
        return str(pricing["category"])
    return str((row.template or {}).get("category") or "service").lower()


async def usage(
    session: AsyncSession, tenant: Tenant, start: datetime, end: datetime, group_by: str
) -> UsageOut:
    rows = await session.stream(
        select(
            Message.created_at,
            Message.channel_id,
            Message.campaign_id,
            Message.recipient,
            Message.pricing,
            Message.template,
        ).where(
            Message.workspace_id == tenant.workspace_id,
            Message.mode == tenant.mode,
            Message.direction == Direction.OUTBOUND,
            Message.created_at >= start,
            Message.created_at < end,
        )
    )
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal("0"), "USD"])
    async for row in rows:
        entry = totals[_key(group_by, row)]
        entry[0] += 1
        pricing = row.pricing or {}
        if pricing.get("billable"):
            entry[1] += 1
            cost = pricing.get("cost") or {}
            entry[2] += Decimal(str(cost.get("amount", "0")))
            entry[3] = str(cost.get("currency", entry[3]))
    return UsageOut(
        group_by=group_by,
        data=[
            UsageRow(key=key, messages=n, billable=b, cost=Money(amount=str(amount), currency=currency))
            for key, (n, b, amount, currency) in sorted(totals.items())
        ],
    )
