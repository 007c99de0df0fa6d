"""Every table as Excel (text cells only, never a formula from user data)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.web import export
from bot.web.app import page_of
from bot.web.common import EXPORT_TABLES, base_context, chosen_period, resolve, settings
from bot.web.forms import kpi_children
from bot.web.pages import children_rows
from handlers.kpi import period_label, unit_name
from services import dashboard, kpi
from services.digest import excel_format, excel_value
from services.kpi import targets


async def exports(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    ctx = await base_context(page, unit, period, "exports")
    ctx["tables"] = EXPORT_TABLES
    return aiohttp_jinja2.render_template("exports.html", request, ctx)


async def export_table(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    cfg = settings(page)
    unit = await resolve(page, request.match_info["code"])
    table = request.match_info["table"]
    if table not in EXPORT_TABLES:
        raise web.HTTPNotFound()
    period = chosen_period(page)
    lang = page.lang
    label = period_label(period, page.app.catalog, lang)
    title = page.t("web.export.title", table=page.t(f"web.tabs.{table}"), unit=unit.name, period=label)
    header: list[str]
    rows: list[list[export.CellValue]] = []
    formats: list[str | None] = []
    if table in ("overview", "children"):
        total, kids = await children_rows(page, unit, period)
        header = [page.t("kpi.excel.unit"), page.t("kpi.excel.code")]
        for ind in cfg.indicators:
            header += [
                ind.name(lang),
                page.t("kpi.excel.target"),
                page.t("web.previous"),
                page.t("kpi.excel.source"),
            ]
        formats = [None, None]
        for ind in cfg.indicators:
            formats += [excel_format(ind)] * 3 + [None]
        for uf in [total] + (kids if table == "children" else []):
            line: list[export.CellValue] = [unit_name(uf.unit, page.app.catalog, lang), uf.unit.code]
            for ind in cfg.indicators:
                f = uf.figures[ind.id]
                line += [
                    excel_value(ind, f.value),
                    excel_value(ind, f.target),
                    excel_value(ind, f.previous),
                    page.t(f"kpi.source.{f.source}"),
                ]
            rows.append(line)
    elif table == "trend":
        kind = "quarter" if request.query.get("kind") == "quarter" else "week"
        ind = cfg.indicator(request.query.get("indicator") or cfg.chart_indicator)
        tr = await dashboard.trend(
            page.db, page.actor, unit, kind, period, page.now, cfg, page.app.settings.tz
        )
        header = [page.t("kpi.excel.unit"), page.t("kpi.excel.code"), *[p.key for p in tr.periods]]
        formats = [None, None, *[excel_format(ind)] * len(tr.periods)]
        rows.append(
            [
                page.t("web.target_line") + f" — {ind.name(lang)}",
                "",
                *[excel_value(ind, u.figures[ind.id].target) for u in tr.total],
            ]
        )
        rows.append([unit.name, unit.code, *[excel_value(ind, u.figures[ind.id].value) for u in tr.total]])
        for k, figs in tr.children:
            rows.append([k.name, k.code, *[excel_value(ind, u.figures[ind.id].value) for u in figs]])
        title = f"{title} — {ind.name(lang)}"
    elif table == "targets":
        quarter = kpi.period_of("quarter", period.start)
        units = [unit, *await kpi_children(page, unit)]
        current = await targets.effective(page.db, units, quarter, cfg)
        header = [page.t("kpi.excel.unit"), page.t("kpi.excel.code"), *[i.name(lang) for i in cfg.indicators]]
        rows = [
            [u.name, u.code, *[excel_value(i, current.get((u.id, i.id))) for i in cfg.indicators]]
            for u in units
        ]
        formats = [None, None, *[excel_format(i) for i in cfg.indicators]]
        title = page.t(
            "web.export.title",
            table=page.t("web.tabs.targets"),
            unit=unit.name,
            period=period_label(quarter, page.app.catalog, lang),
        )
    else:
        w = await dashboard.work(page.db, page.actor, unit, period, page.now, cfg, page.app.settings.tz)
        header = [
            page.t("web.work.what"),
            page.t("web.work.key"),
            page.t("web.work.sessions"),
            page.t("web.work.citizens"),
        ]
        for key, (n, c) in w.sessions_by_activity.items():
            rows.append(
                [
                    page.t("web.work.activity"),
                    page.t(f"web.activity.{key}") if page.app.catalog.has(f"web.activity.{key}") else key,
                    n,
                    c,
                ]
            )
        for key, (n, c) in w.sessions_by_place.items():
            rows.append(
                [
                    page.t("web.work.place"),
                    page.t(f"web.place.{key}") if page.app.catalog.has(f"web.place.{key}") else key,
                    n,
                    c,
                ]
            )
        rows.append([page.t("web.work.tickets_waiting"), "", w.tickets_waiting, None])
        if w.dossiers is not None:
            tz = page.app.settings.tz
            for d in w.dossiers:
                rows.append(
                    [page.t("web.work.overdue" if d.overdue else "web.work.due_soon"), d.code, None, None]
                )
                rows[-1][3] = f"{d.procedure} — {d.unit_name} — {d.due_at.astimezone(tz):%d/%m/%Y %H:%M}"
    data = export.xlsx(title, header, rows, formats=formats)
    name = f"{table}-{unit.code}-{period.key}.xlsx"
    return web.Response(
        body=data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
