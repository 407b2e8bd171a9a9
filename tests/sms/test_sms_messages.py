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


async def test_the_sandbox_keeps_a_delivery_report_per_part(tenant: Tenant) -> None:
    sent = await tenant.send(NIGERIAN, channel_id=tenant.sms, text={"body": "x" * 200})
    queued = await tenant.test.get(f"/v1/messages/{sent.json()['id']}/delivery-reports")
    assert queued.status_code == 200 and queued.json() == {"object": "list", "data": []}
    delivered = await tenant.wait_for(sent.json()["id"], "delivered")
    reports = (await tenant.test.get(f"/v1/messages/{delivered['id']}/delivery-reports")).json()["data"]
    assert [(r["part"], r["status"], r["stat"]) for r in reports] == [
        (1, "delivered", "DELIVRD"),
        (2, "delivered", "DELIVRD"),
    ]
    assert reports[0]["provider_message_id"] == delivered["provider_message_id"]


async def test_a_failed_sandbox_sms_has_a_failed_report(tenant: Tenant) -> None:
    sent = await tenant.send("+2348010000001", channel_id=tenant.sms, text={"body": "Hi"})
    failed = await tenant.wait_for(sent.json()["id"], "failed")
    [report] = (await tenant.test.get(f"/v1/messages/{failed['id']}/delivery-reports")).json()["data"]
    assert (report["status"], report["stat"], report["error_code"]) == ("failed", "UNDELIV", None)


async def test_delivery_reports_of_an_unknown_message_are_404(tenant: Tenant) -> None:
    missing = await tenant.test.get("/v1/messages/msg_nope/delivery-reports")
    assert missing.status_code == 404
