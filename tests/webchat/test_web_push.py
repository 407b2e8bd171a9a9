"""Web Push to a visitor with no open widget, end to end against a push service on
loopback that verifies the VAPID JWT and decrypts the payload with the subscription's
private key, as browsers' push services and browsers do."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from omniroute.providers.widget.webpush import Subscription, audience, generate_vapid_keys, push_request
from tests.conftest import Tenant, assert_error, eventually
from tests.webchat.conftest import Stream, Visitor, create_web_channel, reply
from tests.webchat.push_service import BrowserSubscription, PushService, push_service, verify_vapid
from tests.webchat.test_replies import reaches


@pytest.fixture
async def pushes() -> AsyncIterator[PushService]:
    async with push_service() as service:
        yield service


async def subscribed_visitor(
    page: httpx.AsyncClient, channel: dict[str, Any], pushes: PushService, *answers: int
) -> tuple[Visitor, BrowserSubscription]:
    """A visitor whose browser subscribed to Web Push (the push service answers ``answers`` first)."""
    visitor = await Visitor(page, str(channel["public_key"])).start()
    subscription = pushes.subscription(*answers)
    response = await visitor.request("POST", "/push-subscriptions", json=subscription.as_json())
    assert response.status_code == 201, response.text
    return visitor, subscription


async def test_the_codec_encrypts_for_the_subscription_and_signs_for_its_origin(pushes: PushService) -> None:
    keys = generate_vapid_keys()
    browser = pushes.subscription()
    request = push_request(
        Subscription(browser.endpoint, browser.p256dh, browser.as_json()["keys"]["auth"]),
        {"title": "Hi"},
        vapid_private_key=keys.private_key,
        subject="https://shop.example.com",
    )
    key, claims = verify_vapid(request.headers["Authorization"], audience(browser.endpoint))
    assert key == keys.public_key and claims["sub"] == "https://shop.example.com"
    async with httpx.AsyncClient() as client:
        answer = await client.post(request.url, headers=request.headers, content=request.body)
    assert answer.status_code == 201, answer.text
    assert browser.received[0]["payload"] == {"title": "Hi"}


async def test_a_reply_to_a_visitor_without_an_open_widget_is_pushed(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService
) -> None:
    channel = await create_web_channel(tenant, title="Ada's shop")
    visitor, browser = await subscribed_visitor(page, channel, pushes)
    second_browser = pushes.subscription()
    assert (
        await visitor.request("POST", "/push-subscriptions", json=second_browser.as_json())
    ).status_code == 201
    sent = await reply(tenant.live, channel, visitor.id, text={"body": "Your order has shipped."})
    assert (await reaches(tenant.live, sent["id"], "sent"))[-1] == ("sent", "push")
    for subscription in (browser, second_browser):
        [push] = subscription.received
        assert push["payload"] == {
            "title": "Ada's shop",
            "body": "Your order has shipped.",
            "url": None,
            "message_id": sent["id"],
        }
        assert push["vapid_key"] == channel["vapid_public_key"]
        assert push["claims"]["aud"] == pushes.url and push["claims"]["sub"] == "https://shop.example.com"
    assert pushes.refusals == []
    assert [m["id"] for m in await visitor.messages()] == [sent["id"]]  # and it waits in the chat


async def test_a_push_alone_is_a_notification(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService
) -> None:
    channel = await create_web_channel(tenant)
    visitor, browser = await subscribed_visitor(page, channel, pushes)
    push = {"title": "Back in stock", "body": "The blue one is back.", "url": "https://shop.example.com/blue"}
    sent = await reply(tenant.live, channel, visitor.id, push=push)
    assert sent["type"] == "push" and sent["push"] == push
    assert (await reaches(tenant.live, sent["id"], "sent"))[-1] == ("sent", "push")
    assert browser.received[0]["payload"] == {**push, "message_id": sent["id"]}


async def test_a_reply_goes_by_stream_while_the_widget_is_open(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService, streams: list[Stream]
) -> None:
    channel = await create_web_channel(tenant)
    visitor, browser = await subscribed_visitor(page, channel, pushes)
    stream = await visitor.open_stream(streams)
    sent = await reply(tenant.live, channel, visitor.id)
    assert (await stream.message_from("business"))["id"] == sent["id"]
    assert (await reaches(tenant.live, sent["id"], "delivered"))[2:] == [
        ("sent", "stream"),
        ("delivered", "stream"),
    ]
    assert browser.attempts == 0


async def test_an_expired_subscription_is_removed(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService
) -> None:
    channel = await create_web_channel(tenant)
    visitor, browser = await subscribed_visitor(page, channel, pushes, 410)
    first = await reply(tenant.live, channel, visitor.id)
    assert (await reaches(tenant.live, first["id"], "sent"))[-1] == ("sent", "stored")
    second = await reply(tenant.live, channel, visitor.id)
    assert (await reaches(tenant.live, second["id"], "sent"))[-1] == ("sent", "stored")
    assert browser.attempts == 1  # removed after its 410
    alone = await reply(tenant.live, channel, visitor.id, push={"title": "Anyone there?"})
    failed = await eventually(
        lambda: tenant.live.get(f"/v1/messages/{alone['id']}"), lambda r: r.json()["status"] == "failed"
    )
    assert failed.json()["error"]["code"] == "no_push_subscription"


async def test_a_push_service_outage_is_retried(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService
) -> None:
    channel = await create_web_channel(tenant)
    visitor, browser = await subscribed_visitor(page, channel, pushes, 503)
    sent = await reply(tenant.live, channel, visitor.id, text={"body": "We are open until 6."})
    assert (await reaches(tenant.live, sent["id"], "sent"))[-1] == ("sent", "push")
    assert browser.attempts == 2  # 503, then (after the dispatcher's back-off) 201
    assert browser.received[0]["payload"]["body"] == "We are open until 6."
    assert (await tenant.live.get(f"/v1/messages/{sent['id']}")).json()["attempts"] == 2


async def test_a_live_subscription_must_point_at_a_public_push_service(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService, private_targets_refused: None
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    response = await visitor.request("POST", "/push-subscriptions", json=pushes.subscription().as_json())
    assert_error(response, 422, "url_forbidden", param="endpoint")


async def test_bad_subscription_keys_are_refused(
    tenant: Tenant, page: httpx.AsyncClient, pushes: PushService
) -> None:
    channel = await create_web_channel(tenant)
    visitor = await Visitor(page, channel["public_key"]).start()
    subscription = pushes.subscription().as_json()
    subscription["keys"]["p256dh"] = "B" * 87
    response = await visitor.request("POST", "/push-subscriptions", json=subscription)
    assert_error(response, 422, "parameter_invalid", param="keys.p256dh")
