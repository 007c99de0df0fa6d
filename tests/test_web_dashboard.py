"""The web dashboard in a real browser (Debian's chromium, driven by Playwright): sign-in links
from the chat, the pages, scope refusals, targets and uploads through the same services as the
chat, and the digest's "Xem trên web" path down to an export."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from typing import Any

import aiohttp
from openpyxl import load_workbook
from sqlalchemy import select

from bot.kernel import App
from db.base import utcnow
from db.models import AuditLog
from db.repositories import kpi as kpi_repo
from services import kpi
from services.kpi.settings import DEFAULT_INDICATORS
from tests.support import demo_driver
from tests.web_support import browser, dashboard_server, link_in, require_browser, shot

INDICATOR_NAMES_VI = [i.name_vi for i in DEFAULT_INDICATORS]


async def read(path: Any) -> bytes:
    return await asyncio.to_thread(Path(path).read_bytes)


async def audit(app: App, action: str) -> list[AuditLog]:
    async with app.sessions() as s:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await s.execute(stmt)).scalars())


async def sign_in(app: App, ctx: Any, who: str, command: str = "/web") -> Any:
    said = await demo_driver(app, who).send(command)
    page = await ctx.new_page()
    await page.goto(link_in(said.text))
    return page


async def test_sign_in_link_opens_the_overview_with_every_indicator(seeded_app: App) -> None:
    exe = require_browser()
    async with dashboard_server(seeded_app), browser(exe) as ctx:
        said = await demo_driver(seeded_app, "lanhdao").send("/web")
        assert "10" in said.text and said.replies[0].buttons[0][0].url
        page = await ctx.new_page()
        await page.goto(link_in(said.text))
        assert "/web/u/19786" in page.url
        assert "Phường Thuận Hóa" in await page.inner_text("#unit-name")
        table = await page.inner_text("#indicators")
        for name in INDICATOR_NAMES_VI:
            assert name in table
        assert await page.locator(
            "#indicators tr.st-good, #indicators tr.st-bad, #indicators tr.st-warn"
        ).count()
        await shot(page, "overview-commune")
        cookies = {c["name"]: c for c in await ctx.cookies()}
        assert cookies["tocns_web"]["httpOnly"] and cookies["tocns_web"]["sameSite"] == "Lax"

        # The link is single-use: a second opening is refused and audit-logged.
        other = await ctx.browser.new_context()
        again = await other.new_page()
        resp = await again.goto(link_in(said.text))
        assert resp is not None and resp.status == 403
        await other.close()
        assert [a.details["reason"] for a in await audit(seeded_app, "web.sign_in_refused")] == ["used"]
        assert len(await audit(seeded_app, "web.sign_in")) == 1

        # Phone-sized screen: the same page, readable.
        phone = await ctx.browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        mobile = await phone.new_page()
        await mobile.goto(link_in((await demo_driver(seeded_app, "lanhdao").send("/web")).text))
        await shot(mobile, "overview-phone")
        await phone.close()

        # Sign-out ends the session.
        await page.click("#logout")
        await page.goto(page.url.split("/web/")[0] + "/web/u/19786")
        assert "/web/signin" in page.url
        assert len(await audit(seeded_app, "web.sign_out")) == 1


async def test_the_rating_reads_as_in_the_chat_not_as_a_sum_over_a_count(seeded_app: App) -> None:
    """Over HTTP (no browser): «4/5 (2 lượt đánh giá)», as /kpi says it — not «4/5 (8/2)»."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with dashboard_server(seeded_app) as base, aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(link_in((await demo_driver(seeded_app, "lanhdao").send("/web")).text)) as r:
            assert r.status == 200
        quarter = kpi.period_of("quarter", kpi.local_day(utcnow())).key  # what /kpi shows too
        async with http.get(f"{base}/web/u/19786?period={quarter}") as r:
            html = await r.text()
    row = re.search(r'data-indicator="satisfaction".*?</tr>', html, re.S)
    assert row is not None
    shown = re.search(r"(\d+(?:,\d+)?/5) <small[^>]*>\((\d+) lượt đánh giá\)</small>", row.group(0))
    assert shown is not None, row.group(0)
    said = await demo_driver(seeded_app, "lanhdao").send("/kpi")  # the quarter's line, in the chat
    assert f"{shown.group(1)} ({shown.group(2)} lượt đánh giá)" in said.text


