"""Lint on submission (POST /v1/channels/{id}/templates): errors refuse the template with
422 ``template_invalid`` and the issues; warnings never block."""

from typing import Any

from tests.conftest import Tenant, assert_error
from tests.templates.lint_corpus import corpus_template


async def submit(tenant: Tenant, template: dict[str, Any]) -> Any:
    return await tenant.test.post(f"/v1/channels/{tenant.whatsapp}/templates", json=template)


async def test_a_template_with_lint_errors_is_refused_with_the_issues(tenant: Tenant) -> None:
    response = await submit(tenant, corpus_template("url_variable_in_the_middle"))
    error = assert_error(response, 422, "template_invalid", error_type="invalid_request_error")
    [issue] = error["details"]["issues"]
    assert issue["code"] == "button_url_variable"
    assert issue["severity"] == "error"
    assert issue["component"] == "buttons[0]"
    assert "{{1}}" in issue["message"]
    assert error["details"]["valid"] is False
    listed = (await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates")).json()
    assert listed["data"] == []


async def test_every_new_rule_blocks_submission(tenant: Tenant) -> None:
    for slug, code in [
        ("header_emoji", "header_emoji"),
        ("auth_zero_tap_terms_not_accepted", "auth_zero_tap_terms"),
        ("carousel_cards_differ", "carousel_cards_inconsistent"),
        ("offer_in_utility", "component_requires_marketing"),
        ("quick_replies_split", "quick_replies_not_grouped"),
    ]:
        error = assert_error(await submit(tenant, corpus_template(slug)), 422, "template_invalid")
        assert code in {i["code"] for i in error["details"]["issues"]}, slug


async def test_a_template_with_only_warnings_is_accepted(tenant: Tenant) -> None:
    template = corpus_template("promotional_limited_time_in_body")
    lint = (await tenant.test.post("/v1/templates/lint", json=template)).json()
    assert lint["valid"] is True
    assert lint["suggested_category"] == "MARKETING"
    assert lint["category_reason"] == "Don't miss our flash sale this weekend, limited time only!"
    response = await submit(tenant, template)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PENDING"


async def test_meta_documented_examples_are_accepted(tenant: Tenant) -> None:
    for slug in (
        "meta_carousel",
        "meta_limited_time_offer",
        "meta_auth_zero_tap",
        "meta_location_header_delivery",
    ):
        response = await submit(tenant, corpus_template(slug))
        assert response.status_code == 201, response.text
        assert response.json()["components"] == corpus_template(slug)["components"]
