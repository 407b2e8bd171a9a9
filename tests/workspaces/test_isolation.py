"""Tenancy: test and live modes never mix, and workspaces never see each other's data."""

from dataclasses import dataclass

import httpx

from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.workspaces import service as workspaces
from omniroute.workspaces.models import Workspace
from tests.conftest import CUSTOMER, Tenant, TenantFactory, assert_error


@dataclass
class Footprint:
    """One of each kind of object a key can create or see."""

    whatsapp: str
    sms: str
    message: str
    template: str
    conversation: str
    contact: str


async def make_test_footprint(tenant: Tenant) -> Footprint:
    await tenant.inbound()
    message = (await tenant.send(reference="mine")).json()
    template = (await tenant.create_template("order_update")).json()
    return Footprint(
        tenant.whatsapp,
        tenant.sms,
        message["id"],
        template["id"],
        message["conversation_id"],
        message["contact_id"],
    )


async def make_live_footprint(tenant: Tenant) -> Footprint:
    whatsapp = await tenant.live.post(
        "/v1/channels", json={"type": "whatsapp", "name": "Live WA", "provider": "sandbox"}
    )
    sms = await tenant.live.post(
        "/v1/channels", json={"type": "sms", "name": "Live SMS", "provider": "sandbox"}
    )
    assert (whatsapp.status_code, sms.status_code) == (201, 201), (whatsapp.text, sms.text)
    message = await tenant.live.post(
        "/v1/messages",
        json={"channel_id": sms.json()["id"], "to": CUSTOMER, "text": {"body": "Hi"}, "reference": "mine"},
    )
    assert message.status_code == 202, message.text
    template = await tenant.create_template(
        "order_update", client=tenant.live, channel_id=whatsapp.json()["id"]
    )
    assert template.status_code == 201, template.text
    return Footprint(
        whatsapp.json()["id"],
        sms.json()["id"],
        message.json()["id"],
        template.json()["id"],
        message.json()["conversation_id"],
        message.json()["contact_id"],
    )


async def assert_invisible(client: httpx.AsyncClient, other: Footprint) -> None:
    """Every id of ``other`` is a 404 for ``client`` and no list contains it."""
    for path in (
        f"/v1/channels/{other.whatsapp}",
        f"/v1/channels/{other.sms}",
        f"/v1/messages/{other.message}",
        f"/v1/templates/{other.template}",
        f"/v1/conversations/{other.conversation}",
        f"/v1/contacts/{other.contact}",
        f"/v1/channels/{other.whatsapp}/templates",
    ):
        assert_error(await client.get(path), 404, "resource_not_found")
    assert_error(
        await client.get(f"/v1/channels/{other.whatsapp}/window", params={"to": CUSTOMER}),
        404,
        "resource_not_found",
    )
    assert_error(
        await client.patch(f"/v1/channels/{other.sms}", json={"name": "mine now"}), 404, "resource_not_found"
    )
    assert_error(await client.delete(f"/v1/channels/{other.sms}"), 404, "resource_not_found")
    assert_error(await client.delete(f"/v1/templates/{other.template}"), 404, "resource_not_found")
    assert_error(
        await client.post(
            "/v1/messages", json={"channel_id": other.sms, "to": CUSTOMER, "text": {"body": "x"}}
        ),
        404,
        "resource_not_found",
        param="channel_id",
    )

    listed = {
        "channels": (await client.get("/v1/channels")).json()["data"],
        "messages": (await client.get("/v1/messages")).json()["data"],
        "conversations": (await client.get("/v1/conversations")).json()["data"],
        "contacts": (await client.get("/v1/contacts")).json()["data"],
    }
    seen = {item["id"] for items in listed.values() for item in items}
    assert not seen & {other.whatsapp, other.sms, other.message, other.conversation, other.contact}
    by_reference = (await client.get("/v1/messages", params={"reference": "mine"})).json()["data"]
    assert other.message not in {m["id"] for m in by_reference}
    by_channel = (await client.get("/v1/messages", params={"channel_id": other.sms})).json()["data"]
    assert by_channel == []


async def test_a_live_key_never_sees_test_data(tenant: Tenant) -> None:
    test_data = await make_test_footprint(tenant)
    await assert_invisible(tenant.live, test_data)


async def test_a_test_key_never_sees_live_data(tenant: Tenant) -> None:
    live_data = await make_live_footprint(tenant)
    await assert_invisible(tenant.test, live_data)


async def test_live_mode_has_no_channels_until_created(tenant: Tenant) -> None:
    assert (await tenant.live.get("/v1/channels")).json()["data"] == []


async def test_a_test_message_cannot_fall_back_to_a_live_channel(tenant: Tenant) -> None:
    live_data = await make_live_footprint(tenant)
    response = await tenant.send(
        text={"body": "Hi"}, fallback={"channel_id": live_data.sms, "text": {"body": "x"}}
    )
    assert_error(response, 404, "resource_not_found", param="fallback.channel_id")


