"""What a campaign would do, before it is created: nothing is stored."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns import service
from omniroute.campaigns.recipients import Row, Shape, TextShape, screen
from omniroute.campaigns.schemas import CampaignEstimate, CampaignSettings, CountryCost, Money
from omniroute.contacts.models import Contact
from omniroute.conversations.models import Conversation
from omniroute.core.phone import region_of
from omniroute.core.tenancy import Tenant
from omniroute.messages.facts import Facts, business_initiated
from omniroute.messages.pacing import effective_throughput
from omniroute.policy.limits import tier_limit
from omniroute.policy.pricing import EMAIL_CATEGORY, SMS_CATEGORY, price_message, rate
from omniroute.policy.templates import TemplateCategory
from omniroute.sms.encoding import shape as sms_shape
from omniroute.workspaces.models import Workspace

LOOKUP_CHUNK = 1_000
UNKNOWN_COUNTRY = "unknown"


async def estimate(
    session: AsyncSession,
    tenant: Tenant,
    now: datetime,
    settings: CampaignSettings,
    rows_for: Callable[[Shape], Iterable[Row]],
) -> CampaignEstimate:
    goal = await service.target(session, tenant, settings)
    shape = goal.shape
    reasons: dict[str, int] = defaultdict(int)
    valid: dict[str, dict[str, Any]] = {}
    """Each valid address with its parameters."""
    total = 0
    opted_out = await service.opted_out_addresses(session, goal)
    for screened in screen(rows_for(shape), shape, opted_out, goal.address_of):
        total += 1
        if screened.reason is None:
            valid[screened.to] = screened.row.parameters
        else:
            reasons[screened.reason] += 1
    capped = await _frequency_capped(session, tenant, goal, now, list(valid))
    sendable = [address for address in valid if address not in capped]
    whatsapp = goal.template is not None
    in_window = await _in_open_window(session, tenant, goal.channel.id, now, sendable) if whatsapp else set()
    limit = tier_limit(goal.channel.messaging_tier) if whatsapp and goal.channel.messaging_tier else None
    beyond = 0
    if limit is not None:
        counted = await _already_counted(session, tenant, now, sendable)
        starting = sum(1 for a in sendable if a not in in_window and a not in counted)
        started = await Facts(session).others_started(tenant, "", now)
        beyond = max(0, starting - max(0, limit - started))
    by_country: dict[str, list[Any]] = {}
    total_cost, currency = Decimal("0"), "USD"
    priced = (
        ""
        if whatsapp
        else (SMS_CATEGORY if isinstance(shape, TextShape) and shape.kind == "text" else EMAIL_CATEGORY)
    )
    for address in sendable:
        market = region_of(address) if priced != EMAIL_CATEGORY else None
        if whatsapp:
            price = price_message(
                template_category=TemplateCategory(goal.category),
                window_open=address in in_window,
                in_free_entry_point=False,
                market=market,
                at=now,
            )
            billable, amount, unit = price.billable, price.amount, price.currency
        else:
            assert isinstance(shape, TextShape)
            amount, unit = _text_price(shape, valid[address], market, now)
            billable = amount > 0
        entry = by_country.setdefault(market or UNKNOWN_COUNTRY, [0, 0, Decimal("0"), unit])
        entry[0] += 1
        entry[1] += billable
        entry[2] += amount
        total_cost += amount
        currency = unit
    throughput = await effective_throughput(session, goal.channel)
    mismatches = sum(n for code, n in reasons.items() if code.startswith(("template_", "parameter_")))
    return CampaignEstimate(
        recipients=total,
        valid=len(valid),
        invalid=reasons["invalid_recipient"],
        duplicates=reasons["duplicate_recipient"],
        opted_out=reasons["recipient_opted_out"],
        parameter_mismatches=mismatches,
        frequency_capped=len(capped),
        in_open_window=len(in_window),
        beyond_messaging_limit=beyond,
        messaging_limit=limit,
        category=goal.category,
        cost=Money(amount=str(total_cost), currency=currency),
        cost_by_country=[
            CountryCost(
                country=country,
                category=priced or goal.category.lower(),
                messages=messages,
                billable=billable,
                cost=Money(amount=str(amount), currency=cur),
            )
            for country, (messages, billable, amount, cur) in sorted(by_country.items())
        ],
        throughput_per_second=throughput,
        seconds_to_send=round(len(sendable) / throughput, 3) if throughput else 0.0,
    )


def _text_price(
    shape: TextShape, parameters: dict[str, Any], market: str | None, now: datetime
) -> tuple[Decimal, str]:
    """An SMS costs its segments (of the text as this recipient gets it) times the market's
    rate; an email what the rate card's ``email`` row says."""
    if shape.kind == "email":
        return rate(None, EMAIL_CATEGORY, now.date())
    unit, currency = rate(market, SMS_CATEGORY, now.date())
    return unit * sms_shape(str(shape.render(parameters)["body"])).segments, currency


async def _frequency_capped(
    session: AsyncSession, tenant: Tenant, goal: service.Target, now: datetime, addresses: Sequence[str]
) -> set[str]:
    """The addresses a marketing campaign would skip now for the frequency cap."""
    workspace = await session.get(Workspace, tenant.workspace_id)
    assert workspace is not None
    hours = service.frequency_cap_hours(workspace, tenant.mode) if goal.is_marketing else 0
    if not hours:
        return set()
    marketed = service.marketing_messages(tenant, now - timedelta(hours=hours)).subquery()
    found: set[str] = set()
    for chunk in _chunks(addresses):
        rows = await session.scalars(
            select(Contact.address).where(
                Contact.workspace_id == tenant.workspace_id,
                Contact.mode == tenant.mode,
                Contact.address.in_(chunk),
                Contact.id.in_(select(marketed.c.contact_id)),
            )
        )
        found.update(rows)
    return found


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
