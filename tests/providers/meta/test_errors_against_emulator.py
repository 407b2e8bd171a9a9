"""Each class of Graph API error, produced by the emulator's own rules and handled by the
real ``meta`` adapter: rate limits are retried until the message goes out, final
refusals fail the message with Meta's code, a failure reported after a 200 arrives as a
``failed`` status. (Auth errors: test_against_emulator.py.)"""

import asyncio
import time
from typing import Any

import pytest

from omniroute.messages import pacing
from omniroute.policy.limits import PAIR_RATE_BURST, PAIR_RATE_INTERVAL
from tests.conftest import CUSTOMER, POSITIONAL_BODY, assert_error, eventually, ts
from tests.providers.meta.emulated import Emulated, StartEmulated
from tests.providers.meta.payloads import PHONE_NUMBER_ID, WABA_ID

ORDER_UPDATE = {"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#4582"]}}


async def answers(emulated: Emulated, message_id: str) -> list[Any]:
    """What the emulator answered each send request for our message: Meta's error code,
    or "accepted"."""
    return [
        r["error"]["code"] if "error" in r else "accepted" for r in await emulated.requests_for(message_id)
    ]


async def test_throughput_limit_is_retried_until_sent(start_emulated: StartEmulated) -> None:
    emulated = await start_emulated(throughput=1)
    await emulated.customer_writes()
    first, second = await asyncio.gather(emulated.sent(), emulated.sent())

    for message in await asyncio.gather(*(emulated.api.wait_for(m["id"], "read") for m in (first, second))):
        assert message["error"] is None
    limited = [m for m in (first, second) if (await answers(emulated, m["id"]))[0] == 130429]
    [retried] = limited
    assert await answers(emulated, retried["id"]) == [130429, "accepted"]
    assert (await emulated.api.message(retried["id"]))["attempts"] == 2


async def test_pair_rate_limit_is_retried_after_the_pair_interval(
    start_emulated: StartEmulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our own pair-rate pacing stays under Meta's burst; let it allow more here so the
    # emulator is the one to refuse (as Meta would if its figure were lower than ours).
    monkeypatch.setattr(pacing, "PAIR_PACING_BURST", PAIR_RATE_BURST + 5)
    emulated = await start_emulated(status_interval=10)  # no status webhooks while the burst goes out
    await emulated.customer_writes()
    # Three more than Meta's burst: however slowly this machine hands them over (up to
    # 18 s for the lot), the emulator refuses at least one.
    burst = await asyncio.gather(
        *(emulated.sent(text={"body": f"Update {n}"}) for n in range(PAIR_RATE_BURST + 3))
    )
    messages = await eventually(
        lambda: asyncio.gather(*(emulated.api.message(m["id"]) for m in burst)),
        lambda messages: all(m["provider_message_id"] for m in messages),
        timeout=45,
    )

    by_answers = {m["id"]: await answers(emulated, m["id"]) for m in messages}
    retried = [m for m in messages if by_answers[m["id"]] != ["accepted"]]
    assert retried, by_answers
    for message in retried:
        *refusals, last = by_answers[message["id"]]
        assert refusals and set(refusals) == {131056} and last == "accepted"
        assert message["attempts"] == len(refusals) + 1
        requests = await emulated.requests_for(message["id"])
        refused, accepted = ts(requests[0]["received_at"]), ts(requests[-1]["received_at"])
        assert accepted - refused >= PAIR_RATE_INTERVAL


async def test_a_window_the_emulator_does_not_know_is_refused_131047(emulated: Emulated) -> None:
    await emulated.customer_writes()
    assert (await emulated.control.post("/_emulator/reset")).status_code == 200
    assert (await emulated.api.window())["state"] == "open"

    message = await emulated.sent()
    failed = await emulated.api.wait_for(message["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("window_closed", 131047)
    assert failed["attempts"] == 1
    assert await answers(emulated, message["id"]) == [131047]


async def test_a_backdated_customer_message_leaves_both_windows_closed(emulated: Emulated) -> None:
    inbound = await emulated.customer_writes(timestamp=int(time.time()) - 25 * 3600)
    window = await emulated.api.window()
    assert (window["state"], window["last_inbound_at"]) == ("closed", inbound["created_at"])

    assert_error(await emulated.api.send(), 409, "window_closed")
    direct = await emulated.graph.post(
        f"/{PHONE_NUMBER_ID}/messages",
        json={"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "Hi"}},
    )
    assert direct.json()["error"]["code"] == 131047


async def test_a_template_deleted_at_meta_fails_132001(emulated: Emulated) -> None:
    await emulated.api.approved_template("order_update")
    deleted = await emulated.graph.delete(f"/{WABA_ID}/message_templates", params={"name": "order_update"})
    assert deleted.status_code == 200, deleted.text

    message = await emulated.sent(template=ORDER_UPDATE)
    failed = await emulated.api.wait_for(message["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("template_not_approved", 132001)
    assert "does not exist" in failed["error"]["message"]
    assert failed["attempts"] == 1


async def test_a_template_changed_at_meta_fails_132000(emulated: Emulated) -> None:
    approved = await emulated.api.approved_template("order_update")
    [held] = (
        await emulated.graph.get(f"/{WABA_ID}/message_templates", params={"name": "order_update"})
    ).json()["data"]
    three_variables = {
        **POSITIONAL_BODY,
        "text": "Hi {{1}}, your order {{2}} has shipped with {{3}} and will arrive soon.",
        "example": {"body_text": [["Ada", "#4582", "DHL"]]},
    }
    edited = await emulated.graph.post(f"/{held['id']}", json={"components": [three_variables]})
    assert edited.status_code == 200, edited.text
    await eventually(
        lambda: emulated.graph.get(f"/{held['id']}"), lambda response: response.json()["status"] == "APPROVED"
    )
    assert (await emulated.api.test.get(f"/v1/templates/{approved['id']}")).json()["status"] == "APPROVED"

    message = await emulated.sent(template=ORDER_UPDATE)
    failed = await emulated.api.wait_for(message["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == (
        "template_parameters_mismatch",
        132000,
    )
    assert failed["attempts"] == 1


async def test_an_undeliverable_number_fails_by_status_webhook_131026(emulated: Emulated) -> None:
    unreachable = "+2348012340001"
    await emulated.customer_writes(sender=unreachable)
    message = await emulated.sent(to=unreachable)

    failed = await emulated.api.wait_for(message["id"], "failed")
    assert await answers(emulated, message["id"]) == ["accepted"]
    assert failed["provider_message_id"] is not None
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("undeliverable", 131026)
    assert [c["status"] for c in failed["status_history"]] == ["queued", "sending", "sent", "failed"]
