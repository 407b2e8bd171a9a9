"""The per-workspace test clock: GET /v1/sandbox/clock and POST /v1/sandbox/clock/advance."""

from datetime import UTC, datetime, timedelta

from tests.conftest import Tenant, TenantFactory, assert_error, ts


async def test_clock_starts_at_real_time(tenant: Tenant) -> None:
    response = await tenant.test.get("/v1/sandbox/clock")
    assert response.status_code == 200, response.text
    clock = response.json()
    assert clock["offset_seconds"] == 0
    assert abs(ts(clock["now"]) - datetime.now(UTC)) < timedelta(seconds=5)


async def test_advancing_the_clock_moves_now_forward(tenant: Tenant) -> None:
    advanced = await tenant.advance_clock(90000)
    assert advanced["offset_seconds"] == 90000
    expected = datetime.now(UTC) + timedelta(seconds=90000)
    assert abs(ts(advanced["now"]) - expected) < timedelta(seconds=5)
    clock = (await tenant.test.get("/v1/sandbox/clock")).json()
    assert clock["offset_seconds"] == 90000
    assert abs(ts(clock["now"]) - expected) < timedelta(seconds=5)


async def test_advances_accumulate(tenant: Tenant) -> None:
    await tenant.advance_clock(3600)
    await tenant.advance_clock(1800)
    assert (await tenant.test.get("/v1/sandbox/clock")).json()["offset_seconds"] == 5400


async def test_clock_of_one_workspace_does_not_move_another(make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    await first.advance_clock(90000)
    assert (await second.test.get("/v1/sandbox/clock")).json()["offset_seconds"] == 0
    await second.inbound()
    assert (await second.window())["state"] == "open"


async def test_live_mode_ignores_the_test_clock(tenant: Tenant) -> None:
    await tenant.advance_clock(90000)
    channel = await tenant.live.post(
        "/v1/channels", json={"type": "sms", "name": "Live SMS", "provider": "sandbox"}
    )
    assert channel.status_code == 201, channel.text
    sent = await tenant.live.post(
        "/v1/messages",
        json={"channel_id": channel.json()["id"], "to": "+2348012345678", "text": {"body": "Hi"}},
    )
    assert sent.status_code == 202, sent.text
    assert abs(ts(sent.json()["created_at"]) - datetime.now(UTC)) < timedelta(seconds=5)


async def test_test_mode_data_follows_the_test_clock(tenant: Tenant) -> None:
    await tenant.advance_clock(90000)
    sent = await tenant.send(channel_id=tenant.sms)
    expected = datetime.now(UTC) + timedelta(seconds=90000)
    assert abs(ts(sent.json()["created_at"]) - expected) < timedelta(seconds=5)
    delivered = await tenant.wait_for(sent.json()["id"], "delivered")
    assert all(abs(ts(h["at"]) - expected) < timedelta(seconds=10) for h in delivered["status_history"])


async def test_clock_cannot_move_backwards_or_stand_still(tenant: Tenant) -> None:
    for seconds in (-60, 0):
        response = await tenant.test.post("/v1/sandbox/clock/advance", json={"seconds": seconds})
        assert_error(response, 422, "parameter_invalid", param="seconds")
    assert (await tenant.test.get("/v1/sandbox/clock")).json()["offset_seconds"] == 0


async def test_clock_advance_is_bounded_and_must_be_a_number(tenant: Tenant) -> None:
    assert_error(
        await tenant.test.post("/v1/sandbox/clock/advance", json={"seconds": 10**12}),
        422,
        "parameter_invalid",
        param="seconds",
    )
    assert_error(
        await tenant.test.post("/v1/sandbox/clock/advance", json={"seconds": "soon"}),
        422,
        "parameter_invalid",
        param="seconds",
    )
    assert_error(await tenant.test.post("/v1/sandbox/clock/advance", json={}), 422, "parameter_missing")
