"""Per-message pricing (policy/pricing.py): which messages are billable is a rule, what
they cost is rate-card data."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from omniroute.policy import pricing
from omniroute.policy.pricing import Price, PricingCategory, PricingType, RateCardRow, price_message, rate
from omniroute.policy.templates import TemplateCategory

AT = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)


def price(
    category: TemplateCategory | None, *, window_open: bool, market: str | None = "NG", entry: bool = False
) -> Price:
    return price_message(
        template_category=category, window_open=window_open, in_free_entry_point=entry, market=market, at=AT
    )


def test_utility_template_is_free_inside_the_window() -> None:
    result = price(TemplateCategory.UTILITY, window_open=True)
    assert result.category is PricingCategory.UTILITY
    assert result.type is PricingType.FREE_CUSTOMER_SERVICE
    assert result.billable is False
    assert result.amount == Decimal("0")


def test_utility_template_is_charged_outside_the_window() -> None:
    result = price(TemplateCategory.UTILITY, window_open=False)
    assert result.billable is True
    assert result.type is PricingType.REGULAR
    assert (result.amount, result.currency) == (Decimal("0.0067"), "USD")


@pytest.mark.parametrize("window_open", [True, False])
def test_marketing_is_always_billed(window_open: bool) -> None:
    result = price(TemplateCategory.MARKETING, window_open=window_open)
    assert result.billable is True
    assert result.category is PricingCategory.MARKETING
    assert result.amount == Decimal("0.0516")


@pytest.mark.parametrize("window_open", [True, False])
def test_authentication_is_always_billed(window_open: bool) -> None:
    result = price(TemplateCategory.AUTHENTICATION, window_open=window_open, market="US")
    assert result.billable is True
    assert result.amount == Decimal("0.0135")


def test_free_form_service_messages_are_free() -> None:
    result = price(None, window_open=True)
    assert result.category is PricingCategory.SERVICE
    assert result.billable is False


def test_everything_in_a_free_entry_point_is_free() -> None:
    result = price(TemplateCategory.MARKETING, window_open=False, entry=True)
    assert result.type is PricingType.FREE_ENTRY_POINT
    assert result.billable is False


def test_a_market_without_its_own_rate_uses_the_fallback_market() -> None:
    assert rate("DE", PricingCategory.MARKETING, AT.date()) == (Decimal("0.0604"), "USD")
    assert rate(None, PricingCategory.UTILITY, AT.date()) == (Decimal("0.0077"), "USD")
    assert price(TemplateCategory.MARKETING, window_open=False, market="FR").amount == Decimal("0.0604")


def test_the_rate_card_row_in_force_on_the_day_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = (
        RateCardRow("NG", "marketing", Decimal("0.0500"), "USD", date(2025, 7, 1)),
        RateCardRow("NG", "marketing", Decimal("0.0600"), "USD", date(2026, 1, 1)),
        RateCardRow("*", "marketing", Decimal("0.0700"), "USD", date(2025, 7, 1)),
    )
    monkeypatch.setattr(pricing, "rate_card", lambda: rows)
    assert rate("NG", PricingCategory.MARKETING, date(2025, 12, 31)) == (Decimal("0.0500"), "USD")
    assert rate("NG", PricingCategory.MARKETING, date(2026, 1, 1)) == (Decimal("0.0600"), "USD")
    assert rate("NG", PricingCategory.MARKETING, date(2024, 1, 1)) == (Decimal("0"), "USD")


def test_price_is_reported_in_the_provider_shape() -> None:
    reported = price(TemplateCategory.MARKETING, window_open=False).as_dict()
    assert reported == {
        "pricing_model": "PMP",
        "category": "marketing",
        "type": "regular",
        "billable": True,
        "cost": {"amount": "0.0516", "currency": "USD"},
    }


def test_every_rate_card_row_is_well_formed() -> None:
    rows = pricing.rate_card()
    assert rows
    categories = {c.value for c in PricingCategory} | {pricing.SMS_CATEGORY}
    for row in rows:
        assert row.category in categories
        assert row.amount >= 0
        assert len(row.currency) == 3
    assert {r.category for r in rows if r.market == "*"} >= {"marketing", "utility", "authentication", "sms"}


def test_an_sms_costs_its_segments_times_the_markets_rate() -> None:
    price = pricing.price_sms(segments=3, market="NG", at=datetime(2026, 1, 1, tzinfo=UTC))
    assert price["category"] == "sms" and price["billable"] is True and price["segments"] == 3
    assert price["unit_cost"] == {"amount": "0.0250", "currency": "USD"}
    assert price["cost"] == {"amount": "0.0750", "currency": "USD"}
    assert pricing.price_sms(segments=1, market="ZZ", at=datetime(2026, 1, 1, tzinfo=UTC))["cost"] == {
        "amount": "0.0500",
        "currency": "USD",
    }


def test_a_providers_own_pricing_is_kept_and_gets_the_rate_cards_cost() -> None:
    reported = {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}
    completed = pricing.with_cost(reported, market="NG", at=AT)
    assert completed == {**reported, "cost": {"amount": "0.0516", "currency": "USD"}}


def test_non_billable_provider_pricing_costs_nothing() -> None:
    reported = {"billable": False, "category": "service", "type": "free_customer_service"}
    assert pricing.with_cost(reported, market="NG", at=AT)["cost"] == {"amount": "0", "currency": "USD"}


def test_a_provider_cost_or_unknown_category_is_left_as_reported() -> None:
    priced = {"billable": True, "category": "marketing", "cost": {"amount": "1", "currency": "EUR"}}
    unknown = {"billable": True, "category": "something_new"}
    assert pricing.with_cost(priced, market="NG", at=AT) == priced
    assert pricing.with_cost(unknown, market="NG", at=AT) == unknown
