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


async def web_channel(tenant: Tenant) -> str:
    [web] = (await tenant.test.get("/v1/channels", params={"type": "web"})).json()["data"]
    return str(web["id"])


async def test_an_undeliverable_sms_fails_with_the_delivery_reports_own_status(tenant: Tenant) -> None:
    message = (await tenant.send(UNDELIVERABLE, channel_id=tenant.sms)).json()
    failed = await tenant.wait_for(message["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("undeliverable", "UNDELIV")
    assert "UNDELIV" in failed["error"]["message"]


async def test_an_undeliverable_email_bounces_with_an_smtp_code(tenant: Tenant) -> None:
    message = (await tenant.send("bounce0001@example.com", channel_id=tenant.email)).json()
    failed = await tenant.wait_for(message["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("email_rejected", 550)
    assert failed["error"]["message"].startswith("550 5.1.1")


async def test_an_undeliverable_web_visitor_fails_without_a_whatsapp_code(tenant: Tenant) -> None:
    message = (await tenant.send("vis_0001", channel_id=await web_channel(tenant))).json()
    failed = await tenant.wait_for(message["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == (
        "undeliverable",
        "visitor_unreachable",
    )


async def test_an_sms_ends_at_delivered_from_its_delivery_report(tenant: Tenant, db: Database) -> None:
    message = (await tenant.send(channel_id=tenant.sms)).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    final = await tenant.message(message["id"])
    assert [h["status"] for h in final["status_history"]] == ["queued", "sending", "sent", "delivered"]


async def test_an_email_ends_at_delivered_when_the_receiving_server_accepted_it(
    tenant: Tenant, db: Database
) -> None:
    message = (await tenant.send("ada@example.com", channel_id=tenant.email)).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    final = await tenant.message(message["id"])
    assert [h["status"] for h in final["status_history"]] == ["queued", "sending", "sent", "delivered"]


async def test_a_web_chat_message_is_read_when_the_visitor_saw_it(tenant: Tenant) -> None:
    message = (await tenant.send("vis_ada", channel_id=await web_channel(tenant))).json()
    read = await tenant.wait_for(message["id"], "read")
    assert [h["status"] for h in read["status_history"]] == ["queued", "sending", "sent", "delivered", "read"]


async def test_a_web_visitor_ending_0002_sees_nothing(tenant: Tenant, db: Database) -> None:
    message = (await tenant.send("vis_0002", channel_id=await web_channel(tenant))).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    assert (await tenant.message(message["id"]))["status"] == "delivered"


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


async def test_opted_out_by_stop_refuses_marketing_templates_but_not_utility(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template("order_update")
    await tenant.approved_template("big_sale", category="MARKETING")
    await tenant.inbound(REPLIES_STOP)
    message = (await tenant.send(REPLIES_STOP)).json()
    await tenant.wait_for(message["id"], "delivered")
    await settled(db, tenant.workspace_id)
    parameters = {"body": ["Ada", "#1"]}
    response = await tenant.send(
        REPLIES_STOP, template={"name": "big_sale", "language": "en", "parameters": parameters}
    )
    assert_error(response, 409, "recipient_opted_out")
    utility = await tenant.send(
        REPLIES_STOP, template={"name": "order_update", "language": "en", "parameters": parameters}
    )
    assert utility.status_code == 202, utility.text


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