async def test_a_template_approved_in_one_mode_cannot_be_sent_from_the_other(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    live_whatsapp = (
        await tenant.live.post(
            "/v1/channels", json={"type": "whatsapp", "name": "Live", "provider": "sandbox"}
        )
    ).json()
    response = await tenant.live.post(
        "/v1/messages",
        json={
            "channel_id": live_whatsapp["id"],
            "to": CUSTOMER,
            "template": {"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#1"]}},
        },
    )
    assert_error(response, 404, "template_not_found")


async def test_sandbox_controls_are_forbidden_with_a_live_key(tenant: Tenant) -> None:
    for method, path, body in (
        (
            "POST",
            "/v1/sandbox/inbound",
            {"channel_id": tenant.whatsapp, "from": CUSTOMER, "text": {"body": "x"}},
        ),
        ("POST", "/v1/sandbox/clock/advance", {"seconds": 90000}),
        ("GET", "/v1/sandbox/clock", None),
    ):
        response = await tenant.live.request(method, path, json=body)
        assert_error(response, 403, "live_mode_forbidden")
    assert (await tenant.test.get("/v1/sandbox/clock")).json()["offset_seconds"] == 0
    assert (await tenant.window())["state"] == "closed"


async def test_two_workspaces_do_not_see_each_others_data(make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    first_data = await make_test_footprint(first)
    await assert_invisible(second.test, first_data)
    await assert_invisible(second.live, first_data)


async def test_another_workspace_cannot_act_on_my_channels_or_contacts(make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    first_data = await make_test_footprint(first)
    assert_error(
        await second.inbound(channel_id=first.whatsapp), 404, "resource_not_found", param="channel_id"
    )
    assert_error(
        await second.test.post(
            f"/v1/contacts/{first_data.contact}/opt-outs", json={"channel_id": second.whatsapp}
        ),
        404,
        "resource_not_found",
    )
    assert_error(await second.create_template("stolen", channel_id=first.whatsapp), 404, "resource_not_found")
    assert (await first.window())["state"] == "open"
    assert (await second.window())["state"] == "closed"


async def test_the_same_customer_has_separate_windows_in_each_workspace(make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    await first.inbound()
    assert (await first.send()).status_code == 202
    assert_error(await second.send(), 409, "window_closed")


async def test_an_admin_key_manages_keys_but_sees_no_other_workspaces_data(
    make_tenant: TenantFactory, db: Database, server: str
) -> None:
    """Administration is not a back door: an admin key reads only its own workspace's
    data, and a workspace it creates starts with nothing of anyone else's."""
    first, second = await make_tenant(), await make_tenant()
    first_data = await make_test_footprint(first)
    async with db.transaction() as session:
        workspace = await session.get(Workspace, second.workspace_id)
        assert workspace is not None
        admin_key = await workspaces.create_api_key(session, workspace, Mode.LIVE, admin=True)
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {admin_key}"}) as admin:
        await assert_invisible(admin, first_data)
        created = (await admin.post("/v1/workspaces", json={"name": "Third"})).json()
        third_key = (
            await admin.post("/v1/api-keys", json={"mode": "test", "workspace_id": created["id"]})
        ).json()
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Bearer {third_key['key']}"}
    ) as third:
        await assert_invisible(third, first_data)
        for path in ("/v1/api-keys", "/v1/workspaces"):
            assert_error(await third.get(path), 403, "admin_key_required")


async def test_webhook_endpoints_and_logs_stay_in_their_workspace(make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    created = await first.test.post("/v1/webhook-endpoints", json={"url": "https://example.com/h"})
    assert created.status_code == 201, created.text
    endpoint = created.json()["id"]
    await make_test_footprint(first)
    for method, path in (
        ("GET", f"/v1/webhook-endpoints/{endpoint}"),
        ("PATCH", f"/v1/webhook-endpoints/{endpoint}"),
        ("DELETE", f"/v1/webhook-endpoints/{endpoint}"),
        ("GET", f"/v1/webhook-endpoints/{endpoint}/deliveries"),
        ("POST", f"/v1/webhook-endpoints/{endpoint}/rotate-secret"),
    ):
        body = {"enabled": False} if method == "PATCH" else None
        assert_error(await second.test.request(method, path, json=body), 404, "resource_not_found")
    assert (await second.test.get("/v1/webhook-endpoints")).json()["data"] == []
    first_events = {
        e["id"] for e in (await first.test.get("/v1/logs", params={"kind": "event"})).json()["data"]
    }
    assert first_events, "the footprint produced events"
    second_log = (await second.test.get("/v1/logs", params={"limit": 200})).json()["data"]
    assert not first_events & {e["id"] for e in second_log}
    assert (await first.test.get(f"/v1/webhook-endpoints/{endpoint}")).json()["enabled"] is True