async def test_drill_down_province_commune_team_and_back(seeded_app: App) -> None:
    exe = require_browser()
    async with dashboard_server(seeded_app), browser(exe) as ctx:
        page = await sign_in(seeded_app, ctx, "tinh")
        assert "/web/u/46" in page.url
        await page.click("#tab-children")
        await page.wait_for_selector("#children")
        # The bars' colours are explained in words, each colour with its sign on the bars.
        legend = await page.inner_text("#bar-legend")
        assert "chỉ tiêu của chính mình" in legend
        assert "✓ xanh lá — đạt chỉ tiêu" in legend and "✗ đỏ — chưa đạt chỉ tiêu" in legend
        assert "chưa có chỉ tiêu" in legend
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
        # English, for the person (the same choice as /ngonngu in the chat).
        await page.click("header form button[name=lang]")
        await page.wait_for_selector("#children")
        assert "Online dossier rate" in await page.inner_text("#children thead")
        said = await demo_driver(seeded_app, "tinh").send("/kpi")
        assert "Online dossier rate" in said.text


async def test_commune_leader_is_refused_another_commune(seeded_app: App) -> None:
    exe = require_browser()
    async with seeded_app.sessions() as s:
        other = next(c for c in await kpi.communes(s) if c.code != "19786")
        assert await kpi_repo.unit_by_code(s, other.code)
    async with dashboard_server(seeded_app) as base, browser(exe) as ctx:
        page = await sign_in(seeded_app, ctx, "lanhdao")
        resp = await page.goto(f"{base}/web/u/{other.code}")
        # Not «403 forbidden» (that would confirm the code exists): the page a made-up code gets.
        assert resp is not None and resp.status == 404
        assert "Không tìm thấy đơn vị trong phạm vi" in await page.inner_text("#error")
        await shot(page, "refused-404")
        for sub in ("children", "trend", "work", "export/children.xlsx"):
            r = await page.goto(f"{base}/web/u/{other.code}/{sub}")
            assert r is not None and r.status == 404
        refusals = await audit(seeded_app, "web.refused")
        assert len(refusals) == 5 and all(other.code in (a.target or "") for a in refusals)
        assert {a.details["reason"] for a in refusals} == {"scope"}
        # The province is above the commune leader too.
        r = await page.goto(f"{base}/web/u/46")
        assert r is not None and r.status == 404
        # A POST without the CSRF token is refused as well.
        r = await page.request.post(f"{base}/web/u/19786/targets", form={"unit": "19786"})
        assert r.status == 403
        assert (await audit(seeded_app, "web.refused"))[-1].details["reason"] == "csrf"


def current_quarter() -> str:
    from db.base import utcnow

    return kpi.period_of("quarter", kpi.local_day(utcnow())).key


async def test_target_set_in_the_form_appears_in_kpi_in_chat(seeded_app: App) -> None:
    exe = require_browser()
    quarter = current_quarter()
    async with dashboard_server(seeded_app) as base, browser(exe) as ctx:
        page = await sign_in(seeded_app, ctx, "tinh")
        await page.goto(f"{base}/web/u/46/targets")
        # Same validation as /chitieu: a rate over 100 % is refused with the chat's sentence.
        await page.select_option("#target-form select[name=unit]", "19786")
        await page.select_option("#target-form select[name=indicator]", "online_rate")
        await page.fill("#target-form input[name=period]", quarter)
        await page.fill("#target-form input[name=value]", "150")
        await page.click("#target-form button")
        assert "150" in await page.inner_text("#form-errors")
        await page.fill("#target-form input[name=value]", "77")
        await page.click("#target-form button")
        assert "77%" in await page.inner_text("#message")
        await shot(page, "targets")
    said = await demo_driver(seeded_app, "tinh").send("/kpi 19786")
    assert "chỉ tiêu 77%" in said.text


