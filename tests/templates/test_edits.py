"""Editing a template the way Meta allows: new components are linted and reviewed
again; an APPROVED template may be edited once per 24 h and 10 times per 30 days;
only APPROVED, REJECTED and PAUSED templates can be edited."""

from datetime import timedelta
from typing import Any

from omniroute.core.db import Database
from omniroute.policy.templates import TemplateStatus
from tests.conftest import POSITIONAL_BODY, Tenant, assert_error, eventually, ts
from tests.templates.support import clock, fetch, insert_template, review

DAY = 86400.0


def body(text: str) -> list[dict[str, Any]]:
    return [{**POSITIONAL_BODY, "text": text}]


EDITED = body("Hi {{1}}, your order {{2}} is on its way and arrives tomorrow.")


async def edit(tenant: Tenant, template_id: str, components: list[dict[str, Any]], **extra: Any) -> Any:
    return await tenant.test.post(f"/v1/templates/{template_id}", json={"components": components, **extra})


async def approved_again(tenant: Tenant, template_id: str) -> dict[str, Any]:
    return dict(await eventually(lambda: fetch(tenant, template_id), lambda t: t["status"] == "APPROVED"))


async def test_an_edit_is_reviewed_again_and_the_new_text_is_what_gets_sent(tenant: Tenant) -> None:
    approved = await tenant.approved_template("order_update")
    response = await edit(tenant, approved["id"], EDITED)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["status"] == "PENDING"
    assert edited["components"][0]["text"] == EDITED[0]["text"]
    assert edited["status_history"][-1]["reason"] == "Edited; in review again."
    again = await approved_again(tenant, approved["id"])
    assert [h["status"] for h in again["status_history"]] == ["PENDING", "APPROVED", "PENDING", "APPROVED"]


async def test_a_template_under_review_cannot_be_edited(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "in_review", TemplateStatus.PENDING)
    error = assert_error(await edit(tenant, template["id"], EDITED), 409, "template_not_editable")
    assert error["details"]["status"] == "PENDING"


async def test_an_edit_is_linted_first(tenant: Tenant) -> None:
    approved = await tenant.approved_template("order_update")
    response = await edit(tenant, approved["id"], body("{{1}} is the start of this broken body {{2}}"))
    error = assert_error(response, 422, "template_invalid")
    assert error["details"]["issues"]
    assert (await fetch(tenant, approved["id"]))["status"] == "APPROVED"


async def test_an_approved_template_is_edited_at_most_once_per_day(tenant: Tenant) -> None:
    approved = await tenant.approved_template("order_update")
    first_edit_at = await clock(tenant)
    assert (await edit(tenant, approved["id"], EDITED)).status_code == 200
    await approved_again(tenant, approved["id"])

    error = assert_error(
        await edit(
            tenant, approved["id"], body("Hello {{1}}, order {{2}} has shipped and will arrive soon.")
        ),
        409,
        "template_edit_limit_reached",
    )
    next_allowed = ts(error["details"]["next_edit_allowed_at"])
    assert first_edit_at < next_allowed - timedelta(hours=24) < first_edit_at + timedelta(seconds=5)
    assert error["details"]["next_edit_allowed_at"] in error["message"]

    await tenant.advance_clock(DAY)
    assert (
        await edit(tenant, approved["id"], body("Hello {{1}}, order {{2}} has shipped today."))
    ).status_code == 200


async def test_an_approved_template_is_edited_at_most_ten_times_in_thirty_days(tenant: Tenant) -> None:
    approved = await tenant.approved_template("order_update")
    for n in range(10):
        response = await edit(
            tenant, approved["id"], body(f"Hi {{{{1}}}}, your order {{{{2}}}} shipped (note {n}).")
        )
        assert response.status_code == 200, response.text
        await approved_again(tenant, approved["id"])
        await tenant.advance_clock(DAY + 60)
    error = assert_error(await edit(tenant, approved["id"], EDITED), 409, "template_edit_limit_reached")
    assert (error["details"]["limit"], error["details"]["period_hours"]) == (10, 720)


async def test_a_rejected_template_may_change_to_the_suggested_category(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "summer_sale", TemplateStatus.PENDING)
    await review(db, tenant, template, "REJECTED", reason="PROMOTIONAL", suggested_category="MARKETING")
    response = await edit(tenant, template["id"], EDITED, category="MARKETING")
    assert response.status_code == 200, response.text
    resubmitted = response.json()
    assert (resubmitted["status"], resubmitted["category"]) == ("PENDING", "MARKETING")
    assert resubmitted["rejection_reason"] is None


async def test_an_approved_template_keeps_its_category(tenant: Tenant) -> None:
    approved = await tenant.approved_template("order_update")
    response = await edit(tenant, approved["id"], EDITED, category="MARKETING")
    assert_error(response, 422, "template_category_not_editable", param="category")


async def test_a_template_locked_by_meta_cannot_be_edited(tenant: Tenant, db: Database) -> None:
    approved = await tenant.approved_template("order_update")
    await review(db, tenant, approved, "LOCKED")
    assert_error(await edit(tenant, approved["id"], EDITED), 409, "template_locked")
