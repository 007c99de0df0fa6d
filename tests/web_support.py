"""The dashboard under test: the real aiohttp server (the same mount `tocns run` does) on a free
port, and Debian's chromium driven by Playwright (the system browser, never a downloaded one)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.kernel import ROOT, App
from bot.web import mount
from handlers.web import WEB_BASE_URL

# Screenshots of every page the browser tests visit, for review (and a few copied to docs/).
SHOTS = Path(os.environ.get("TOCNS_WEB_SHOTS", ROOT / "test-output" / "web"))
LINK = re.compile(r"https?://\S+/web/login\?t=\S+")


def chromium_path() -> str | None:
    for name in (os.environ.get("TOCNS_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    return None


def require_browser() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("no system chromium (apt-get install chromium; test.sh does it when root)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright for Python is not installed (pip install -e '.[dev]')")
    return path


@asynccontextmanager
async def dashboard_server(app: App) -> AsyncIterator[str]:
    webapp = web.Application(client_max_size=25 * 1024 * 1024)
    mount(app, webapp)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    app.resources[WEB_BASE_URL] = base
    try:
        yield base
    finally:
        await runner.cleanup()


@asynccontextmanager
async def browser(executable: str, **context_args: Any) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            ctx = await b.new_context(
                viewport=context_args.pop("viewport", {"width": 1280, "height": 900}),
                accept_downloads=True,
                **context_args,
            )
            yield ctx
        finally:
            await b.close()


def link_in(text: str) -> str:
    m = LINK.search(text)
    assert m, f"no sign-in link in {text!r}"
    return m.group(0)


async def shot(page: Any, name: str) -> Path:
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