async def test_targets_csv_is_checked_against_the_leaders_scope(seeded_app: App) -> None:
    exe = require_browser()
    quarter = current_quarter()
    async with seeded_app.sessions() as s:
        other = next(c for c in await kpi.communes(s) if c.code != "19786")
    async with dashboard_server(seeded_app) as base, browser(exe) as ctx:
        page = await sign_in(seeded_app, ctx, "lanhdao")
        await page.goto(f"{base}/web/u/19786/targets")
        head = "unit_code,indicator,period,target\n"
        bad = f"{head}19786,on_time_rate,{quarter},91\n{other.code},online_rate,{quarter},50\n"
        await page.set_input_files(
            "#target-csv input[type=file]",
            files=[{"name": "t.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
        )
        await page.click("#target-csv button")
        errors = await page.inner_text("#form-errors")
        # The code as the file wrote it, never the name of a unit outside the scope.
        assert f"Dòng 3: Không tìm thấy đơn vị «{other.code}» trong phạm vi của anh/chị." in errors
        assert other.name not in errors
        bad = f"{head}19786,on_time_rate,{quarter},191\n19786,online_rate,2026-W40,50\n"
        await page.set_input_files(
            "#target-csv input[type=file]",
            files=[{"name": "t.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
        )
        await page.click("#target-csv button")
        errors = await page.inner_text("#form-errors")
        assert "Dòng 2: Giá trị chỉ tiêu «191» chưa hợp lệ" in errors
        assert "Dòng 3: Chỉ tiêu đặt theo quý" in errors
        good = f"unit_code,indicator,period,target\n19786,on_time_rate,{quarter},91\n"
        await page.set_input_files(
            "#target-csv input[type=file]",
            files=[{"name": "t.csv", "mimeType": "text/csv", "buffer": good.encode()}],
        )
        await page.click("#target-csv button")
        assert "1" in await page.inner_text("#message")
    said = await demo_driver(seeded_app, "lanhdao").send("/kpi")
    assert "chỉ tiêu 91%" in said.text


async def test_officer_uploads_the_one_stop_export_and_sees_the_row_report(seeded_app: App) -> None:
    from sqlalchemy import func

    from db.models import Dossier
    from tests.test_import import make_xlsx, sample_rows

    exe = require_browser()
    async with seeded_app.sessions() as s:
        before = int((await s.execute(select(func.count()).select_from(Dossier))).scalar_one())
    async with dashboard_server(seeded_app), browser(exe) as ctx:
        page = await sign_in(seeded_app, ctx, "canbo")
        await page.click("nav.tabs a[href='/web/upload']")
        await page.wait_for_selector("#upload-form")
        await page.set_input_files(
            "#upload-form input[type=file]",
            files=[
                {
                    "name": "hoso.xlsx",
                    "mimeType": "application/octet-stream",
                    "buffer": make_xlsx(sample_rows()),
                }
            ],
        )
        await page.click("#upload-form button")
        summary = await (await page.wait_for_selector("#upload-summary")).inner_text()
        assert "hoso.xlsx" in summary and "8 dòng" in summary
        assert "{" not in summary and "19786" in summary  # the commune named, as in the chat
        assert await page.get_attribute("#upload-progress", "value") == "100"
        errors = await page.inner_text("ul.row-errors")
        assert "Dòng" in errors
        await shot(page, "upload")
        # A wrong file: a clear sentence, nothing imported.
        await page.set_input_files(
            "#upload-form input[type=file]",
            files=[{"name": "hong.xlsx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04 no"}],
        )
        await page.click("#upload-form button")
        assert "Chưa nhập dòng nào" in await (await page.wait_for_selector("#upload-error")).inner_text()
        # The officer's work page lists the overdue dossiers: codes and procedures only.
        await page.click("nav.tabs >> text=Tổng quan")
        await page.click("nav.tabs >> text=Hoạt động")
        dossiers = await (await page.wait_for_selector("#dossiers")).inner_text()
        assert "H46.19786-261101-0001" in dossiers and "Đăng ký khai sinh" in dossiers
        await shot(page, "work-officer")
        leader = await sign_in(seeded_app, ctx, "lanhdao")
        await leader.click("nav.tabs >> text=Hoạt động")
        await leader.wait_for_selector("#tickets")
        assert await leader.locator("#dossiers").count() == 0
    async with seeded_app.sessions() as s:
        after = int((await s.execute(select(func.count()).select_from(Dossier))).scalar_one())
    assert after > before
    # The dossiers are there for the chat too.
    said = await demo_driver(seeded_app, "canbo").send("/tracuu H46.19786-261101-0001")
    assert "Đăng ký khai sinh" in said.text


async def test_from_the_digest_to_the_weakest_commune_its_trend_and_an_export(seeded_app: App) -> None:
    from bot import scheduler
    from db.base import utcnow
    from handlers.core import Reply
    from tests.support import outbox_rows

    exe = require_browser()
    now = utcnow()
    result = await scheduler.run_job(seeded_app, "weekly_digest", now)
    week = result.period
    assert week is not None
    payload = None
    for row in await outbox_rows(seeded_app):
        if row.kind != "weekly_digest":
            continue
        for line in Reply.from_payload(row.payload).buttons:
            for b in line:
                if b.payload == f"web:46:{week}":
                    payload = b.payload
    assert payload, "the province digest has a 'Xem trên web' button"
    async with dashboard_server(seeded_app), browser(exe) as ctx:
        said = await demo_driver(seeded_app, "tinh").press(payload)
        page = await ctx.new_page()
        await page.goto(link_in(said.text))
        assert f"/web/u/46?period={week}" in page.url
        number, year = int(week[-2:]), week[:4]
        assert f"tuần {number}/{year}" in await page.inner_text("#period-key")  # as people say it
        await shot(page, "overview-province")
        weakest = page.locator("#weakest a.unit-link").first
        name = await weakest.inner_text()
        await weakest.click()
        await page.wait_for_selector("#unit-name")
        assert name in await page.inner_text("#unit-name")
        await page.click("#tab-trend")
        await page.wait_for_selector("#trend-chart svg")
        header_cells = await page.locator("#trend-table thead th").count()
        assert header_cells == 1 + 12
        await shot(page, "trend-commune")
        async with page.expect_download() as info:
            await page.click("#export-trend")
        download = await info.value
        wb = load_workbook(io.BytesIO(await read(await download.path())))
        ws = wb.active
        assert ws is not None
        assert ws.cell(row=2, column=3 + 11).value == week
        assert ws.cell(row=4, column=1).value == name

        # Work, exports and the print-friendly digest of the same commune.
        await page.click("nav.tabs >> text=Hoạt động")
        await page.wait_for_selector("h1")
        await shot(page, "work-commune")
        await page.click("nav.tabs >> text=Xuất dữ liệu")
        await shot(page, "exports")
        async with page.expect_download() as info:
            await page.click("#export-children")
        wb = load_workbook(io.BytesIO(await read(await (await info.value).path())))
        ws = wb.active
        assert ws is not None
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        await page.click("#print-digest")
        await page.wait_for_selector("h1")
        await shot(page, "digest-print")


async def test_the_year_the_period_example_offers_opens_on_every_tab(seeded_app: App) -> None:
    """«Ví dụ: … 2026 (năm)»: ?period=<year> is read as /kpi <year> reads it, not refused with 400."""
    year = str(kpi.local_day(utcnow()).year)
    jar = aiohttp.CookieJar(unsafe=True)
    async with dashboard_server(seeded_app) as base, aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(link_in((await demo_driver(seeded_app, "lanhdao").send("/web")).text)) as r:
            assert r.status == 200
        for tab in ("", "/children", "/trend", "/work"):
            async with http.get(f"{base}/web/u/19786{tab}?period={year}") as r:
                html = await r.text()
                assert r.status == 200, (tab, html[:500])
        async with http.get(f"{base}/web/u/19786?period=2026-W60") as r:
            assert r.status == 400  # a period shaped like one but none is still refused
    assert f"năm {year}" in html.lower() or year in html
