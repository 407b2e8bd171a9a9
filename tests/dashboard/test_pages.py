"""Every dashboard page renders what the API would return for the same workspace and mode,
and its forms act through the same rules as the API."""

import re
from datetime import datetime, timedelta

import pytest

from omniroute.core.db import Database
from tests.campaigns.support import create, fetch, recipients
from tests.conftest import CUSTOMER, Tenant, eventually, settled
from tests.dashboard.conftest import Viewer

CSV = "to,1,2\n+2348012345678,Ada,#1\n+2348012345679,Bola,#2\nnot-a-number,Chi,#3\n"


async def test_the_overview_counts_todays_messages_windows_and_failures(
    viewer: Viewer, tenant: Tenant, db: Database
) -> None:
    await tenant.inbound()
    await tenant.inbound("+2348000000001")
    failed = (await tenant.send("+2348000000001")).json()
    await tenant.wait_for(failed["id"], "failed")
    await settled(db, tenant.workspace_id)
    html = await viewer.page("/dashboard")
    for heading in (
        "Messages today by status",
        "Messages today by channel",
        "Failure reasons today",
        "Queue depth per lane",
    ):
        assert heading in html
    assert re.search(r"Open windows</p><p class=\"value\">2<", html)
    assert "undeliverable" in html  # the number ending 0001 fails as undeliverable
    assert "Cost this month" in html


async def test_channels_lists_the_sandbox_channels(viewer: Viewer, tenant: Tenant) -> None:
    html = await viewer.page("/dashboard/channels")
    for channel_id in (tenant.whatsapp, tenant.sms, tenant.email):
        assert channel_id in html


async def test_a_conversation_shows_its_window_thread_and_reply_box(viewer: Viewer, tenant: Tenant) -> None:
    await tenant.inbound(CUSTOMER, "Do you ship to Abuja?")
    [conversation] = (await tenant.test.get("/v1/conversations")).json()["data"]
    listing = await viewer.page("/dashboard/conversations")
    assert f"/dashboard/conversations/{conversation['id']}" in listing and "closes in" in listing
    html = await viewer.page(f"/dashboard/conversations/{conversation['id']}")
    assert "Do you ship to Abuja?" in html and 'name="text"' in html
    assert re.search(r'data-seconds-left="8639\d"', html)

    sent = await viewer.post(f"/dashboard/conversations/{conversation['id']}/reply", text="Yes, in 2 days.")
    assert sent.status_code == 200, sent.text
    assert "Yes, in 2 days." in sent.text and 'hx-swap-oob="beforeend:#thread"' in sent.text
    [message] = (await tenant.test.get("/v1/messages", params={"direction": "outbound"})).json()["data"]
    assert message["text"]["body"] == "Yes, in 2 days."
    await tenant.wait_for(message["id"], "read")
    assert "read" in await viewer.page(f"/dashboard/messages/{message['id']}")


async def test_a_closed_window_refuses_free_form_text_and_offers_templates(
    viewer: Viewer, tenant: Tenant
) -> None:
    template = await tenant.approved_template()
    await tenant.inbound()
    [conversation] = (await tenant.test.get("/v1/conversations")).json()["data"]
    await tenant.advance_clock(25 * 3600)
    html = await viewer.page(f"/dashboard/conversations/{conversation['id']}")
    assert "window is closed" in html and 'name="text"' not in html
    assert template["id"] in html
    refused = await viewer.post(f"/dashboard/conversations/{conversation['id']}/reply", text="Hello?")
    assert refused.status_code == 409, refused.text
    assert "allows only an approved template" in refused.text
    assert (await tenant.test.get("/v1/messages", params={"direction": "outbound"})).json()["data"] == []
    sent = await viewer.post(
        f"/dashboard/conversations/{conversation['id']}/reply",
        template_id=template["id"],
        parameters="Ada, #4582",
    )
    assert sent.status_code == 200, sent.text
    [message] = (await tenant.test.get("/v1/messages", params={"direction": "outbound"})).json()["data"]
    assert message["template"]["name"] == template["name"]


