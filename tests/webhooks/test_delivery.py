"""Webhooks reach a real HTTP receiver, signed as Standard Webhooks says (checked with
the independent ``standardwebhooks`` package), and are retried until they succeed."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from standardwebhooks import Webhook

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.core.time import utcnow
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.services import build_services
from omniroute.webhooks.models import WebhookEndpoint
from tests.conftest import Tenant, assert_error, eventually
from tests.webhooks.conftest import Receiver


async def create_endpoint(tenant: Tenant, url: str, events: list[str]) -> dict[str, Any]:
    response = await tenant.test.post("/v1/webhook-endpoints", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries(tenant: Tenant, endpoint_id: str) -> list[dict[str, Any]]:
    response = await tenant.test.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def test_message_events_arrive_signed_and_verifiable(tenant: Tenant, receiver: Receiver) -> None:
    endpoint = await create_endpoint(tenant, receiver.url, ["message.*"])
    assert endpoint["secret"].startswith("whsec_")
    await tenant.inbound()
    sent = (await tenant.send()).json()
    await tenant.wait_for(sent["id"], "read")
    await eventually(
        lambda: receiver.wait(0),
        lambda got: (
            {r.json["type"] for r in got}
            >= {"message.queued", "message.sent", "message.delivered", "message.read"}
        ),
    )
    for request in receiver.received:
        payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
        assert set(payload) == {"type", "timestamp", "data"}
        assert (payload["data"]["id"] == sent["id"]) == (payload["type"] != "message.received")
        assert request.headers["webhook-id"].startswith("evt_")
    [read] = receiver.of_type("message.read")
    assert read.json["data"]["status"] == "read"


async def test_the_secret_is_shown_only_at_creation(tenant: Tenant, receiver: Receiver) -> None:
    endpoint = await create_endpoint(tenant, receiver.url, ["*"])
    fetched = (await tenant.test.get(f"/v1/webhook-endpoints/{endpoint['id']}")).json()
    listed = (await tenant.test.get("/v1/webhook-endpoints")).json()["data"]
    assert "secret" not in fetched
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert endpoint["secret"] not in str(listed)


async def test_a_failed_delivery_is_retried_with_the_same_id(tenant: Tenant, receiver: Receiver) -> None:
    receiver.answers = [500]
    endpoint = await create_endpoint(tenant, receiver.url, ["conversation.window_opened"])
    await tenant.inbound()
    first, second = await receiver.wait(2, within=20)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    [delivery] = await deliveries(tenant, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    failed = delivery["attempts"][0]
    assert failed["error"] == "HTTP 500" and failed["response_excerpt"] == "nope"
    assert failed["duration_ms"] >= 0


async def test_filters_with_wildcards_choose_the_events(tenant: Tenant, receiver: Receiver) -> None:
    for path, filters in (("/exact", ["message.received"]), ("/group", ["conversation.*"]), ("/all", ["*"])):
        await create_endpoint(tenant, receiver.url + path, filters)
    await tenant.inbound()
    await receiver.wait(4)
    assert receiver.types_at("/hooks/exact") == {"message.received"}
    assert receiver.types_at("/hooks/group") == {"conversation.window_opened"}
    assert receiver.types_at("/hooks/all") == {"message.received", "conversation.window_opened"}


async def test_unknown_event_types_are_refused_naming_the_entry(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/webhook-endpoints", json={"url": "https://example.com/h", "events": ["message.*", "mesage.sent"]}
    )
    error = assert_error(response, 422, "unknown_event_type", param="events[1]")
    assert "mesage.sent" in error["message"]
    response = await tenant.test.post(
        "/v1/webhook-endpoints", json={"url": "https://example.com/h", "events": ["nothing.*"]}
    )
    assert_error(response, 422, "unknown_event_type", param="events[0]")


async def test_campaign_events_can_be_subscribed_to(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/webhook-endpoints",
        json={"url": "https://example.com/h", "events": ["campaign.*", "campaign.paused"]},
    )
    assert response.status_code == 201, response.text


async def test_verification_events_can_be_subscribed_to(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/webhook-endpoints",
        json={"url": "https://example.com/h", "events": ["verification.*", "verification.failed"]},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("undeclared", ["verification.sent", "otp.*", "*.*", "mess*"])
async def test_only_event_types_of_existing_features_are_accepted(tenant: Tenant, undeclared: str) -> None:
    """The catalogue grows with the features: no filter for events nothing can produce yet."""
    for filters in ([undeclared], ["message.delivered", undeclared]):
        response = await tenant.test.post(
            "/v1/webhook-endpoints", json={"url": "https://example.com/h", "events": filters}
        )
        assert_error(response, 422, "unknown_event_type", param=f"events[{len(filters) - 1}]")
    created = await tenant.test.post(
        "/v1/webhook-endpoints", json={"url": "https://example.com/h", "events": ["message.delivered"]}
    )
    assert created.status_code == 201, created.text
    response = await tenant.test.patch(
        f"/v1/webhook-endpoints/{created.json()['id']}", json={"events": ["message.*", undeclared]}
    )
    assert_error(response, 422, "unknown_event_type", param="events[1]")
    assert (await tenant.test.get(f"/v1/webhook-endpoints/{created.json()['id']}")).json()["events"] == [
        "message.delivered"
    ]


@pytest.mark.parametrize("url", ["example.com/hooks", "ftp://example.com/hooks", "https://"])
async def test_a_url_must_be_absolute_http(tenant: Tenant, url: str) -> None:
    response = await tenant.test.post("/v1/webhook-endpoints", json={"url": url})
    assert_error(response, 422, "parameter_invalid", param="url")


async def test_rotation_signs_with_both_secrets_for_a_day(tenant: Tenant, receiver: Receiver) -> None:
    endpoint = await create_endpoint(tenant, receiver.url, ["message.received"])
    rotated = await tenant.test.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    await tenant.inbound()
    [request] = await receiver.wait(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], new_secret):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "message.received"


async def test_manual_retry_attempts_again_now(tenant: Tenant, receiver: Receiver) -> None:
    receiver.answers = [503]
    endpoint = await create_endpoint(tenant, receiver.url, ["message.received"])
    await tenant.inbound()
    [failed] = await eventually(
        lambda: deliveries(tenant, endpoint["id"]), lambda d: len(d) == 1 and len(d[0]["attempts"]) == 1
    )
    assert failed["status"] == "pending" and failed["next_attempt_at"] is not None
    response = await tenant.test.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{failed['id']}/retry"
    )
    assert response.status_code == 202, response.text
    [done] = await eventually(
        lambda: deliveries(tenant, endpoint["id"]), lambda d: d[0]["status"] == "succeeded"
    )
    assert [(a["status_code"], a["manual"]) for a in done["attempts"]] == [(503, False), (200, True)]
    missing = await tenant.test.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/wd_nope/retry")
    assert_error(missing, 404, "resource_not_found")


async def test_an_endpoint_failing_for_days_is_disabled(
    tenant: Tenant, receiver: Receiver, db: Database
) -> None:
    receiver.answers = [500]
    endpoint = await create_endpoint(tenant, receiver.url, ["message.received"])
    async with db.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint["id"])
            .values(failing_since=utcnow() - timedelta(days=5, minutes=1))
        )
    await tenant.inbound()
    fetched = await eventually(
        lambda: tenant.test.get(f"/v1/webhook-endpoints/{endpoint['id']}"), lambda r: not r.json()["enabled"]
    )
    assert "fix the endpoint" in fetched.json()["disabled_reason"]
    logged = (await tenant.test.get("/v1/logs", params={"type": "webhook_endpoint.disabled"})).json()["data"]
    assert [e["data"]["id"] for e in logged] == [endpoint["id"]]
    enabled = await tenant.test.patch(f"/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True})
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None


async def test_endpoints_are_scoped_to_their_mode(tenant: Tenant, receiver: Receiver) -> None:
    endpoint = await create_endpoint(tenant, receiver.url, ["*"])
    assert_error(await tenant.live.get(f"/v1/webhook-endpoints/{endpoint['id']}"), 404, "resource_not_found")
    deleted = await tenant.test.delete(f"/v1/webhook-endpoints/{endpoint['id']}")
    assert deleted.status_code == 204
    assert_error(await tenant.test.get(f"/v1/webhook-endpoints/{endpoint['id']}"), 404, "resource_not_found")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[::7f00:1]/hooks",
        "https://[2002:a9fe:a9fe::]/hooks",
    ],
)
@pytest.mark.usefixtures("private_targets_refused")
async def test_live_mode_refuses_insecure_and_internal_targets(tenant: Tenant, url: str) -> None:
    response = await tenant.live.post("/v1/webhook-endpoints", json={"url": url, "events": ["*"]})
    assert_error(response, 422, "webhook_url_forbidden", param="url")


@pytest.mark.usefixtures("private_targets_refused")
async def test_live_mode_accepts_a_public_https_url(tenant: Tenant) -> None:
    response = await tenant.live.post("/v1/webhook-endpoints", json={"url": "https://93.184.215.14/h"})
    assert response.status_code == 201, response.text
    moved = await tenant.live.patch(
        f"/v1/webhook-endpoints/{response.json()['id']}", json={"url": "https://127.0.0.1/h"}
    )
    assert_error(moved, 422, "webhook_url_forbidden", param="url")


@pytest.mark.usefixtures("private_targets_refused")
async def test_live_deliveries_check_the_resolved_address_again(
    tenant: Tenant, receiver: Receiver, db: Database
) -> None:
    """An endpoint whose host came to resolve inward after it was saved (here: stored
    directly) is refused at delivery time and never called."""
    created = await tenant.live.post("/v1/webhook-endpoints", json={"url": "https://93.184.215.14/h"})
    endpoint_id = created.json()["id"]
    async with db.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(url=receiver.url.replace("http:", "https:"))
        )
        events.record(
            session,
            TenantRef(tenant.workspace_id, Mode.LIVE),
            EventType.CHANNEL_QUALITY_UPDATED,
            {"id": "ch_x"},
            at=utcnow(),
        )

    async def attempts() -> list[dict[str, Any]]:
        response = await tenant.live.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")
        return [a for d in response.json()["data"] for a in d["attempts"]]

    [attempt] = await eventually(attempts, lambda found: len(found) == 1)
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("refused: 127.0.0.1 resolves to a private")
    assert receiver.received == []


async def test_live_deliveries_have_a_pool_of_their_own_that_checks_every_connection(
    receiver: Receiver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Test mode may reach loopback; live mode connects through its own pool, whose
    every connection is checked on the address it connects to (a host re-pointed
    between the check and the connection is still refused)."""
    monkeypatch.setattr(settings, "allow_private_targets", False)
    services = build_services(settings)
    try:
        async with services.webhook_client(Mode.TEST).request("POST", receiver.url) as response:
            assert response.status == 200
        with pytest.raises(targets.TargetRefused):
            async with services.webhook_client(Mode.LIVE).request("POST", receiver.url):
                pass
    finally:
        await services.close()
    assert len(receiver.received) == 1
