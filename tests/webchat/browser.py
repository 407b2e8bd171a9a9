"""A host page on its own loopback origin that embeds the widget (the browser itself is
``tests/browser.py``)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from aiohttp import web

from tests.conftest import _free_port


def host_page(server: str, public_key: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Ada's shop</title>
<style>body{{font-family:Georgia,serif;margin:40px;background:#fafaf9}} button,div,section{{all:unset;color:red}}</style>
</head><body>
<h1>Ada's shop</h1><p>Hand-made bags, shipped from Lagos.</p>
<script src="{server}/widget.js" data-key="{public_key}" async></script>
</body></html>"""


@dataclass
class Site:
    url: str
    public_key: str = ""
    """The web channel the page embeds (set once the channel, which names ``url`` among
    its allowed origins, exists)."""


@asynccontextmanager
async def host_site(server: str) -> AsyncIterator[Site]:
    """The business's own site on another origin: the page, and the widget's service
    worker proxied from omniroute (a service worker must be same-origin with its page)."""
    port = _free_port()
    site = Site(f"http://127.0.0.1:{port}")

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=host_page(server, site.public_key), content_type="text/html")

    async def service_worker(_request: web.Request) -> web.Response:
        async with httpx.AsyncClient() as client:
            script = (await client.get(f"{server}/widget-sw.js")).text
        return web.Response(text=script, content_type="application/javascript")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/widget-sw.js", service_worker)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield site
    finally:
        await runner.cleanup()
