"""The control API under /_emulator/: health, what the emulator received and sent (with
each webhook's delivery attempts), the send counts a benchmark reads, and reset."""

import hashlib
import hmac
import itertools
import json
from datetime import datetime
from typing import Any

from tests.conftest import POSITIONAL_BODY, eventually
from tests.emulator.conftest import APP_SECRET, CUSTOMER, PHONE_NUMBER_ID, WABA_ID, Emulator, details

from omniroute.emulator.webhooks import retry_delays, signature


async def test_health_names_the_emulated_number(emulator: Emulator) -> None:
    response = await emulator.control.get("/_emulator/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["phone_number_id"] == PHONE_NUMBER_ID
    assert response.json()["waba_id"] == WABA_ID


async def test_webhooks_are_listed_with_their_delivery_attempts(emulator: Emulator) -> None:
    emulator.receiver.fail_next = 1
    await emulator.customer_writes()
    await emulator.receiver.wait_for("messages", lambda v: "messages" in v)
    [delivery] = (await emulator.control.get("/_emulator/webhooks")).json()["data"]
    assert delivery["field"] == "messages"
    assert delivery["delivered"] is True
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["body"]["object"] == "whatsapp_business_account"
    assert delivery["body"]["entry"][0]["id"] == WABA_ID


async def test_a_webhook_the_receiver_refuses_is_retried_with_back_off_until_accepted(
    emulator: Emulator,
) -> None:
    emulator.receiver.fail_next = 5  # more than a few quick retries would cover
    await emulator.customer_writes()

    async def delivery() -> dict[str, Any]:
        [found] = (await emulator.control.get("/_emulator/webhooks")).json()["data"]
        return dict(found)

    delivered = await eventually(delivery, lambda found: found["delivered"], timeout=15)
    assert [a["status_code"] for a in delivered["attempts"]] == [500, 500, 500, 500, 500, 200]
    sent_at = [datetime.fromisoformat(a["at"]) for a in delivered["attempts"]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert gaps[-1] > gaps[0]  # less and less often


def test_meta_retries_a_webhook_with_back_off_for_up_to_seven_days() -> None:
    delays = list(retry_delays())
    assert delays[:4] == [5.0, 10.0, 20.0, 40.0]
    assert delays == sorted(delays) and max(delays) == 3600.0
    assert 6.9 * 24 * 3600 < sum(delays) <= 7 * 24 * 3600
    assert list(retry_delays(0.001)) == [delay * 0.001 for delay in delays]  # time compressed for tests


async def test_the_signature_is_hmac_sha256_of_the_raw_body_with_the_app_secret() -> None:
    raw = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    expected = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert signature(APP_SECRET, raw) == f"sha256={expected}"


async def test_received_sends_are_listed_with_their_outcome(emulator: Emulator) -> None:
    await emulator.send()
    await emulator.customer_writes()
    accepted = (await emulator.send()).json()["messages"][0]["id"]
    listing = (await emulator.control.get("/_emulator/messages")).json()
    refused, ok = listing["received"]
    assert refused["error"]["code"] == 131047
    assert refused["request"]["to"] == CUSTOMER
    assert ok["message_id"] == accepted
    assert listing["outbound"][0]["id"] == accepted
    assert listing["inbound"][0]["message"]["text"] == {"body": "Hi"}


async def test_reset_forgets_messages_windows_templates_and_webhooks(emulator: Emulator) -> None:
    await emulator.customer_writes()
    await emulator.approved_template("welcome", [POSITIONAL_BODY])
    assert (await emulator.send()).status_code == 200

    assert (await emulator.control.post("/_emulator/reset")).json() == {"status": "reset"}

    listing = (await emulator.control.get("/_emulator/messages")).json()
    assert listing == {"received": [], "outbound": [], "inbound": []}
    assert (await emulator.control.get("/_emulator/webhooks")).json() == {"data": []}
    assert (await emulator.graph.get(f"/{WABA_ID}/message_templates")).json() == {"data": []}
    details(await emulator.send(), 131047)


async def test_an_inbound_without_a_valid_number_is_refused(emulator: Emulator) -> None:
    response = await emulator.control.post("/_emulator/inbound", json={"from": "not-a-number", "text": "Hi"})
    assert response.status_code == 422


async def test_stats_count_accepted_sends_and_duplicates_by_recipient_and_callback_data(
    emulator: Emulator,
) -> None:
    other = "+2348099999999"
    assert await emulator.stats() == {"sends": 0, "distinct": 0, "duplicates": 0, "callback_data": 0}
    await emulator.send(biz_opaque_callback_data="msg_1")  # refused (closed window): not counted
    for number in (CUSTOMER, other):
        await emulator.customer_writes(number)
    for to, callback_data in [
        (CUSTOMER, "msg_1"),
        (CUSTOMER, "msg_1"),
        (CUSTOMER, "msg_2"),
        (other, "msg_1"),
    ]:
        assert (await emulator.send(to, biz_opaque_callback_data=callback_data)).status_code == 200
    await emulator.send()  # no callback data: the message id is its identity
    await emulator.send()

    assert await emulator.stats() == {"sends": 6, "distinct": 5, "duplicates": 1, "callback_data": 4}


async def test_stats_reset_to_zero_alone_or_with_everything(emulator: Emulator) -> None:
    zero = {"sends": 0, "distinct": 0, "duplicates": 0, "callback_data": 0}
    await emulator.customer_writes()
    await emulator.send(biz_opaque_callback_data="msg_1")

    response = await emulator.control.post("/_emulator/stats/reset")
    assert response.json() == zero
    assert await emulator.stats() == zero
    assert (await emulator.send(biz_opaque_callback_data="msg_1")).status_code == 200  # window kept
    assert (await emulator.stats())["duplicates"] == 0  # identities forgotten too

    await emulator.control.post("/_emulator/reset")
    assert await emulator.stats() == zero
