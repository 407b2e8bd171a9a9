"""A live ``meta`` channel learns its number from the Graph API (``GET
/{phone_number_id}``): the display number as its address, the verified name when it has
no name, the quality rating, the throughput level and the messaging limit. On creation
(so ``address`` may be left out) and on every ``POST /v1/channels/{id}/check``."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from omniroute.emulator.app import create_emulator_app
from omniroute.emulator.config import EmulatorConfig
from omniroute.policy.limits import MAX_THROUGHPUT_PER_SECOND
from tests.conftest import Tenant, _free_port, assert_error, serve
from tests.providers.meta.conftest import API_VERSION
from tests.providers.meta.emulated import StartEmulated
from tests.providers.meta.live import ACCESS_TOKEN, APP_SECRET, meta_config
from tests.providers.meta.payloads import PHONE_NUMBER_ID, WABA_ID

NUMBER = {
    "display_phone_number": "+1 555-078-3881",
    "verified_name": "Ada's Bakery",
    "quality_rating": "YELLOW",
    "throughput": MAX_THROUGHPUT_PER_SECOND,
    "messaging_limit": "TIER_10K",
}


@pytest.fixture
async def graph_api() -> AsyncIterator[str]:
    """An emulated Graph API describing ``NUMBER`` (its webhooks go nowhere)."""
    port = _free_port()
    config = EmulatorConfig(
        phone_number_id=PHONE_NUMBER_ID,
        waba_id=WABA_ID,
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        webhook_url=f"http://127.0.0.1:{_free_port()}/nowhere",
        **NUMBER,  # type: ignore[arg-type]
    )
    url, stop = await serve(create_emulator_app(config), port)
    yield url
    await stop()


async def create(tenant: Tenant, **body: Any) -> httpx.Response:
    return await tenant.live.post("/v1/channels", json={"type": "whatsapp", "provider": "meta", **body})


def described(channel: dict[str, Any]) -> tuple[Any, ...]:
    return (
        channel["address"],
        channel["quality_rating"],
        channel["throughput_per_second"],
        channel["messaging_tier"],
    )


async def test_a_channel_created_without_address_or_name_takes_them_from_meta(
    tenant: Tenant, graph_api: str
) -> None:
    response = await create(tenant, config=meta_config(graph_base_url=graph_api, api_version=API_VERSION))
    assert response.status_code == 201, response.text
    channel = response.json()
    assert described(channel) == ("+15550783881", "YELLOW", MAX_THROUGHPUT_PER_SECOND, "TIER_10K")
    assert channel["name"] == "Ada's Bakery"
    assert (await tenant.live.get(f"/v1/channels/{channel['id']}")).json() == channel


async def test_a_given_name_is_kept_and_meta_has_the_last_word_on_the_number(
    tenant: Tenant, graph_api: str
) -> None:
    response = await create(
        tenant,
        name="Support",
        address="+15550000000",
        config=meta_config(graph_base_url=graph_api, api_version=API_VERSION),
    )
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["address"]) == ("Support", "+15550783881")


async def test_without_an_address_an_unreachable_graph_api_is_named(tenant: Tenant) -> None:
    error = assert_error(await create(tenant, name="Support", config=meta_config()), 422, "parameter_missing")
    assert error["param"] == "address"
    assert "could not tell" in error["message"]


async def test_check_refreshes_what_meta_says_about_the_number(start_emulated: StartEmulated) -> None:
    """The channel is created while its Graph API is down (our defaults stand), then
    the emulator comes up describing the number otherwise: a check takes Meta's word."""
    emulated = await start_emulated(
        display_phone_number="15550783882",
        quality_rating="RED",
        throughput=MAX_THROUGHPUT_PER_SECOND,
        messaging_limit="TIER_100K",
    )
    channel_url = f"/v1/channels/{emulated.channel_id}"
    before = (await emulated.api.test.get(channel_url)).json()
    assert described(before) == ("+15550783881", "GREEN", 80, "TIER_2K")
    check = (await emulated.api.test.post(f"{channel_url}/check")).json()
    assert check["result"] == "ok", check
    assert described(check["channel"]) == ("+15550783882", "RED", MAX_THROUGHPUT_PER_SECOND, "TIER_100K")
    assert described((await emulated.api.test.get(channel_url)).json()) == described(check["channel"])


async def test_the_adapter_asks_for_the_current_messaging_limit_field(start_emulated: StartEmulated) -> None:
    """``messaging_limit_tier`` is deprecated; ``whatsapp_business_manager_messaging_limit``
    is what the check reads (the emulator answers only the fields asked for)."""
    emulated = await start_emulated(messaging_limit="TIER_10K")
    number = (
        await emulated.graph.get(
            f"/{PHONE_NUMBER_ID}", params={"fields": "whatsapp_business_manager_messaging_limit"}
        )
    ).json()
    assert number == {"whatsapp_business_manager_messaging_limit": "TIER_10K", "id": PHONE_NUMBER_ID}
    check = (await emulated.api.test.post(f"/v1/channels/{emulated.channel_id}/check")).json()
    assert check["channel"]["messaging_tier"] == "TIER_10K"
