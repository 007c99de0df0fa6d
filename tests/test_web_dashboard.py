"""The web dashboard in a real browser (Debian's chromium, driven by Playwright): sign-in links
from the chat, the pages, scope refusals, targets and uploads through the same services as the
chat, and the digest's "Xem trên web" path down to an export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.kernel import App
from db.models import AuditLog
from db.repositories import kpi as kpi_repo
from services import kpi
from tests.support import demo_driver, seed_demo
from tests.web_support import browser, dashboard_server, link_in, require_browser, shot

INDICATOR_NAMES_VI = [i.name_vi for i in kpi.DEFAULT_INDICATORS]


async def audit(app: App, action: str) -> list[AuditLog]:
    async with app.sessions() as s:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await s.execute(stmt)).scalars())


async def sign_in(app: App, ctx: Any, who: str, command: str = "/web") -> Any:
    said = await demo_driver(app, who).send(command)
    page = await ctx.new_page()
    await page.goto(link_in(said.text))
    return page


async def test_sign_in_link_opens_the_overview_with_every_indicator(app: App) -> None:
    exe = require_browser()
    await seed_demo(app)
    async with dashboard_server(app), browser(exe) as ctx:
        said = await demo_driver(app, "lanhdao").send("/web")
        assert "10" in said.text and said.replies[0].buttons[0][0].url
        page = await ctx.new_page()
        await page.goto(link_in(said.text))
        assert "/web/u/19786" in page.url
        assert "Phường Thuận Hóa" in await page.inner_text("#unit-name")
        table = await page.inner_text("#indicators")
        for name in INDICATOR_NAMES_VI:
            assert name in table
        assert await page.locator("#indicators tr.st-good, #indicators tr.st-bad, #indicators tr.st-warn").count()
        await shot(page, "overview-commune")
        cookies = {c["name"]: c for c in await ctx.cookies()}
        assert cookies["tocns_web"]["httpOnly"] and cookies["tocns_web"]["sameSite"] == "Lax"

        # The link is single-use: a second opening is refused and audit-logged.
        other = await ctx.browser.new_context()
        again = await other.new_page()
        resp = await again.goto(link_in(said.text))
        assert resp is not None and resp.status == 403
        await other.close()
        assert [a.details["reason"] for a in await audit(app, "web.sign_in_refused")] == ["used"]
        assert len(await audit(app, "web.sign_in")) == 1

        # Phone-sized screen: the same page, readable.
        phone = await ctx.browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        mobile = await phone.new_page()
        await mobile.goto(link_in((await demo_driver(app, "lanhdao").send("/web")).text))
        await shot(mobile, "overview-phone")
        await phone.close()

        # Sign-out ends the session.
        await page.click("#logout")
        await page.goto(page.url.split("/web/")[0] + "/web/u/19786")
        assert "/web/signin" in page.url
        assert len(await audit(app, "web.sign_out")) == 1


async def test_drill_down_province_commune_team_and_back(app: App) -> None:
    exe = require_browser()
    await seed_demo(app)
    async with dashboard_server(app), browser(exe) as ctx:
        page = await sign_in(app, ctx, "tinh")
        assert "/web/u/46" in page.url
        await page.click("#tab-children")
        await page.wait_for_selector("#children")
        await shot(page, "children-province")
        # Sort by the online rate, descending, then ascending (server-side, links in the header).
        await page.click("#children th a[data-sort=online_rate]")
        await page.wait_for_url("**sort=online_rate**")
        await page.click("a.unit-link:text('Phường Thuận Hóa')")
        await page.wait_for_url("**/web/u/19786**")
        assert "Phường Thuận Hóa" in await page.inner_text("#unit-name")
        await page.click("#tab-children")
        await page.wait_for_selector("#children")
        team_links = page.locator("#children a.unit-link")
        assert await team_links.count() >= 1
        await team_links.first.click()
        await page.wait_for_url("**/web/u/19786-**")
        crumbs = await page.inner_text("nav.crumbs")
        assert "Thành phố Huế" in crumbs and "Phường Thuận Hóa" in crumbs
        await page.go_back()
        await page.go_back()
        await page.wait_for_url("**/web/u/19786**")
        await page.go_back()
        await page.wait_for_url("**/web/u/46/children**")
        assert await page.locator("#children a.unit-link").count() > 1


async def test_commune_leader_is_refused_another_commune(app: App) -> None:
    exe = require_browser()
    await seed_demo(app)
    async with app.sessions() as s:
        other = next(c for c in await kpi.communes(s) if c.code != "19786")
        assert await kpi_repo.unit_by_code(s, other.code)
    async with dashboard_server(app) as base, browser(exe) as ctx:
        page = await sign_in(app, ctx, "lanhdao")
        resp = await page.goto(f"{base}/web/u/{other.code}")
        assert resp is not None and resp.status == 403
        assert "không có quyền" in await page.inner_text("#error")
        await shot(page, "refused-403")
        for sub in ("children", "trend", "work", "export/children.xlsx"):
            r = await page.goto(f"{base}/web/u/{other.code}/{sub}")
            assert r is not None and r.status == 403
        refusals = await audit(app, "web.refused")
        assert len(refusals) == 5 and all(other.code in (a.target or "") for a in refusals)
        # The province is above the commune leader too.
        r = await page.goto(f"{base}/web/u/46")
        assert r is not None and r.status == 403
        # A POST without the CSRF token is refused as well.
        r = await page.request.post(f"{base}/web/u/19786/targets", form={"unit": "19786"})
        assert r.status == 403
        assert (await audit(app, "web.refused"))[-1].details["reason"] == "csrf"


def current_quarter() -> str:
    from db.base import utcnow

    return kpi.period_of("quarter", kpi.local_day(utcnow())).key
