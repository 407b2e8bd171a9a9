"""The twilio provider against an emulation of Twilio's Messages API over real HTTP:
the form it posts, the errors it maps, and the signed status callbacks and inbound SMS
that come back to /hooks/twilio/{channel_id}."""

import pytest

from omniroute.config import Settings
from tests.conftest import CUSTOMER, assert_error, eventually
from tests.providers.twilio.conftest import SENDER, TwilioChannel
from tests.providers.twilio.emulation import ACCOUNT_SID, post_signed

UNREACHABLE = "+2348012340003"


async def send(
    twilio: TwilioChannel, to: str = CUSTOMER, body: str = "Your code is 4521"
) -> dict[str, object]:
    response = await twilio.tenant.send(to, channel_id=twilio.id, text={"body": body})
    assert response.status_code == 202, response.text
    return dict(response.json())


async def test_a_send_posts_twilios_form_and_statuses_come_back_signed(twilio: TwilioChannel) -> None:
    message = await send(twilio)
    delivered = await twilio.tenant.wait_for(str(message["id"]), "delivered")
    [form] = twilio.emulation.requests
    assert form == {
        "To": CUSTOMER,
        "From": SENDER,
        "Body": "Your code is 4521",
        "StatusCallback": twilio.hook_url,
    }
    assert str(delivered["provider_message_id"]).startswith("SM")
    assert [change["status"] for change in delivered["status_history"]] == [
        "queued",
        "sending",
        "sent",
        "delivered",
    ]


async def test_an_undelivered_status_fails_the_message_with_twilios_code(twilio: TwilioChannel) -> None:
    failed = await twilio.tenant.wait_for(str((await send(twilio, UNREACHABLE))["id"]), "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("undeliverable", 30003)


async def test_an_invalid_number_is_final(twilio: TwilioChannel) -> None:
    failed = await twilio.tenant.wait_for(str((await send(twilio, "+15005550001"))["id"]), "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("invalid_recipient", 21211)
    assert failed["attempts"] == 1


async def test_too_many_requests_is_retried_then_sent(twilio: TwilioChannel) -> None:
    twilio.emulation.rate_limited = 1
    sent = await twilio.tenant.wait_for(str((await send(twilio))["id"]), "delivered", within=15)
    assert sent["attempts"] == 2


async def test_a_wrong_auth_token_fails_the_message_and_marks_the_channel(twilio: TwilioChannel) -> None:
    patched = await twilio.tenant.test.patch(
        f"/v1/channels/{twilio.id}", json={"config": {"auth_token": "not-the-token-0000"}}
    )
    assert patched.status_code == 200, patched.text
    failed = await twilio.tenant.wait_for(str((await send(twilio))["id"]), "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("credentials_rejected", 20003)
    channel = (await twilio.tenant.test.get(f"/v1/channels/{twilio.id}")).json()
    assert channel["status"] == "credentials_rejected"
    assert channel["config"]["auth_token"] == "****0000"


def inbound(body: str, sid: str = "SM" + "ab" * 16) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


async def inbound_messages(twilio: TwilioChannel) -> list[dict[str, object]]:
    response = await twilio.tenant.test.get(
        "/v1/messages", params={"channel_id": twilio.id, "direction": "inbound"}
    )
    return list(response.json()["data"])


async def test_an_inbound_sms_opens_a_conversation_once(twilio: TwilioChannel) -> None:
    params = inbound("Where is my order?")
    first = await post_signed(twilio.hook_url, params)
    again = await post_signed(twilio.hook_url, params)
    assert first.status_code == again.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/xml")
    [message] = await eventually(lambda: inbound_messages(twilio), lambda found: len(found) == 1)
    assert (message["from"], message["text"], message["status"]) == (
        CUSTOMER,
        {"body": "Where is my order?"},
        "received",
    )
    conversations = await twilio.tenant.test.get("/v1/conversations", params={"channel_id": twilio.id})
    assert len(conversations.json()["data"]) == 1


async def test_stop_opts_the_sender_out(twilio: TwilioChannel) -> None:
    assert (await post_signed(twilio.hook_url, inbound("STOP"))).status_code == 200

    async def refused() -> int:
        response = await twilio.tenant.send(CUSTOMER, channel_id=twilio.id, text={"body": "Hi"})
        return response.status_code

    await eventually(refused, lambda status: status == 409)
    response = await twilio.tenant.send(CUSTOMER, channel_id=twilio.id, text={"body": "Hi"})
    assert_error(response, 409, "recipient_opted_out")


async def test_a_bad_signature_is_403_and_stores_nothing(twilio: TwilioChannel) -> None:
    forged = await post_signed(twilio.hook_url, inbound("forged"), token="wrong-token")
    assert_error(forged, 403, "signature_invalid", param="X-Twilio-Signature")
    unsigned = await post_signed(twilio.hook_url, inbound("forged"), token="")
    assert unsigned.status_code == 403
    assert await inbound_messages(twilio) == []


async def test_the_signature_covers_the_public_url_not_the_one_behind_the_proxy(
    twilio: TwilioChannel, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = "https://sms.example.com"
    monkeypatch.setattr(settings, "public_base_url", public)
    path = f"/hooks/twilio/{twilio.id}"
    params = inbound("via the proxy")
    as_seen = await post_signed(twilio.hook_url, params)
    assert as_seen.status_code == 403, "signed over the internal URL: not what Twilio signed"
    ok = await post_signed(twilio.hook_url, params, signed_url=public + path)
    assert ok.status_code == 200, ok.text


async def test_the_api_base_url_passes_the_outbound_target_policy(
    twilio: TwilioChannel, private_targets_refused: None
) -> None:
    response = await twilio.tenant.test.patch(
        f"/v1/channels/{twilio.id}", json={"config": {"api_base_url": "http://169.254.169.254"}}
    )
    assert_error(response, 422, "url_forbidden", param="config.api_base_url")
