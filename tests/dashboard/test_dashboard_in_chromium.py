"""The dashboard in real headless Chromium: sign in, see the sandbox channels, send from a
conversation and watch the status reach ``read`` live, see a closed window refuse
free-form text, see a template's lint errors appear while typing, watch a campaign's
progress bar reach 100%, and check every main page with axe-core."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CUSTOMER, Tenant
from tests.dashboard.conftest import key_of

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect

AXE = Path(__file__).parent / "axe" / "axe.min.js"
LIVE_WAIT_MS = 30000
"""How long a live change may take on a loaded machine (the sandbox and the stream poll)."""
MAIN_PAGES = (
    "/dashboard",
    "/dashboard/conversations",
    "/dashboard/messages",
    "/dashboard/templates",
    "/dashboard/templates/new",
    "/dashboard/campaigns",
    "/dashboard/campaigns/new",
    "/dashboard/channels",
    "/dashboard/webhooks",
    "/dashboard/verifications",
    "/dashboard/usage",
    "/dashboard/logs",
)


@pytest.fixture
async def contexts(browser: Any) -> AsyncIterator[list[Any]]:
    """The test's browser contexts, closed after it (an open page keeps its live stream)."""
    opened: list[Any] = []
    yield opened
    for context in opened:
        await context.close()