async def test_messages_filter_and_a_message_explains_its_error(viewer: Viewer, tenant: Tenant) -> None:
    await tenant.inbound("+2348000000001")
    failed = (await tenant.send("+2348000000001")).json()
    await tenant.wait_for(failed["id"], "failed")
    listing = await viewer.page("/dashboard/messages", status="failed")
    assert failed["id"] in listing
    assert failed["id"] not in await viewer.page("/dashboard/messages", status="read")
    assert failed["id"] not in await viewer.page("/dashboard/messages", kind="template")
    html = await viewer.page(f"/dashboard/messages/{failed['id']}")
    assert "undeliverable" in html and "Message undeliverable (Meta 131026). Retrying will not help." in html
    assert "Status timeline" in html and "queued" in html


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hi {{1}}, your order has shipped.", "example_missing"),
        ("{{1}} your order", "variable_at_edge"),
        ("Your order has shipped and will arrive on Monday.", "No errors"),
    ],
)
async def test_template_lint_is_the_apis_lint(
    viewer: Viewer, tenant: Tenant, body: str, expected: str
) -> None:
    form = {"name": "order_update", "language": "en", "category": "UTILITY", "body": body}
    html = (await viewer.post("/dashboard/templates/lint", **form)).text
    api = (
        await tenant.test.post(
            "/v1/templates/lint",
            json={
                **{k: form[k] for k in ("name", "language", "category")},
                "components": [{"type": "BODY", "text": body}],
            },
        )
    ).json()
    assert expected in html
    for issue in api["issues"]:
        assert f'data-code="{issue["code"]}"' in html


async def test_a_template_created_from_the_form_is_reviewed_and_listed(
    viewer: Viewer, tenant: Tenant
) -> None:
    created = await viewer.post(
        "/dashboard/templates",
        channel_id=tenant.whatsapp,
        name="shipping_notice",
        language="en",
        category="UTILITY",
        body="Hi {{1}}, your order {{2}} has shipped and will arrive soon.",
        examples="Ada, #4582",
    )
    assert created.status_code == 303, created.text
    path = created.headers["location"]
    template_id = path.rsplit("/", 1)[1]
    await eventually(
        lambda: tenant.test.get(f"/v1/templates/{template_id}"), lambda r: r.json()["status"] == "APPROVED"
    )
    assert "shipping_notice" in await viewer.page("/dashboard/templates")
    html = await viewer.page(path)
    assert "APPROVED" in html and "Lifecycle" in html and "Hi {{1}}, your order" in html


async def test_a_campaign_from_csv_is_estimated_then_sent_and_controlled(
    viewer: Viewer, tenant: Tenant
) -> None:
    template = await tenant.approved_template()
    form = {
        "csrf_token": viewer.csrf,
        "name": "Spring",
        "channel_id": tenant.whatsapp,
        "template": f"{template['name']}|{template['language']}",
        "on_limit": "wait",
    }
    files = {"file": ("people.csv", CSV.encode(), "text/csv")}
    estimate = await viewer.client.post("/dashboard/campaigns/estimate", data=form, files=files)
    assert estimate.status_code == 200, estimate.text
    assert re.search(r'id="estimate-reachable">2<', estimate.text)
    assert "Skipped: invalid number</dt><dd>1<" in estimate.text
    assert (await tenant.test.get("/v1/campaigns")).json()["data"] == []  # nothing stored yet
    created = await viewer.client.post("/dashboard/campaigns", data=form, files=files)
    assert created.status_code == 303, created.text
    campaign_id = created.headers["location"].rsplit("/", 1)[1]
    await eventually(
        lambda: tenant.test.get(f"/v1/campaigns/{campaign_id}"),
        lambda r: r.json()["status"] == "completed",
        20,
    )
    html = await viewer.page(f"/dashboard/campaigns/{campaign_id}")
    assert 'data-percent="100"' in html and "Spring" in await viewer.page("/dashboard/campaigns")
    refused = await viewer.post(f"/dashboard/campaigns/{campaign_id}/pause")
    assert refused.status_code == 409, refused.text  # a completed campaign cannot pause: the service's rule


