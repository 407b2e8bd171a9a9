"""A live ``smpp`` SMS channel through the public API, against the SMSC simulator on
loopback speaking SMPP over TCP: create the channel, send, let the worker dispatch,
read the message and its delivery reports."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from omniroute.providers.smpp.pdu import ESM_CLASS_UDHI, strip_udh
from omniroute.providers.smpp.simulator import SimulatorOptions, SmscSimulator
from tests.conftest import Tenant, assert_error, eventually

pytestmark = pytest.mark.usefixtures("server")

TO = "+2348012345678"


def smpp_config(port: int, **overrides: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "system_id": "omniroute",
        "password": "secret",
        "source_addr": "ACME",
        **overrides,
    }


class Smsc:
    def __init__(self, tenant: Tenant, simulator: SmscSimulator, port: int) -> None:
        self.tenant = tenant
        self.simulator = simulator
        self.port = port
        self.channels: list[str] = []

    async def channel(self, **config: Any) -> str:
        body = {"type": "sms", "name": "SMPP", "provider": "smpp", "address": "ACME"}
        response = await self.tenant.live.post(
            "/v1/channels", json={**body, "config": smpp_config(self.port, **config)}
        )
        assert response.status_code == 201, response.text
        self.channels.append(response.json()["id"])
        return str(response.json()["id"])

    async def send(self, channel_id: str, body: str, to: str = TO) -> str:
        response = await self.tenant.live.post(
            "/v1/messages", json={"channel_id": channel_id, "to": to, "text": {"body": body}}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def message(self, message_id: str) -> dict[str, Any]:
        response = await self.tenant.live.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def reaches(self, message_id: str, status: str, within: float = 10.0) -> dict[str, Any]:
        return dict(
            await eventually(lambda: self.message(message_id), lambda m: m["status"] == status, within)
        )

    async def reports(self, message_id: str) -> list[dict[str, Any]]:
        response = await self.tenant.live.get(f"/v1/messages/{message_id}/delivery-reports")
        assert response.status_code == 200, response.text
        return list(response.json()["data"])


@asynccontextmanager
async def running(tenant: Tenant, options: SimulatorOptions) -> AsyncIterator[Smsc]:
    simulator = SmscSimulator(options)
    port = await simulator.start()
    smsc = Smsc(tenant, simulator, port)
    try:
        yield smsc
    finally:
        # Disabled channels let their binds go, so no test leaves a session reconnecting.
        for channel_id in smsc.channels:
            await tenant.live.patch(f"/v1/channels/{channel_id}", json={"status": "disabled"})
        await simulator.stop()


@pytest.fixture
async def smsc(tenant: Tenant) -> AsyncIterator[Smsc]:
    async with running(tenant, SimulatorOptions()) as value:
        yield value


async def test_the_password_is_never_echoed_and_the_config_is_checked(smsc: Smsc) -> None:
    response = await smsc.tenant.live.post(
        "/v1/channels",
        json={
            "type": "sms",
            "name": "SMPP",
            "provider": "smpp",
            "address": "ACME",
            "config": smpp_config(smsc.port, password="s3cretpw"),
        },
    )
    assert response.status_code == 201, response.text
    smsc.channels.append(response.json()["id"])
    assert response.json()["config"]["password"] == "****"
    assert "s3cretpw" not in response.text
    bad = {"type": "sms", "name": "x", "provider": "smpp", "address": "ACME"}
    for config, param in [
        ({k: v for k, v in smpp_config(1).items() if k != "host"}, "config.host"),
        (smpp_config(1, source_addr="ACMECORPORATE"), "config.source_addr"),
        (smpp_config(1, password="far-too-long"), "config.password"),
        (smpp_config(1, window=0), "config.window"),
        ({**smpp_config(1), "port": 70000}, "config.port"),
    ]:
        refused = await smsc.tenant.live.post("/v1/channels", json={**bad, "config": config})
        assert_error(refused, 422, refused.json()["error"]["code"], param=param)


@pytest.mark.usefixtures("private_targets_refused")
async def test_a_live_channel_may_not_point_at_an_internal_address(smsc: Smsc) -> None:
    refused = await smsc.tenant.live.post(
        "/v1/channels",
        json={
            "type": "sms",
            "name": "x",
            "provider": "smpp",
            "address": "ACME",
            "config": smpp_config(smsc.port),
        },
    )
    assert_error(refused, 422, "url_forbidden", param="config.host")


async def test_a_short_message_is_submitted_once_and_delivered(smsc: Smsc) -> None:
    channel = await smsc.channel()
    message_id = await smsc.send(channel, "Your code is 123456")
    delivered = await smsc.reaches(message_id, "delivered")
    assert delivered["sms"] == {"encoding": "GSM-7", "segments": 1}
    assert [h["status"] for h in delivered["status_history"]] == ["queued", "sending", "sent", "delivered"]
    [submit] = smsc.simulator.submits
    assert submit.destination_addr == "2348012345678"
    assert (submit.source_addr, submit.source_addr_ton, submit.source_addr_npi) == ("ACME", 5, 0)
    assert submit.registered_delivery == 1 and submit.data_coding == 0
    assert submit.short_message == b"Your code is 123456"
    assert delivered["provider_message_id"] == submit.message_id
    [report] = await smsc.reports(message_id)
    assert report["part"] == 1 and report["provider_message_id"] == submit.message_id
    assert report["status"] == "delivered" and report["stat"] == "DELIVRD" and report["error_code"] == "000"


async def test_a_numeric_sender_is_international(smsc: Smsc) -> None:
    channel = await smsc.channel(source_addr="+15550001111")
    await smsc.reaches(await smsc.send(channel, "Hi"), "delivered")
    [submit] = smsc.simulator.submits
    assert (submit.source_addr, submit.source_addr_ton, submit.source_addr_npi) == ("15550001111", 1, 1)


async def test_a_long_message_goes_as_concatenated_parts_and_is_delivered_when_all_are(smsc: Smsc) -> None:
    channel = await smsc.channel()
    text = "Привет! " * 20  # 160 UCS-2 code units: 3 parts of at most 67
    message_id = await smsc.send(channel, text)
    delivered = await smsc.reaches(message_id, "delivered")
    assert delivered["sms"] == {"encoding": "UCS-2", "segments": 3}
    submits = smsc.simulator.submits
    assert len(submits) == 3
    headers = [strip_udh(s.short_message)[1] for s in submits]
    assert all(s.esm_class & ESM_CLASS_UDHI and s.data_coding == 8 for s in submits)
    assert [h[1:] for h in headers if h] == [(3, 1), (3, 2), (3, 3)]
    assert len({h[0] for h in headers if h}) == 1  # one reference for the message
    assert "".join(strip_udh(s.short_message)[0].decode("utf-16-be") for s in submits) == text
    reports = await smsc.reports(message_id)
    assert [(r["part"], r["status"]) for r in reports] == [
        (1, "delivered"),
        (2, "delivered"),
        (3, "delivered"),
    ]


async def test_a_failed_receipt_fails_the_message_with_its_reason(smsc: Smsc) -> None:
    channel = await smsc.channel()
    message_id = await smsc.send(channel, "Hi", to="+2348012340001")  # the simulator says UNDELIV
    failed = await smsc.reaches(message_id, "failed")
    assert failed["error"]["code"] == "undeliverable"
    assert failed["error"]["provider_code"] == "UNDELIV"
    [report] = await smsc.reports(message_id)
    assert report["status"] == "failed" and report["stat"] == "UNDELIV"


async def test_receipts_that_overtake_the_submit_response_are_kept_and_applied(tenant: Tenant) -> None:
    async with running(tenant, SimulatorOptions(receipts_before_response=True)) as smsc:
        channel = await smsc.channel()
        message_id = await smsc.send(channel, "x" * 200)  # 2 parts, each receipt before its response
        await smsc.reaches(message_id, "delivered")
        assert len(await smsc.reports(message_id)) == 2


async def test_throttling_is_retried_and_nothing_is_sent_twice(tenant: Tenant) -> None:
    async with running(tenant, SimulatorOptions(throttle_every=3)) as smsc:
        channel = await smsc.channel()
        recipients = [f"+23480123456{n:02d}" for n in range(10, 16)]
        ids = await asyncio.gather(*(smsc.send(channel, "Hi", to=to) for to in recipients))
        for message_id in ids:
            await smsc.reaches(message_id, "delivered", within=20)
        assert smsc.simulator.throttled >= 1
        sent_to = Counter(s.destination_addr for s in smsc.simulator.submits)
        assert sent_to == Counter(to.lstrip("+") for to in recipients)


async def test_a_connection_dropped_mid_run_loses_nothing_and_sends_nothing_twice(tenant: Tenant) -> None:
    async with running(tenant, SimulatorOptions(drop_after_submits=3)) as smsc:
        channel = await smsc.channel()
        recipients = [f"+23480123457{n:02d}" for n in range(10, 18)]
        ids = [await smsc.send(channel, "Hi", to=to) for to in recipients]

        async def settled() -> list[dict[str, Any]]:
            return [await smsc.message(message_id) for message_id in ids]

        def done(messages: list[dict[str, Any]]) -> bool:
            # Delivered, or (the one the SMSC read as the line dropped) left with an
            # unknown outcome: not sent again, still ``sending`` until resolved.
            return (
                all(
                    m["status"] == "delivered" or (m["status"] == "sending" and m["attempts"] == 1)
                    for m in messages
                )
                and sum(m["status"] == "delivered" for m in messages) >= len(ids) - 1
            )

        messages = await eventually(settled, done, timeout=20)
        sent_to = Counter(s.destination_addr for s in smsc.simulator.submits)
        assert set(sent_to.values()) == {1}, sent_to  # nothing twice
        assert set(sent_to) == {to.lstrip("+") for to in recipients}  # nothing lost
        unknown = [m for m in messages if m["status"] == "sending"]
        assert len(unknown) == 1 and unknown[0]["provider_message_id"] is None
        assert smsc.simulator.binds == 2


async def test_an_inbound_sms_opens_a_conversation_and_stop_opts_out(smsc: Smsc) -> None:
    channel = await smsc.channel()
    # Bound without any send (the check binds; so does the keep_binds job, every 10 s).
    checked = await smsc.tenant.live.post(f"/v1/channels/{channel}/check")
    assert checked.json()["result"] == "ok", checked.text
    assert smsc.simulator.bound_clients == 1
    await smsc.simulator.send_mo("2348012345678", "ACME", b"Hello there")
    await smsc.simulator.send_mo("2348012345678", "ACME", b"STOP")

    async def inbound() -> list[dict[str, Any]]:
        response = await smsc.tenant.live.get(
            "/v1/messages", params={"channel_id": channel, "direction": "inbound"}
        )
        return list(response.json()["data"])

    received = await eventually(inbound, lambda data: len(data) == 2)
    assert {m["text"]["body"] for m in received} == {"Hello there", "STOP"}
    assert all(m["from"] == TO and m["status"] == "received" for m in received)
    conversations = await smsc.tenant.live.get("/v1/conversations", params={"channel_id": channel})
    assert len(conversations.json()["data"]) == 1
    refused = await smsc.tenant.live.post(
        "/v1/messages", json={"channel_id": channel, "to": TO, "text": {"body": "Hi"}}
    )
    assert_error(refused, 409, "recipient_opted_out")


async def test_a_refused_bind_marks_the_channel_credentials_rejected(smsc: Smsc) -> None:
    channel = await smsc.channel(password="wrong")
    message_id = await smsc.send(channel, "Hi")
    failed = await smsc.reaches(message_id, "failed", within=15)
    assert failed["error"]["code"] == "credentials_rejected"
    assert failed["error"]["provider_code"] == "ESME_RINVPASWD"
    assert not smsc.simulator.submits
    described = await smsc.tenant.live.get(f"/v1/channels/{channel}")
    assert described.json()["status"] == "credentials_rejected"

    # New credentials, checked by binding with them: the channel is usable again.
    fixed = await smsc.tenant.live.patch(f"/v1/channels/{channel}", json={"config": {"password": "secret"}})
    assert fixed.status_code == 200, fixed.text
    checked = await smsc.tenant.live.post(f"/v1/channels/{channel}/check")
    assert checked.status_code == 200, checked.text
    assert checked.json()["result"] == "ok" and checked.json()["channel"]["status"] == "active"
    await smsc.reaches(await smsc.send(channel, "Hi again"), "delivered")


async def _value(value: object) -> object:
    return value
