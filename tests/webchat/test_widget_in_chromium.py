"""The widget in real headless Chromium, embedded in a page on another origin: a visitor
writes, the business answers through POST /v1/messages, the answer appears live, and the
conversation survives a reload."""

from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, eventually
from tests.webchat.browser import host_site
from tests.webchat.conftest import create_web_channel, reply
from tests.webchat.test_replies import history

playwright_api = pytest.importorskip("playwright.async_api")


async def inbound(client: httpx.AsyncClient, channel_id: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/messages", params={"channel_id": channel_id, "direction": "inbound"})
    return list(response.json()["data"])


async def test_a_visitor_chats_with_the_business_and_keeps_the_chat_across_a_reload(
    browser: Any, server: str, tenant: Tenant
) -> None:
    async with host_site(server) as site:
        channel = await create_web_channel(
            tenant, origins=[site.url], title="Ada's shop", greeting="Hello! Ask us anything."
        )
        site.public_key = channel["public_key"]
        context = await browser.new_context(viewport={"width": 390, "height": 740})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(site.url)

        launcher = page.locator(".launcher")
        await launcher.click()
        panel = page.locator(".panel")
        await panel.wait_for(state="visible")
        # The channel's settings arrive with the widget's config request: wait for them.
        await playwright_api.expect(page.locator("#title")).to_have_text("Ada's shop")
        await playwright_api.expect(page.locator(".greeting")).to_have_text("Hello! Ask us anything.")
        box = await panel.bounding_box()
        assert box is not None and box["width"] == 390  # a phone: the chat takes the screen

        await page.locator("textarea").fill("Do you ship to Abuja?")
        await page.keyboard.press("Enter")
        [question] = await eventually(
            lambda: inbound(tenant.live, channel["id"]), lambda found: len(found) == 1
        )
        assert question["text"]["body"] == "Do you ship to Abuja?"
        visitor_id = question["from"]

        sent = await reply(tenant.live, channel, visitor_id, text={"body": "Yes, in 2 days."})
        await page.locator(".msg.business", has_text="Yes, in 2 days.").wait_for()
        changes = await eventually(lambda: history(tenant.live, sent["id"]), lambda h: h[-1][0] == "read")
        assert ("delivered", "stream") in changes  # reached the browser, then shown in the open chat

        await page.reload()
        await launcher.click()
        await page.locator(".msg.business", has_text="Yes, in 2 days.").wait_for()
        assert await page.locator(".msg.visitor").all_text_contents() == ["Do you ship to Abuja?"]
        await page.locator("[data-omniroute-chat][data-stream='open']").wait_for(
            state="attached"
        )  # live again
        later = await reply(tenant.live, channel, visitor_id, text={"body": "Anything else?"})
        await page.locator(".msg.business", has_text="Anything else?").wait_for()
        assert (await history(tenant.live, later["id"]))[2] == ("sent", "stream")

        await page.keyboard.press("Escape")
        await panel.wait_for(state="hidden")
        assert await page.evaluate(
            "document.activeElement === document.querySelector('[data-omniroute-chat]')"
        )
        assert (
            len(await inbound(tenant.live, channel["id"])) == 1
        )  # one visitor, one conversation, after the reload
        assert errors == []
        await context.close()


async def test_the_widget_reconnects_after_the_network_drops(
    browser: Any, server: str, tenant: Tenant
) -> None:
    async with host_site(server) as site:
        channel = await create_web_channel(tenant, origins=[site.url])
        site.public_key = channel["public_key"]
        context = await browser.new_context()
        page = await context.new_page()
        stream_requests: list[str] = []
        page.on(
            "request",
            lambda request: "/widget/v1/stream?" in request.url and stream_requests.append(request.url),
        )
        await page.goto(site.url + "#omniroute-chat")  # what a notification click opens: the chat, open
        await page.locator(".panel").wait_for(state="visible")
        await page.locator("textarea").fill("Hello?")
        await page.keyboard.press("Enter")
        [question] = await eventually(
            lambda: inbound(tenant.live, channel["id"]), lambda found: len(found) == 1
        )
        await page.locator(".msg.visitor", has_text="Hello?").wait_for()
        await eventually(lambda: _value(len(stream_requests)), lambda count: count == 1)

        await context.set_offline(True)
        await page.evaluate("window.dispatchEvent(new Event('offline'))")
        await page.wait_for_timeout(300)
        await context.set_offline(False)
        await page.evaluate("window.dispatchEvent(new Event('online'))")
        sent = await reply(tenant.live, channel, question["from"], text={"body": "Back online"})
        await page.locator(".msg.business", has_text="Back online").wait_for(timeout=15000)
        await eventually(lambda: history(tenant.live, sent["id"]), lambda h: h[-1][0] == "read")
        assert len(stream_requests) >= 2  # the stream was opened again after the drop
        await context.close()


async def _value(value: int) -> int:
    return value
