"""POST /v1/channels/{id}/templates/sync pulls the provider's full list (every page) and
reconciles: new templates are created, changed ones updated with history and events,
ones gone at the provider marked DELETED. The sandbox keeps its own list, the
simulated Meta side, which tests change through POST /v1/sandbox/templates."""

from typing import Any

from omniroute.core.db import Database
from omniroute.providers.sandbox.templates import PAGE_SIZE
from tests.conftest import POSITIONAL_BODY, Tenant, assert_error, settled
from tests.templates.support import events_of


async def at_meta(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    """A template made (or changed) in Meta's UI, outside omniroute."""
    response = await tenant.test.post(
        "/v1/sandbox/templates",
        json={
            "channel_id": tenant.whatsapp,
            "name": name,
            "language": "en",
            "category": "UTILITY",
            "components": [POSITIONAL_BODY],
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sync(tenant: Tenant) -> dict[str, Any]:
    response = await tenant.test.post(f"/v1/channels/{tenant.whatsapp}/templates/sync")
    assert response.status_code == 200, response.text
    return dict(response.json())


def counts(result: dict[str, Any]) -> tuple[int, int, int, int]:
    return result["created"], result["updated"], result["deleted"], result["unchanged"]


async def test_sync_creates_every_template_of_the_provider_across_pages(tenant: Tenant) -> None:
    names = [f"made_in_meta_{n}" for n in range(2 * PAGE_SIZE + 1)]
    for name in names:
        await at_meta(tenant, name)
    await at_meta(tenant, "still_in_review", status="PENDING")
    await at_meta(tenant, "refused", status="REJECTED")

    result = await sync(tenant)
    assert counts(result) == (len(names) + 2, 0, 0, 0)
    by_name = {t["name"]: t for t in result["data"]}
    assert sorted(by_name) == sorted([*names, "still_in_review", "refused"])
    assert {by_name[n]["status"] for n in names} == {"APPROVED"}
    assert by_name["still_in_review"]["status"] == "PENDING"
    assert by_name["refused"]["status"] == "REJECTED"
    assert by_name[names[0]]["variables"]["body"] == ["1", "2"]

    listed = await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates", params={"status": "APPROVED"})
    assert len(listed.json()["data"]) == len(names)
    assert counts(await sync(tenant)) == (0, 0, 0, len(names) + 2)


async def test_templates_submitted_through_omniroute_are_already_in_sync(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template("order_update")
    await settled(db, tenant.workspace_id)
    result = await sync(tenant)
    assert counts(result) == (0, 0, 0, 1)


async def test_sync_updates_status_category_and_components_with_history_and_events(
    tenant: Tenant, db: Database
) -> None:
    await at_meta(tenant, "shipping_notice")
    [template] = (await sync(tenant))["data"]

    new_body = {**POSITIONAL_BODY, "text": "Hi {{1}}, order {{2}} left our warehouse today."}
    await at_meta(tenant, "shipping_notice", status="PAUSED", category="MARKETING", components=[new_body])
    result = await sync(tenant)
    assert counts(result) == (0, 1, 0, 0)
    [updated] = result["data"]
    assert (updated["status"], updated["category"]) == ("PAUSED", "MARKETING")
    assert updated["paused_until"] is not None
    assert updated["components"] == [new_body]
    [change] = updated["category_history"]
    assert (change["previous_category"], change["new_category"]) == ("UTILITY", "MARKETING")

    history = (await tenant.test.get(f"/v1/templates/{template['id']}")).json()["status_history"]
    assert [h["status"] for h in history] == ["APPROVED", "PAUSED"]
    kinds = [(kind, data["status"], data["category"]) for kind, data in await events_of(db, template["id"])]
    assert kinds[0] == ("template.status_updated", "APPROVED", "UTILITY")
    assert sorted(kinds[1:]) == [
        ("template.category_updated", "APPROVED", "MARKETING"),
        ("template.status_updated", "PAUSED", "MARKETING"),
    ]


async def test_templates_gone_at_the_provider_are_marked_deleted(tenant: Tenant, db: Database) -> None:
    kept = await at_meta(tenant, "kept")
    removed = await at_meta(tenant, "removed_in_meta")
    await sync(tenant)
    deleted = await tenant.test.delete(f"/v1/sandbox/templates/{removed['id']}")
    assert deleted.status_code == 200, deleted.text

    result = await sync(tenant)
    assert counts(result) == (0, 0, 1, 1)
    by_name = {t["name"]: t for t in result["data"]}
    assert by_name["removed_in_meta"]["status"] == "DELETED"
    assert by_name["kept"]["status"] == "APPROVED"
    assert kept["id"] != removed["id"]
    assert counts(await sync(tenant)) == (0, 0, 0, 1)


async def test_a_template_deleted_through_omniroute_is_gone_at_the_provider(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    await tenant.test.delete(f"/v1/templates/{approved['id']}")
    await settled(db, tenant.workspace_id)
    result = await sync(tenant)
    assert counts(result) == (0, 0, 0, 0)
    assert [t["status"] for t in result["data"]] == ["DELETED"]


async def test_sync_is_only_for_whatsapp_channels(tenant: Tenant) -> None:
    response = await tenant.test.post(f"/v1/channels/{tenant.sms}/templates/sync")
    assert_error(response, 422, "channel_type_unsupported", param="channel_id")


async def test_the_sandbox_template_controls_need_a_test_key(tenant: Tenant) -> None:
    response = await tenant.live.post(
        "/v1/sandbox/templates",
        json={
            "channel_id": tenant.whatsapp,
            "name": "x",
            "language": "en",
            "category": "UTILITY",
            "components": [POSITIONAL_BODY],
        },
    )
    assert_error(response, 403, "live_mode_forbidden")


async def test_one_workspace_cannot_delete_anothers_sandbox_template(
    tenant: Tenant, make_tenant: Any
) -> None:
    other = await make_tenant()
    theirs = await at_meta(other, "theirs")
    response = await tenant.test.delete(f"/v1/sandbox/templates/{theirs['id']}")
    assert_error(response, 404, "resource_not_found")
