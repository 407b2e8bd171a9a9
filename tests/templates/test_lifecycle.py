"""The template lifecycle as Meta drives it: review verdicts, quality pauses (3 h, then
6 h, then disabled), appeals, limits, deletion, re-categorisation and quality scores.
Every change is kept on the template and recorded as an event; a duplicate or late
provider event changes nothing."""

from datetime import timedelta
from typing import Any

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.base import TemplateDefinition
from omniroute.providers.sandbox import templates as sandbox_templates
from tests.conftest import Tenant, eventually, ts
from tests.templates.support import (
    clock,
    due_work_done,
    events_of,
    fetch,
    insert_template,
    quality,
    recategorise,
    review,
)

HOUR = 3600.0


def statuses(template: dict[str, Any]) -> list[str]:
    return [h["status"] for h in template["status_history"]]


async def wait_status(tenant: Tenant, template_id: str, status: str) -> dict[str, Any]:
    return dict(await eventually(lambda: fetch(tenant, template_id), lambda t: t["status"] == status))


async def test_sandbox_approves_a_submitted_template_and_records_each_status_as_an_event(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    assert statuses(approved) == ["PENDING", "APPROVED"]
    recorded = await events_of(db, approved["id"])
    assert [(kind, data["status"]) for kind, data in recorded] == [
        ("template.status_updated", "PENDING"),
        ("template.status_updated", "APPROVED"),
    ]
    assert recorded[-1][1]["id"] == approved["id"]
    assert recorded[-1][1]["object"] == "template"


async def test_promotional_wording_in_a_utility_template_is_rejected_with_marketing_suggested(
    tenant: Tenant,
) -> None:
    body = {
        "type": "BODY",
        "text": "Hi {{1}}, your order has shipped. Use code SAVE20 to get 20% off your next purchase!",
        "example": {"body_text": [["Ada"]]},
    }
    created = await tenant.create_template("shipped_with_coupon", components=[body])
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "PENDING"
    rejected = await wait_status(tenant, created.json()["id"], "REJECTED")
    assert rejected["rejection_reason"] == "PROMOTIONAL"
    assert rejected["suggested_category"] == "MARKETING"


async def test_the_sandbox_reviews_like_meta_and_rejects_what_meta_would(
    tenant: Tenant, db: Database
) -> None:
    broken = [{"type": "BODY", "text": "{{1}} starts this body, which Meta refuses"}]
    template = await insert_template(db, tenant, "broken_body", TemplateStatus.PENDING, broken)
    async with db.transaction() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        definition = TemplateDefinition("broken_body", "en", "UTILITY", broken)
        row = await sandbox_templates.put(session, channel, definition, status=TemplateStatus.PENDING)
        sandbox_templates.schedule_review(session, row, 0)
    rejected = await wait_status(tenant, template["id"], "REJECTED")
    assert rejected["rejection_reason"] == "INVALID_FORMAT"
    assert rejected["status_reason"].startswith("INVALID_FORMAT")


async def test_rejection_carries_the_reason_and_the_suggested_category(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "summer_sale", TemplateStatus.PENDING)
    await review(db, tenant, template, "REJECTED", reason="PROMOTIONAL", suggested_category="MARKETING")
    rejected = await fetch(tenant, template["id"])
    assert rejected["status"] == "REJECTED"
    assert rejected["rejection_reason"] == "PROMOTIONAL"
    assert rejected["suggested_category"] == "MARKETING"
    assert statuses(rejected) == ["PENDING", "REJECTED"]
    kind, data = (await events_of(db, template["id"]))[-1]
    assert kind == "template.status_updated"
    assert (data["status"], data["rejection_reason"], data["suggested_category"]) == (
        "REJECTED",
        "PROMOTIONAL",
        "MARKETING",
    )


async def test_a_reason_with_an_explanation_keeps_the_code_as_rejection_reason(
    tenant: Tenant, db: Database
) -> None:
    template = await insert_template(db, tenant, "bad_format", TemplateStatus.PENDING)
    await review(db, tenant, template, "REJECTED", reason="INVALID_FORMAT: a variable is at the very end")
    rejected = await fetch(tenant, template["id"])
    assert rejected["rejection_reason"] == "INVALID_FORMAT"
    assert rejected["status_reason"] == "INVALID_FORMAT: a variable is at the very end"


async def test_first_quality_pause_lasts_three_hours_then_the_template_is_approved_again(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    paused_at = await review(db, tenant, approved, "PAUSED")
    paused = await fetch(tenant, approved["id"])
    assert paused["status"] == "PAUSED"
    assert ts(paused["paused_until"]) == paused_at + timedelta(hours=3)
    assert paused["pause_count"] == 1
    assert "3 h" in paused["status_reason"]

    await tenant.advance_clock(2 * HOUR)
    await due_work_done(db, tenant)
    assert (await fetch(tenant, approved["id"]))["status"] == "PAUSED"

    await tenant.advance_clock(HOUR + 1)
    unpaused = await wait_status(tenant, approved["id"], "APPROVED")
    assert unpaused["paused_until"] is None
    assert statuses(unpaused) == ["PENDING", "APPROVED", "PAUSED", "APPROVED"]
    assert [d["status"] for _, d in await events_of(db, approved["id"])][-2:] == ["PAUSED", "APPROVED"]


async def test_second_pause_lasts_six_hours_and_the_third_disables_the_template(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    await review(db, tenant, approved, "PAUSED")
    await tenant.advance_clock(3 * HOUR + 1)
    await wait_status(tenant, approved["id"], "APPROVED")

    second_at = await review(db, tenant, approved, "PAUSED")
    second = await fetch(tenant, approved["id"])
    assert ts(second["paused_until"]) == second_at + timedelta(hours=6)
    assert second["pause_count"] == 2
    await tenant.advance_clock(3 * HOUR + 1)
    await due_work_done(db, tenant)
    assert (await fetch(tenant, approved["id"]))["status"] == "PAUSED"
    await tenant.advance_clock(3 * HOUR)
    await wait_status(tenant, approved["id"], "APPROVED")

    await review(db, tenant, approved, "PAUSED")
    disabled = await fetch(tenant, approved["id"])
    assert disabled["status"] == "DISABLED"
    assert disabled["paused_until"] is None
    assert "quality" in disabled["status_reason"]
    assert [d["status"] for _, d in await events_of(db, approved["id"])][-1] == "DISABLED"


async def test_a_paused_template_reinstated_by_meta_is_approved_before_the_pause_ends(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    await review(db, tenant, approved, "PAUSED")
    await review(db, tenant, approved, "REINSTATED")
    reinstated = await fetch(tenant, approved["id"])
    assert reinstated["status"] == "APPROVED"
    assert reinstated["paused_until"] is None
    await tenant.advance_clock(3 * HOUR + 1)
    await due_work_done(db, tenant)
    assert statuses(await fetch(tenant, approved["id"])) == ["PENDING", "APPROVED", "PAUSED", "APPROVED"]


async def test_an_appeal_and_its_outcome_are_kept_in_the_history(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "appealed", TemplateStatus.PENDING)
    await review(db, tenant, template, "REJECTED", reason="INCORRECT_CATEGORY")
    await review(db, tenant, template, "IN_APPEAL")
    assert (await fetch(tenant, template["id"]))["status"] == "IN_APPEAL"
    await review(db, tenant, template, "APPROVED")
    approved = await fetch(tenant, template["id"])
    assert statuses(approved) == ["PENDING", "REJECTED", "IN_APPEAL", "APPROVED"]
    assert approved["rejection_reason"] is None


async def test_limit_exceeded_is_a_status_the_template_takes(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "one_too_many", TemplateStatus.PENDING)
    await review(db, tenant, template, "LIMIT_EXCEEDED")
    assert (await fetch(tenant, template["id"]))["status"] == "LIMIT_EXCEEDED"


async def test_deleting_a_template_goes_through_pending_deletion_to_deleted(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    response = await tenant.test.delete(f"/v1/templates/{approved['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "PENDING_DELETION"
    deleted = await wait_status(tenant, approved["id"], "DELETED")
    assert statuses(deleted)[-2:] == ["PENDING_DELETION", "DELETED"]
    assert [d["status"] for _, d in await events_of(db, approved["id"])][-2:] == [
        "PENDING_DELETION",
        "DELETED",
    ]


async def test_a_duplicate_or_late_status_event_changes_nothing(tenant: Tenant, db: Database) -> None:
    approved = await tenant.approved_template("order_update")
    before = await events_of(db, approved["id"])
    approved_at = ts(approved["updated_at"])
    await review(db, tenant, approved, "APPROVED")
    await review(db, tenant, approved, "PAUSED", at=approved_at - timedelta(seconds=1))
    after = await fetch(tenant, approved["id"])
    assert statuses(after) == ["PENDING", "APPROVED"]
    assert after["status"] == "APPROVED"
    assert await events_of(db, approved["id"]) == before


async def test_a_verdict_stamped_in_the_second_of_the_last_change_follows_it(
    tenant: Tenant, db: Database
) -> None:
    """Meta's webhooks carry whole seconds: a quick verdict can look older than the submission."""
    pending = await insert_template(db, tenant, "order_update", TemplateStatus.PENDING)
    submitted_at = ts(pending["updated_at"])
    await review(db, tenant, pending, "APPROVED", at=submitted_at.replace(microsecond=0))
    approved = await fetch(tenant, pending["id"])
    assert statuses(approved) == ["PENDING", "APPROVED"]
    assert ts(approved["status_history"][-1]["at"]) == submitted_at


async def test_webhook_only_notices_are_kept_without_changing_the_status(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    await review(db, tenant, approved, "FLAGGED", reason="Quality is low")
    await review(db, tenant, approved, "LOCKED")
    locked = await fetch(tenant, approved["id"])
    assert locked["status"] == "APPROVED"
    assert locked["locked"] is True
    assert statuses(locked) == ["PENDING", "APPROVED", "FLAGGED", "LOCKED"]
    await review(db, tenant, approved, "UNLOCKED")
    assert (await fetch(tenant, approved["id"]))["locked"] is False


async def test_category_change_is_announced_a_day_ahead_then_completed(tenant: Tenant, db: Database) -> None:
    approved = await tenant.approved_template("order_update")
    announced_at = await recategorise(db, tenant, approved, "announced")
    announced = await fetch(tenant, approved["id"])
    assert announced["category"] == "UTILITY"
    pending = announced["pending_category_change"]
    assert (pending["previous_category"], pending["new_category"]) == ("UTILITY", "MARKETING")
    assert ts(pending["announced_at"]) == announced_at
    assert ts(pending["effective_at"]) == announced_at + timedelta(hours=24)
    assert pending["completed_at"] is None

    await recategorise(db, tenant, approved, "announced")  # a duplicate webhook
    await tenant.advance_clock(24 * HOUR)
    completed_at = await recategorise(db, tenant, approved, "completed")
    await recategorise(db, tenant, approved, "completed")  # and another
    completed = await fetch(tenant, approved["id"])
    assert completed["category"] == "MARKETING"
    assert completed["pending_category_change"] is None
    [change] = completed["category_history"]
    assert ts(change["announced_at"]) == announced_at
    assert ts(change["completed_at"]) == completed_at

    category_events = [
        d for kind, d in await events_of(db, approved["id"]) if kind == "template.category_updated"
    ]
    assert [(d["category"], d["pending_category_change"] is not None) for d in category_events] == [
        ("UTILITY", True),
        ("MARKETING", False),
    ]


async def test_a_late_announcement_after_the_change_completed_changes_nothing(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    completed_at = await recategorise(db, tenant, approved, "completed")
    await recategorise(db, tenant, approved, "announced", at=completed_at - timedelta(hours=24))
    template = await fetch(tenant, approved["id"])
    assert template["category"] == "MARKETING"
    assert template["pending_category_change"] is None
    [change] = template["category_history"]
    assert change["announced_at"] is None


async def test_quality_score_updates_are_kept_with_the_previous_score(tenant: Tenant, db: Database) -> None:
    approved = await tenant.approved_template("order_update")
    now = await clock(tenant)
    await quality(db, tenant, approved, "GREEN", now)
    await quality(db, tenant, approved, "YELLOW", now + timedelta(minutes=5))
    await quality(db, tenant, approved, "YELLOW", now + timedelta(minutes=5))
    await quality(db, tenant, approved, "RED", now + timedelta(minutes=1))  # late: older than the last
    template = await fetch(tenant, approved["id"])
    assert template["quality_score"] == "YELLOW"
    assert [(q["previous_score"], q["new_score"]) for q in template["quality_history"]] == [
        (None, "GREEN"),
        ("GREEN", "YELLOW"),
    ]
