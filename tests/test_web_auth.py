"""Dashboard sign-in and sessions over HTTP (no browser needed): link expiry, idle expiry with an
injected clock, sign-in refusals audit-logged, and what a person can still open after their role
is taken away in the chat."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import aiohttp
import openpyxl
from aiohttp import web
from sqlalchemy import select

from bot import scheduler
from bot.kernel import App
from bot.web import mount
from db.base import utcnow
from db.models import AuditLog, WebLink, WebSession
from handlers.web import WEB_BASE_URL
from tests.support import demo_driver
from tests.web_support import link_in


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def server(app: App, clock: Clock) -> AsyncIterator[str]:
    webapp = web.Application()
    mount(app, webapp, clock=clock)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    app.resources[WEB_BASE_URL] = base
    try:
        yield base
    finally:
        await runner.cleanup()


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def actions(app: App) -> list[tuple[str, dict[str, object]]]:
    async with app.sessions() as s:
        rows = (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars()
        return [(a.action, a.details) for a in rows if a.action.startswith("web.")]


async def test_link_expires_after_ten_minutes_and_sessions_after_idle_time(seeded_app: App) -> None:
    clock = Clock()
    async with server(seeded_app, clock) as base, client() as http:
        url = link_in((await demo_driver(seeded_app, "lanhdao").send("/web")).text)
        clock.now = utcnow() + timedelta(minutes=11)
        async with http.get(url, allow_redirects=False) as r:
            assert r.status == 403
            assert "hết hạn" in await r.text()
        refused = [d for a, d in await actions(seeded_app) if a == "web.sign_in_refused"]
        assert refused and refused[-1]["reason"] == "expired"

        clock.now = utcnow()
        url = link_in((await demo_driver(seeded_app, "lanhdao").send("/web")).text)
        async with http.get(url, allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"] == "/web/"
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie
            assert "Secure" not in cookie  # plain HTTP here; behind HTTPS it is set
        async with http.get(f"{base}/web/u/19786") as r:
            assert r.status == 200
            assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Cache-Control"] == "no-store"
        # Idle for longer than web.session_idle_minutes: signed out.
        clock.now += timedelta(minutes=seeded_app.settings.web.session_idle_minutes + 1)
        async with http.get(f"{base}/web/u/19786", allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"].startswith("/web/signin")
        assert "web.session_expired" in [a for a, _ in await actions(seeded_app)]
    async with seeded_app.sessions() as s:
        rows = list((await s.execute(select(WebSession))).scalars())
        assert len(rows) == 1 and rows[0].ended_at is not None
    # The housekeeping job (every 6 hours) forgets spent links and sessions a day later, so the
    # tables do not grow with every /web ever typed.
    await scheduler.prune_updates(seeded_app, utcnow() + timedelta(days=2))
    async with seeded_app.sessions() as s:
        assert list((await s.execute(select(WebSession))).scalars()) == []
        assert list((await s.execute(select(WebLink))).scalars()) == []


async def test_cookie_is_secure_behind_https(seeded_app: App) -> None:
    clock = Clock()
    async with server(seeded_app, clock) as _base, client() as http:
        url = link_in((await demo_driver(seeded_app, "tinh").send("/web")).text)
        async with http.get(url, allow_redirects=False, headers={"X-Forwarded-Proto": "https"}) as r:
            assert "Secure" in r.headers["Set-Cookie"]


async def test_web_link_is_for_staff_in_a_private_chat(seeded_app: App) -> None:
    async with server(seeded_app, Clock()):
        said = await demo_driver(seeded_app, "dan").send("/web")
        assert "/web/login" not in said.text
        said = await demo_driver(seeded_app, "tnv").send("/web")
        assert "/web/login" not in said.text
        said = await demo_driver(seeded_app, "lanhdao", chat_type="group", chat_id="-100").send("/web")
        assert "/web/login" not in said.text


async def test_a_removed_team_leader_loses_the_dashboard_at_once(seeded_app: App) -> None:
    clock = Clock()
    async with server(seeded_app, clock) as base, client() as http:
        url = link_in((await demo_driver(seeded_app, "totruong").send("/web")).text)
        async with http.get(url) as r:
            assert r.status == 200 and "Tổ CNSCĐ" in await r.text()
        # The officer removes the team leader from the team, in the chat.
        canbo = demo_driver(seeded_app, "canbo")
        await canbo.send("/to 19786-1")
        await canbo.tap("Xoá thành viên")
        await canbo.tap("Lê Thị Hoa")
        said = await canbo.tap("Đồng ý")
        assert "Lê Thị Hoa" in said.text
        async with http.get(f"{base}/web/u/19786-1") as r:
            assert r.status == 403
        assert [d["reason"] for a, d in await actions(seeded_app) if a == "web.refused"] == ["role"]


async def test_run_serves_the_dashboard_without_webhooks_and_survives_a_taken_port(db_url: str) -> None:
    import socket

    from bot import serve
    from bot.assemble import build
    from tests.support import make_settings

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        app = build(make_settings(db_url, TOCNS_WEB_PORT=str(port)))
        try:
            channels, webapp = serve.build_channels(app)
            assert channels == []
            assert await serve.start_web(app, webapp) is None  # logged, not fatal
        finally:
            await app.close()
    app = build(make_settings(db_url, TOCNS_WEB_PORT=str(port)))
    try:
        channels, webapp = serve.build_channels(app)
        runner = await serve.start_web(app, webapp)
        assert runner is not None
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/web/signin") as r:
                    assert r.status == 200 and "/web" in await r.text()
                async with http.get(f"http://127.0.0.1:{port}/web/u/46", allow_redirects=False) as r:
                    assert r.status == 302
        finally:
            await runner.cleanup()
    finally:
        await app.close()


async def test_targets_table_exports_as_excel_with_text_cells(seeded_app: App) -> None:
    """Every table as Excel — the targets table too: the unit and its children, one column per
    indicator, a target set in chat with /chitieu in its cell."""
    tinh = demo_driver(seeded_app, "tinh")
    said = await tinh.send("/chitieu 19786 online_rate 2026-Q4 72")
    assert "72" in said.text, said.text
    clock = Clock()
    async with server(seeded_app, clock) as base, client() as http:
        url = link_in((await tinh.send("/web")).text)
        async with http.get(url, allow_redirects=False) as r:
            assert r.status == 302
        async with http.get(f"{base}/web/u/46/export/targets.xlsx?period=2026-W48") as r:
            assert r.status == 200
            data = await r.read()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(row for row in values if row and row[1] and "Tỷ lệ hồ sơ trực tuyến" in str(row[2:]))
    column = 2 + [str(v) for v in header[2:]].index(next(v for v in header[2:] if "trực tuyến" in str(v)))
    ward = next(row for row in values if row[1] == "19786")
    assert ward[column] == 72


async def test_month_and_quarter_views_open_with_their_suggestions(seeded_app: App) -> None:
    """The «Quý» and «Tháng» pickers: a finding's suggestion names the week to act in; it read the
    week number off the period's key and failed on «2026-Q4» (HTTP 500)."""
    clock = Clock()
    async with server(seeded_app, clock) as base, client() as http:
        url = link_in((await demo_driver(seeded_app, "lanhdao").send("/web")).text)
        async with http.get(url) as r:
            assert r.status == 200
        today = clock.now.date()
        quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        week = f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"
        for query in (
            f"kind=quarter&period={week}",
            f"period={quarter}",
            f"period={today.year - 1}-Q4",
            f"kind=month&period={week}",
        ):
            async with http.get(f"{base}/web/u/19786?{query}") as r:
                body = await r.text()
                assert r.status == 200, (query, r.status, body[:300])
                assert "Phường Thuận Hóa" in body
        async with http.get(f"{base}/web/u/19786?period={quarter}") as r:
            body = await r.text()
        # A quarter below its targets: the findings come with what to do this week.
        assert "tuần" in body
        for path in ("/web/nope", "/web/u/19786/export/nope.xlsx"):  # was aiohttp's bare «404: Not Found»
            async with http.get(f"{base}{path}") as r:
                assert r.status == 404 and "Không có trang này" in await r.text(), path
        # Years nobody reports on are a polite 400, not a crash (9999 overflowed the date).
        for period in ("9999-W52", "0001-W01", "9999-Q4"):
            async with http.get(f"{base}/web/u/19786?period={period}") as r:
                assert r.status == 400 and "chưa đúng" in await r.text(), (period, r.status)