async def signed_in_page(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any], *, bypass_csp: bool = False
) -> Any:
    """A new browser tab signed in with the tenant's test key through the sign-in form
    (``bypass_csp`` lets a test inject axe-core past the dashboard's script policy)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)
    contexts.append(context)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.goto(f"{server}/dashboard")
    await expect(page).to_have_url(f"{server}/dashboard/login")
    await page.get_by_label("API key").fill(key_of(tenant.test))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=LIVE_WAIT_MS)
    return page


async def conversation_id(tenant: Tenant) -> str:
    [conversation] = (await tenant.test.get("/v1/conversations")).json()["data"]
    return str(conversation["id"])


async def test_sign_in_and_see_the_sandbox_channels(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    page = await signed_in_page(browser, server, tenant, contexts)
    await expect(page.locator(".mode")).to_have_text("test mode")
    await page.get_by_role("link", name="Channels").click()
    for kind in ("whatsapp", "sms", "email", "web"):
        await expect(page.locator(f"tr.channel[data-type='{kind}']")).to_have_count(1)
    assert page.errors == []


async def test_a_reply_from_a_conversation_reaches_read_without_a_reload(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    await tenant.inbound(CUSTOMER, "Do you ship to Abuja?")
    page = await signed_in_page(browser, server, tenant, contexts)
    await page.goto(f"{server}/dashboard/conversations/{await conversation_id(tenant)}")
    await expect(page.locator(".bubble.in .body")).to_have_text("Do you ship to Abuja?")
    countdown = page.locator(".countdown")
    first = await countdown.text_content()
    # htmx has taken the form over (a click before that would post it as a plain form)
    await page.wait_for_function(
        "() => { const f = document.querySelector('form[hx-post]'); return !!(f && f['htmx-internal-data']); }",
        timeout=LIVE_WAIT_MS,
    )
    await page.get_by_label("Your message").fill("Yes, in 2 days.")
    await page.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator(".bubble.out", has_text="Yes, in 2 days.")
    await expect(sent).to_have_count(1, timeout=LIVE_WAIT_MS)
    await expect(sent.locator(".status")).to_have_attribute("data-status", "read", timeout=LIVE_WAIT_MS)
    assert await countdown.text_content() != first  # the window counts down live
    assert page.errors == []


async def test_a_closed_window_refuses_free_form_text(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    template = await tenant.approved_template()
    await tenant.inbound()
    page = await signed_in_page(browser, server, tenant, contexts)
    # No live stream on this page: the box still offers text when the window closes.
    await page.route("**/dashboard/stream*", lambda route: route.abort())
    await page.goto(f"{server}/dashboard/conversations/{await conversation_id(tenant)}")
    await page.get_by_label("Your message").fill("Are you still there?")
    await tenant.advance_clock(25 * 3600)
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "allows only an approved template", timeout=LIVE_WAIT_MS
    )
    outbound = (await tenant.test.get("/v1/messages", params={"direction": "outbound"})).json()["data"]
    assert outbound == []
    await page.reload()
    await expect(page.locator("#window-closed-note")).to_be_visible()
    await expect(page.get_by_label("Your message")).to_have_count(0)
    await expect(page.get_by_label("Approved template")).to_contain_text(template["name"])
    assert page.errors == []


async def test_a_window_closing_while_the_page_is_open_turns_the_reply_box_to_templates(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    await tenant.approved_template()
    await tenant.inbound()
    page = await signed_in_page(browser, server, tenant, contexts)
    await page.goto(f"{server}/dashboard/conversations/{await conversation_id(tenant)}")
    await expect(page.locator(".pill.s-open")).to_be_visible()
    await expect(page.get_by_label("Your message")).to_be_visible()
    await tenant.advance_clock(25 * 3600)
    await expect(page.locator("#window-closed-note")).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(page.get_by_label("Your message")).to_have_count(0)
    await expect(page.locator(".pill.s-closed")).to_be_visible()
    assert page.errors == []


async def test_template_lint_errors_appear_while_typing(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    page = await signed_in_page(browser, server, tenant, contexts)
    await page.goto(f"{server}/dashboard/templates/new")
    await page.locator("#t-name").fill("order_shipped")
    await page.locator("#t-body").press_sequentially("Hi {{1}}, your order has shipped.", delay=5)
    await expect(page.locator("li.issue[data-code='example_missing']")).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(page.locator("#lint-result")).to_have_text("Fix these before submitting:")
    await page.get_by_label("Body examples").press_sequentially("Ada", delay=5)
    await expect(page.locator("#lint-result")).to_have_text(
        "No errors: ready to submit.", timeout=LIVE_WAIT_MS
    )
    await page.get_by_role("button", name="Submit for review").click()
    await expect(page.get_by_role("heading", name="Template order_shipped")).to_be_visible(
        timeout=LIVE_WAIT_MS
    )
    assert page.errors == []


async def test_a_campaign_from_csv_shows_its_estimate_and_its_progress_reaches_100(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    template = await tenant.approved_template()
    page = await signed_in_page(browser, server, tenant, contexts)
    await page.goto(f"{server}/dashboard/campaigns/new")
    await page.get_by_label("Name").fill("Spring sale")
    await page.get_by_label("Approved template").select_option(f"{template['name']}|{template['language']}")
    csv = "to,1,2\n+2348012345678,Ada,#1\n+2348012345679,Bola,#2\n+2348012345677,Chi,#3\nnope,Dayo,#4\n"
    await page.locator("#c-file").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    await page.get_by_role("button", name="Estimate").click()
    await expect(page.locator("#estimate-reachable")).to_have_text("3", timeout=LIVE_WAIT_MS)
    assert (await tenant.test.get("/v1/campaigns")).json()["data"] == []
    await page.get_by_role("button", name="Start campaign").click()
    await expect(page.get_by_role("heading", name="Campaign Spring sale")).to_be_visible(timeout=LIVE_WAIT_MS)
    progress = page.locator(".progress")
    await expect(progress).to_have_attribute("data-percent", "100", timeout=LIVE_WAIT_MS)
    await expect(progress.locator("progress")).to_have_attribute("value", "4")
    assert page.errors == []


async def test_every_main_page_passes_axe_with_no_serious_violations(
    browser: Any, server: str, tenant: Tenant, contexts: list[Any]
) -> None:
    await tenant.inbound()
    await tenant.send()
    await tenant.approved_template()
    page = await signed_in_page(browser, server, tenant, contexts, bypass_csp=True)
    pages = [*MAIN_PAGES, f"/dashboard/conversations/{await conversation_id(tenant)}", "/dashboard/login"]
    for path in pages:
        await page.goto(f"{server}{path}")
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate("async () => await axe.run(document)")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{path}: {serious}"
    assert page.errors == []
