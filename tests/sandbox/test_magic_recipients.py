"""Magic recipients: the last four digits pick what the simulated network does."""

from typing import Any

from omniroute.core.db import Database
from tests.conftest import Tenant, assert_error, eventually, settled

UNDELIVERABLE = "+2348012340001"
NEVER_READ = "+2348012340002"
REPLIES_STOP = "+2348012340003"


async def test_number_ending_0001_fails_as_undeliverable_with_metas_code(tenant: Tenant) -> None:
    await tenant.inbound(UNDELIVERABLE)
    message = (await tenant.send(UNDELIVERABLE)).json()
    failed = await tenant.wait_for(message["id"], "failed")
    assert failed["error"]["provider_code"] == 131026
    assert failed["error"]["code"] == "undeliverable"
    assert failed["error"]["message"]
    assert [h["status"] for h in failed["status_history"]] == ["queued", "sending", "sent", "failed"]


async def test_undeliverable_template_fails_too(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    message = (
        await tenant.send(
            UNDELIVERABLE,
            template={"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#1"]}},
        )
    ).json()
    failed = await tenant.wait_for(message["id"], "failed")
    assert failed["error"]["provider_code"] == 131026


async def test_undeliverable_applies_to_any_channel_type(tenant: Tenant) -> None:
    message = (await tenant.send(UNDELIVERABLE, channel_id=tenant.sms)).json()
    failed = await tenant.wait_for(message["id"], "failed")
    assert failed["error"]["provider_code"] == 131026


async def test_number_ending_0002_is_delivered_but_never_read(tenant: Tenant, db: Database) -> None:
    await tenant.inbound(NEVER_READ)
    message = (await tenant.send(NEVER_READ)).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    final = await tenant.message(message["id"])
    assert final["status"] == "delivered"
    assert [h["status"] for h in final["status_history"]] == ["queued", "sending", "sent", "delivered"]


async def test_number_ending_0003_replies_stop_and_is_then_opted_out(tenant: Tenant, db: Database) -> None:
    await tenant.inbound(REPLIES_STOP)
    message = (await tenant.send(REPLIES_STOP)).json()
    await tenant.wait_for(message["id"], "delivered")

    async def inbound_messages() -> list[dict[str, Any]]:
        response = await tenant.test.get(
            "/v1/messages", params={"direction": "inbound", "contact": REPLIES_STOP}
        )
        return list(response.json()["data"])

    replies = await eventually(
        inbound_messages, lambda found: any(m["text"]["body"] == "STOP" for m in found)
    )
    stop = next(m for m in replies if m["text"]["body"] == "STOP")
    assert stop["status"] == "received"
    assert stop["direction"] == "inbound"
    await settled(db, tenant.workspace_id)

    refused = assert_error(await tenant.send(REPLIES_STOP), 409, "recipient_opted_out", param="to")
    assert refused["details"]["source"] == "keyword"
    assert refused["details"]["opted_out_at"]
    contact = (await tenant.test.get("/v1/contacts", params={"address": REPLIES_STOP})).json()["data"][0]
    assert [(o["channel_id"], o["source"]) for o in contact["opt_outs"]] == [(tenant.whatsapp, "keyword")]


async def test_opted_out_by_stop_refuses_templates_too(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template("order_update")
    await tenant.inbound(REPLIES_STOP)
    message = (await tenant.send(REPLIES_STOP)).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    response = await tenant.send(
        REPLIES_STOP,
        template={"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#1"]}},
    )
    assert_error(response, 409, "recipient_opted_out")


async def test_customer_writing_start_opts_back_in(tenant: Tenant, db: Database) -> None:
    await tenant.inbound(REPLIES_STOP)
    message = (await tenant.send(REPLIES_STOP)).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    assert_error(await tenant.send(REPLIES_STOP), 409, "recipient_opted_out")

    await tenant.inbound(REPLIES_STOP, "START")
    again = await tenant.send(REPLIES_STOP)
    assert again.status_code == 202, again.text


async def test_ordinary_numbers_are_sent_delivered_and_read(tenant: Tenant) -> None:
    number = "+2348012341234"
    await tenant.inbound(number)
    message = (await tenant.send(number)).json()
    read = await tenant.wait_for(message["id"], "read")
    assert read["error"] is None
