"""Per-message pricing (policy page section 3).

Which messages are billable is a rule (here); how much they cost is data
(``rate_card.json``, one row per market and category with an effective date), so a
price change or a newly billable category is a data update, not a code change.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

from omniroute.policy.templates import TemplateCategory


class PricingCategory(StrEnum):
    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"
    AUTHENTICATION_INTERNATIONAL = "authentication-international"
    SERVICE = "service"
    REFERRAL_CONVERSION = "referral_conversion"


class PricingType(StrEnum):
    REGULAR = "regular"
    FREE_CUSTOMER_SERVICE = "free_customer_service"
    FREE_ENTRY_POINT = "free_entry_point"


PRICING_MODEL = "PMP"  # per-message pricing since 2025-07-01


@dataclass(frozen=True)
class Price:
    category: PricingCategory
    type: PricingType
    billable: bool
    amount: Decimal
    currency: str

    def as_dict(self) -> dict[str, object]:
        return {
            "pricing_model": PRICING_MODEL,
            "category": self.category.value,
            "type": self.type.value,
            "billable": self.billable,
            "cost": {"amount": str(self.amount), "currency": self.currency},
        }


@dataclass(frozen=True)
class RateCardRow:
    market: str
    category: str
    amount: Decimal
    currency: str
    effective_from: date


@lru_cache
def rate_card() -> tuple[RateCardRow, ...]:
    raw = json.loads(resources.files("omniroute.policy").joinpath("rate_card.json").read_text())
    return tuple(
        RateCardRow(
            market=row["market"],
            category=row["category"],
            amount=Decimal(row["amount"]),
            currency=row["currency"],
            effective_from=date.fromisoformat(row["effective_from"]),
        )
        for row in raw["rows"]
    )


SMS_CATEGORY = "sms"
"""The rate card's category of SMS rates, charged per segment."""
EMAIL_CATEGORY = "email"
"""The rate card's category of email rates, per message (the shipped card has none: an
SMTP relay bills by plan, so emails estimate at 0 until an operator adds a row)."""


def rate(market: str | None, category: PricingCategory | str, on: date) -> tuple[Decimal, str]:
    """The card's rate in force on ``on`` for a market, falling back to the '*' market."""
    for wanted in (market, "*"):
        rows = [
            r
            for r in rate_card()
            if r.market == wanted and r.category == str(category) and r.effective_from <= on
        ]
        if rows:
            best = max(rows, key=lambda r: r.effective_from)
            return best.amount, best.currency
    return Decimal("0"), "USD"


def price_message(
    *,
    template_category: TemplateCategory | None,
    window_open: bool,
    in_free_entry_point: bool,
    market: str | None,
    at: datetime,
) -> Price:
    """What a delivered message costs: free-form is service (free); utility templates are
    free inside an open window; marketing and authentication are always charged; anything
    inside a free entry point is free."""
    if template_category is None:
        category = PricingCategory.SERVICE
    else:
        category = PricingCategory(template_category.value.lower())
    if in_free_entry_point:
        return Price(category, PricingType.FREE_ENTRY_POINT, False, Decimal("0"), "USD")
    if category is PricingCategory.SERVICE or (category is PricingCategory.UTILITY and window_open):
        return Price(category, PricingType.FREE_CUSTOMER_SERVICE, False, Decimal("0"), "USD")
    amount, currency = rate(market, category, at.date())
    return Price(category, PricingType.REGULAR, True, amount, currency)


def price_sms(*, segments: int, market: str | None, at: datetime) -> dict[str, Any]:
    """An SMS costs its segments times the market's per-segment rate."""
    amount, currency = rate(market, SMS_CATEGORY, at.date())
    return {
        "pricing_model": "per_segment",
        "category": SMS_CATEGORY,
        "billable": True,
        "segments": segments,
        "unit_cost": {"amount": str(amount), "currency": currency},
        "cost": {"amount": str(amount * segments), "currency": currency},
    }


def with_cost(reported: dict[str, Any], *, market: str | None, at: datetime) -> dict[str, Any]:
    """Complete a provider's own pricing object (Meta's ``billable``/``category``/``type``,
    the truth about what is charged) with the rate card's estimate of the amount."""
    if "cost" in reported:
        return reported
    try:
        category = PricingCategory(str(reported.get("category", "")).lower())
    except ValueError:
        return reported
    amount, currency = (
        rate(market, category, at.date()) if reported.get("billable") else (Decimal("0"), "USD")
    )
    return {**reported, "cost": {"amount": str(amount), "currency": currency}}