async def test_usage_webhooks_and_logs_render(viewer: Viewer, tenant: Tenant) -> None:
    await tenant.inbound()
    await tenant.send()
    endpoint = (
        await tenant.test.post(
            "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "events": ["message.*"]}
        )
    ).json()
    for group_by in ("day", "channel", "category", "country"):
        html = await viewer.page("/dashboard/usage", group_by=group_by)
        assert '<svg class="bar"' in html
    assert '<th scope="row">Sandbox whatsapp</th>' in await viewer.page(
        "/dashboard/usage", group_by="channel"
    )
    assert endpoint["url"] in await viewer.page("/dashboard/webhooks")
    assert "Deliveries to" in await viewer.page(f"/dashboard/webhooks/{endpoint['id']}")
    logs = await viewer.page("/dashboard/logs")
    assert "POST /v1/messages" in logs and "message.queued" in logs
    assert "/dashboard" not in logs.split("<tbody>")[1]  # the dashboard's own requests are not API requests


async def test_a_scheduled_campaign_is_paused_resumed_and_cancelled_from_its_page(
    viewer: Viewer, tenant: Tenant
) -> None:
    await tenant.approved_template()
    now = datetime.fromisoformat((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    campaign = await create(tenant, recipients(2), schedule_at=(now + timedelta(hours=2)).isoformat())
    path = f"/dashboard/campaigns/{campaign['id']}"
    assert "Pause" in await viewer.page(path)
    assert (await viewer.post(f"{path}/pause")).status_code == 303
    html = await viewer.page(path)
    assert "Paused: requested" in html and "Resume" in html and "Pause</button>" not in html
    assert (await fetch(tenant, campaign["id"]))["paused_reason"] == "requested"
    assert (await viewer.post(f"{path}/resume")).status_code == 303
    assert (await fetch(tenant, campaign["id"]))["status"] == "scheduled"
    assert (await viewer.post(f"{path}/cancel")).status_code == 303
    html = await viewer.page(path)
    assert "cancelled" in html and "<button" not in html.split('id="detail-')[1].split("</div>")[0]


async def test_a_webhook_delivery_is_retried_from_its_page(viewer: Viewer, tenant: Tenant) -> None:
    endpoint = (
        await tenant.test.post(
            "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "events": ["message.*"]}
        )
    ).json()
    await tenant.inbound()
    deliveries_path = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"
    [delivery] = (
        await eventually(
            lambda: tenant.test.get(deliveries_path),
            lambda r: any(d["attempts"] for d in r.json()["data"]),
        )
    ).json()["data"]
    assert delivery["id"] in await viewer.page(f"/dashboard/webhooks/{endpoint['id']}")
    retried = await viewer.post(f"/dashboard/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry")
    assert retried.status_code == 303
    await eventually(
        lambda: tenant.test.get(deliveries_path),
        lambda r: any(a["manual"] for a in r.json()["data"][0]["attempts"]),
    )


async def test_verifications_lists_codes_sent_with_their_attempts_and_conversion(
    viewer: Viewer, tenant: Tenant
) -> None:
    created = await tenant.test.post("/v1/verifications", json={"to": CUSTOMER, "channels": ["sms"]})
    assert created.status_code == 201, created.text
    verification = created.json()
    checked = await tenant.test.post(
        f"/v1/verifications/{verification['id']}/check", json={"code": verification["test_code"]}
    )
    assert checked.json()["status"] == "approved"
    html = await viewer.page("/dashboard/verifications")
    assert verification["id"] in html and "approved" in html and "sms " in html
    assert "sms 1 of 1 approved (100 %)" in html
    assert verification["test_code"] not in html.split("<tbody>")[1]  # the code itself is never shown
