"""What a campaign would do, before it is created: nothing is stored."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns import service
from omniroute.campaigns.recipients import Row, screen
from omniroute.campaigns.schemas import CampaignEstimate, CampaignSettings, CountryCost, Money
from omniroute.contacts.models import Contact
from omniroute.conversations.models import Conversation
from omniroute.core.phone import region_of
from omniroute.core.tenancy import Tenant
from omniroute.messages.facts import Facts, business_initiated
from omniroute.messages.pacing import effective_throughput
from omniroute.policy.limits import tier_limit
from omniroute.policy.pricing import price_message
from omniroute.policy.templates import TemplateCategory

LOOKUP_CHUNK = 1_000
UNKNOWN_COUNTRY = "unknown"


async def estimate(
    session: AsyncSession,
    tenant: Tenant,
    now: datetime,
    settings: CampaignSettings,
    rows_for: Callable[[dict[str, Any]], Iterable[Row]],
) -> CampaignEstimate:
    goal = await service.target(session, tenant, settings)
    variables = goal.template.variables
    reasons: dict[str, int] = defaultdict(int)
    valid: list[str] = []
    total = 0
    for screened in screen(rows_for(variables), variables, await service.opted_out_addresses(session, goal)):
        total += 1
        if screened.reason is None:
            valid.append(screened.to)
        else:
            reasons[screened.reason] += 1
    in_window = await _in_open_window(session, tenant, goal.channel.id, now, valid)
    counted = await _already_counted(session, tenant, now, valid)
    limit = tier_limit(goal.channel.messaging_tier) if goal.channel.messaging_tier else None
    beyond = 0
    if limit is not None:
        starting = sum(1 for a in valid if a not in in_window and a not in counted)
        started = await Facts(session).others_started(tenant, "", now)
        beyond = max(0, starting - max(0, limit - started))
    category = TemplateCategory(goal.template.category)
    by_country: dict[str, list[Any]] = {}
    total_cost, currency = Decimal("0"), "USD"
    for address in valid:
        market = region_of(address)
        price = price_message(
            template_category=category,
            window_open=address in in_window,
            in_free_entry_point=False,
            market=market,
            at=now,
        )
        entry = by_country.setdefault(market or UNKNOWN_COUNTRY, [0, 0, Decimal("0"), price.currency])
        entry[0] += 1
        entry[1] += price.billable
        entry[2] += price.amount
        total_cost += price.amount
        currency = price.currency
    throughput = await effective_throughput(session, goal.channel)
    mismatches = sum(n for code, n in reasons.items() if code.startswith("template_"))
    return CampaignEstimate(
        recipients=total,
        valid=len(valid),
        invalid=reasons["invalid_recipient"],
        duplicates=reasons["duplicate_recipient"],
        opted_out=reasons["recipient_opted_out"],
        parameter_mismatches=mismatches,
        in_open_window=len(in_window),
        beyond_messaging_limit=beyond,
        messaging_limit=limit,
        category=category.value,
        cost=Money(amount=str(total_cost), currency=currency),
        cost_by_country=[
            CountryCost(
                country=country,
                category=category.value.lower(),
                messages=messages,
                billable=billable,
                cost=Money(amount=str(amount), currency=cur),
            )
            for country, (messages, billable, amount, cur) in sorted(by_country.items())
        ],
        throughput_per_second=throughput,
        seconds_to_send=round(len(valid) / throughput, 3) if throughput else 0.0,
    )


def _chunks(addresses: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(addresses), LOOKUP_CHUNK):
        yield addresses[start : start + LOOKUP_CHUNK]


async def _in_open_window(
    session: AsyncSession, tenant: Tenant, channel_id: str, now: datetime, addresses: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(addresses):
        rows = await session.scalars(
            select(Contact.address)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(
                Contact.workspace_id == tenant.workspace_id,
                Contact.mode == tenant.mode,
                Contact.address.in_(chunk),
                Conversation.channel_id == channel_id,
                Conversation.window_expires_at > now,
            )
        )
        found.update(rows)
    return found


async def _already_counted(
    session: AsyncSession, tenant: Tenant, now: datetime, addresses: Sequence[str]
) -> set[str]:
    """Recipients the tier already counts in its rolling 24 h (they do not count again)."""
    started = business_initiated(tenant, now)
    found: set[str] = set()
    for chunk in _chunks(addresses):
        rows = await session.scalars(
            select(Contact.address).where(
                Contact.id.in_(select(started.c.contact_id)), Contact.address.in_(chunk)
            )
        )
        found.update(rows)
    return found
