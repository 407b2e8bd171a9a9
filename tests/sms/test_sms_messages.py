"""An SMS message shows its encoding and segments and is priced per segment (sandbox)."""

from tests.conftest import Tenant

NIGERIAN = "+2348012345678"


async def test_an_sms_shows_its_encoding_segments_and_price(tenant: Tenant) -> None:
    sent = await tenant.send(NIGERIAN, channel_id=tenant.sms, text={"body": "€" * 80 + "a"})
    assert sent.status_code == 202, sent.text
    message = sent.json()
    assert message["sms"] == {"encoding": "GSM-7", "segments": 2}
    assert message["pricing"]["category"] == "sms"
    assert message["pricing"]["cost"] == {"amount": "0.0500", "currency": "USD"}  # two segments at NG 0.0250

    delivered = await tenant.wait_for(message["id"], "delivered")
    assert delivered["sms"] == {"encoding": "GSM-7", "segments": 2}
    assert delivered["pricing"]["segments"] == 2


async def test_an_emoji_makes_it_ucs2(tenant: Tenant) -> None:
    sent = await tenant.send(NIGERIAN, channel_id=tenant.sms, text={"body": "Hi 😀" + "x" * 67})
    assert sent.json()["sms"] == {"encoding": "UCS-2", "segments": 2}  # 71 code units


async def test_other_channels_have_no_sms_block(tenant: Tenant) -> None:
    await tenant.inbound()
    sent = await tenant.send(text={"body": "Hi"})
    assert "sms" not in sent.json()


async def test_delivery_reports_of_a_message_without_receipts_are_empty(tenant: Tenant) -> None:
    sent = await tenant.send(NIGERIAN, channel_id=tenant.sms, text={"body": "Hi"})
    reports = await tenant.test.get(f"/v1/messages/{sent.json()['id']}/delivery-reports")
    assert reports.status_code == 200
    assert reports.json() == {"object": "list", "data": []}
    missing = await tenant.test.get("/v1/messages/msg_nope/delivery-reports")
    assert missing.status_code == 404
