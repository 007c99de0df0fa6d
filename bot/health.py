"""GET /healthz (the process answers) and GET /readyz (it can do its work: database reachable,
migrations current, channels started) — for the load balancer, the container and `tocns status`."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from bot.kernel import App
from db import migrate


class Readiness:
    def __init__(self, app: App) -> None:
        self.app = app
        self.channels_started = False

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def report(self) -> dict[str, str]:
        """Each check's state, 'ok' or what is wrong (one short English phrase for operators)."""
        out = {
            "database": "ok",
            "migrations": "ok",
            "channels": "ok" if self.channels_started else "starting",
        }
        try:
            async with asyncio.timeout(3):
                async with self.app.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                if await migrate.pending(self.app.engine, self.app.settings.database.url):
                    out["migrations"] = "behind the code: run `tocns db upgrade`"
        except Exception as exc:  # any failure to answer is "not ready", with its name
            out["database"] = f"unreachable ({type(exc).__name__})"
            out["migrations"] = "unknown"
        return out

    async def readyz(self, request: web.Request) -> web.Response:
        report = await self.report()
        ready = all(v == "ok" for v in report.values())
        return web.json_response({"ready": ready, **report}, status=200 if ready else 503)
