"""Throughput (130429) and the pair rate limit (131056), answered with HTTP 429 as Meta's
throttling errors are; refused sends use up no allowance. ``unlimited`` lifts both for benchmarks."""

from typing import Any

from tests.emulator.conftest import CUSTOMER, PHONE_NUMBER_ID, Emulator, details, graph_error

from omniroute.policy.limits import PAIR_RATE_BURST


async def test_sends_over_the_throughput_are_130429(start_emulator: Any) -> None:
    emulator: Emulator = await start_emulator(throughput=3)
    recipients = [f"+23480123456{index:02d}" for index in range(10, 14)]
    for recipient in recipients:
        await emulator.customer_writes(recipient)
    answers = [await emulator.send(recipient) for recipient in recipients]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    error = graph_error(answers[3], 429, 130429)
    assert error["message"] == "(#130429) Rate limit hit"
    assert "too many messages" in error["error_data"]["details"]


async def test_the_pair_rate_limit_allows_a_burst_then_131056_for_that_customer_only(
    emulator: Emulator,
) -> None:
    other = "+2348099999999"
    for number in (CUSTOMER, other):
        await emulator.customer_writes(number)
    for _ in range(PAIR_RATE_BURST):
        response = await emulator.send(CUSTOMER)
        assert response.status_code == 200, response.text

    refused = await emulator.send(CUSTOMER)
    error = graph_error(refused, 429, 131056)
    assert "same phone number" in error["error_data"]["details"]
    assert (await emulator.send(other)).status_code == 200


async def test_a_refused_send_uses_no_throughput(start_emulator: Any) -> None:
    emulator: Emulator = await start_emulator(throughput=1)
    graph_error(await emulator.send(CUSTOMER), 400, 131047)
    await emulator.customer_writes(CUSTOMER)
    assert (await emulator.send(CUSTOMER)).status_code == 200


async def test_unlimited_lifts_the_throughput_and_pair_rate_limits(start_emulator: Any) -> None:
    emulator: Emulator = await start_emulator(throughput=1, unlimited=True)
    await emulator.customer_writes(CUSTOMER)
    for _ in range(PAIR_RATE_BURST + 5):
        response = await emulator.send(CUSTOMER)
        assert response.status_code == 200, response.text
    details(await emulator.send("+2348099999999"), 131047)  # the window is still enforced


async def test_unlimited_reports_high_throughput_and_an_unlimited_messaging_tier(start_emulator: Any) -> None:
    emulator: Emulator = await start_emulator(unlimited=True)
    number = await emulator.graph.get(
        f"/{PHONE_NUMBER_ID}",
        params={"fields": "throughput,whatsapp_business_manager_messaging_limit,messaging_limit_tier"},
    )
    assert number.json()["throughput"] == {"level": "HIGH"}
    assert number.json()["whatsapp_business_manager_messaging_limit"] == "TIER_UNLIMITED"
    assert number.json()["messaging_limit_tier"] == "TIER_UNLIMITED"
