"""GET /v1/messages/{id} reports pricing once the sandbox (like Meta) reports it."""

from typing import Any

from tests.conftest import CUSTOMER, Tenant

ORDER = {"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#4582"]}}


async def delivered_pricing(tenant: Tenant, to: str = CUSTOMER, **body: Any) -> dict[str, Any]:
    response = await tenant.send(to, **body)
    assert response.status_code == 202, response.text
    message = await tenant.wait_for(response.json()["id"], "read")
    return dict(message["pricing"])


async def test_free_form_reply_is_a_free_service_message(tenant: Tenant) -> None:
    await tenant.inbound()
    pricing = await delivered_pricing(tenant, text={"body": "Hi"})
    assert pricing["category"] == "service"
    assert pricing["billable"] is False
    assert pricing["cost"] == {"amount": "0", "currency": "USD"}


async def test_utility_template_inside_the_window_is_free(tenant: Tenant) -> None:
    await tenant.approved_template("order_update", category="UTILITY")
    await tenant.inbound()
    pricing = await delivered_pricing(tenant, template=ORDER)
    assert (pricing["category"], pricing["billable"]) == ("utility", False)


async def test_utility_template_outside_the_window_is_billed_at_the_markets_rate(tenant: Tenant) -> None:
    await tenant.approved_template("order_update", category="UTILITY")
    pricing = await delivered_pricing(tenant, template=ORDER)
    assert (pricing["category"], pricing["billable"]) == ("utility", True)
    assert pricing["cost"] == {"amount": "0.0067", "currency": "USD"}


async def test_marketing_template_is_billed_even_inside_the_window(tenant: Tenant) -> None:
    await tenant.approved_template("order_update", category="MARKETING")
    await tenant.inbound()
    pricing = await delivered_pricing(tenant, template=ORDER)
    assert (pricing["category"], pricing["billable"]) == ("marketing", True)
    assert pricing["cost"] == {"amount": "0.0516", "currency": "USD"}


async def test_market_without_a_rate_is_billed_at_the_fallback_rate(tenant: Tenant) -> None:
    await tenant.approved_template("order_update", category="MARKETING")
    pricing = await delivered_pricing(tenant, "+4915123456789", template=ORDER)
    assert pricing["cost"] == {"amount": "0.0604", "currency": "USD"}
