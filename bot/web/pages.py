"""The dashboard's reading pages. Each one resolves the unit through services.kpi.resolve_unit (the same
scope check as /kpi) and reads figures through the services the chat uses; routes in routes.py."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from bot.web import charts
from bot.web.app import Page, page_of
from bot.web.common import base_context, cell, chosen_period, job_env, resolve, settings, url
from db.repositories.kpi import UnitRow
from handlers.jobs import reason_text, suggestion
from handlers.kpi import fmt, unit_name
from services import dashboard, digest, kpi
from services.chart import shared_target
from services.kpi import IndicatorDef, KpiSettings, Period, UnitFigures


async def overview_data(page: Page, unit: UnitRow, period: Period) -> dict[str, Any]:
    cfg = settings(page)
    d = await digest.build(page.db, unit, period, page.now, cfg, page.app.settings.tz)
    env = job_env(page)
    own = kpi.evaluate(d.total, cfg)
    findings = [
        {"reason": reason_text(f, env, page.lang), "suggestion": suggestion(f, env, page.lang, period)}
        for f in own
    ]
    ind = cfg.indicator(d.indicator)

    def row(r: digest.DigestRow) -> dict[str, Any]:
        return {
            "rank": r.rank,
            "unit": r.figures.unit,
            "cell": cell(page, r.figures, ind),
            "url": url(f"/u/{r.figures.unit.code}", period=period.key),
            "reasons": [reason_text(f, env, page.lang) for f in r.findings],
        }

    return {
        "digest": d,
        "indicators": [cell(page, d.total, i) for i in cfg.indicators],
        "findings": findings,
        "rank_indicator": ind.name(page.lang),
        "best": [row(r) for r in d.best],
        "weakest": [row(r) for r in d.weakest],
        "lagging": [
            {
                "unit": lag.unit,
                "url": url(f"/u/{lag.unit.code}", period=period.key),
                "reasons": [reason_text(f, env, page.lang) for f in lag.findings],
            }
            for lag in d.lagging
        ],
        "n_children": len(d.rows),
        "has_data": d.has_data,
    }


async def overview(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    ctx = await base_context(page, unit, period, "overview")
    ctx.update(await overview_data(page, unit, period))
    return aiohttp_jinja2.render_template("overview.html", request, ctx)


async def digest_page(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    ctx = await base_context(page, unit, period, "exports")
    ctx.update(await overview_data(page, unit, period))
    return aiohttp_jinja2.render_template("digest.html", request, ctx)


async def children_rows(page: Page, unit: UnitRow, period: Period) -> tuple[UnitFigures, list[UnitFigures]]:
    cfg = settings(page)
    return await kpi.child_table_with_total(
        page.db, page.actor, unit, period, page.now, cfg, page.app.settings.tz
    )


def sort_rows(rows: list[UnitFigures], key: str, descending: bool, cfg: KpiSettings) -> list[UnitFigures]:
    if key == "name" or key not in cfg.ids:
        return sorted(rows, key=lambda u: u.unit.name, reverse=descending)
    with_value = [u for u in rows if u.figures[key].value is not None]
    without = [u for u in rows if u.figures[key].value is None]
    with_value.sort(key=lambda u: u.figures[key].value or 0.0, reverse=descending)
    return with_value + sorted(without, key=lambda u: u.unit.name)


async def children(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    cfg = settings(page)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    total, rows = await children_rows(page, unit, period)
    key = request.query.get("sort", "name")
    descending = request.query.get("dir", "asc") == "desc"
    rows = sort_rows(rows, key, descending, cfg)
    ctx = await base_context(page, unit, period, "children")
    shown = [
        i for i in cfg.indicators if not (i.id == "satisfaction" and total.figures[i.id].source == "none")
    ]
    multiples = []
    shared_line = False
    for ind in shown:
        pct = ind.unit == "percent"
        own_targets = [u.figures[ind.id].target for u in rows]  # each unit's own
        shared_line = shared_line or shared_target(own_targets) is not None
        multiples.append(
            {
                "name": ind.name(page.lang),
                "svg": Markup(
                    charts.bars(
                        [unit_name(u.unit, page.app.catalog, page.lang) for u in rows],
                        [u.figures[ind.id].value for u in rows],
                        targets=own_targets,
                        percent=pct,
                        higher_is_better=ind.higher_is_better,
                        no_data=page.t("kpi.no_data"),
                        label=ind.name(page.lang),
                    )
                ),
            }
        )
    ctx.update(
        {
            "indicators": shown,
            "total": {i.id: cell(page, total, i) for i in shown},
            "rows": [
                {
                    "unit": u.unit,
                    "url": url(f"/u/{u.unit.code}", period=period.key),
                    "cells": {i.id: cell(page, u, i) for i in shown},
                }
                for u in rows
            ],
            "sort": key,
            "dir": "desc" if descending else "asc",
            "multiples": multiples if rows else [],
            # What the bars' colours mean, in words next to each colour (docs/dashboard.md).
            "bar_legend": [
                {"colour": colour, "mark": mark, "text": page.t(key)}
                for colour, mark, key in charts.BAR_LEGEND
            ],
            "shared_line": shared_line,
        }
    )
    return aiohttp_jinja2.render_template("children.html", request, ctx)


MAX_LINES = 8  # the unit and its seven biggest children on one trend chart


async def trend_data(
    page: Page, unit: UnitRow, period: Period, kind: str, ind: IndicatorDef
) -> dict[str, Any]:
    cfg = settings(page)
    tr = await dashboard.trend(page.db, page.actor, unit, kind, period, page.now, cfg, page.app.settings.tz)
    labels = [p.key.split("-", 1)[1] for p in tr.periods]
    own = [uf.figures[ind.id].value for uf in tr.total]
    tgt = [uf.figures[ind.id].target for uf in tr.total]
    kids = list(tr.children)
    # The unit itself, then the children that lag the most in the last period (lines stay legible).
    last_values = {k.id: (figs[-1].figures[ind.id].value if figs else None) for k, figs in kids}
    order = sorted(
        kids,
        key=lambda kf: (
            last_values[kf[0].id] is None,
            (last_values[kf[0].id] or 0) * (1 if ind.higher_is_better else -1),
        ),
    )
    series: list[tuple[str, list[float | None]]] = [(unit.name, own)]
    series += [(k.name, [uf.figures[ind.id].value for uf in figs]) for k, figs in order[: MAX_LINES - 1]]

    def shown(v: float | None) -> str:
        return "—" if v is None else fmt(ind, v, page.app.catalog, page.lang)

    table = [
        {"name": unit.name, "url": None, "values": [shown(v) for v in own]},
        *[
            {
                "name": k.name,
                "url": url(f"/u/{k.code}/trend", indicator=ind.id, kind=kind, period=period.key),
                "values": [shown(uf.figures[ind.id].value) for uf in figs],
            }
            for k, figs in kids
        ],
    ]
    return {
        "trend": tr,
        "labels": labels,
        "period_keys": [p.key for p in tr.periods],
        "svg": Markup(
            charts.lines(
                labels,
                series,
                target=tgt,
                target_label=page.t("web.target_line"),
                percent=ind.unit == "percent",
            )
        ),
        "table": table,
        "targets": [fmt(ind, v, page.app.catalog, page.lang) if v is not None else "" for v in tgt],
        "own": own,
    }


async def trend(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    cfg = settings(page)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    kind = "quarter" if request.query.get("kind") == "quarter" else "week"
    ind = cfg.indicator(request.query.get("indicator") or cfg.chart_indicator)
    ctx = await base_context(page, unit, period, "trend")
    ctx.update(await trend_data(page, unit, period, kind, ind))
    ctx.update({"indicators": cfg.indicators, "indicator": ind, "kind": kind})
    return aiohttp_jinja2.render_template("trend.html", request, ctx)


async def work(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    cfg = settings(page)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    w = await dashboard.work(page.db, page.actor, unit, period, page.now, cfg, page.app.settings.tz)
    ctx = await base_context(page, unit, period, "work")
    ctx.update(
        {
            "w": w,
            "volunteers": cell(page, w.figures, cfg.indicator("active_volunteers")),
            "satisfaction": cell(page, w.figures, cfg.indicator("satisfaction")),
            "sessions": cell(page, w.figures, cfg.indicator("help_sessions")),
            "citizens": cell(page, w.figures, cfg.indicator("citizens_helped")),
            "oldest": None if w.oldest_ticket_hours is None else round(w.oldest_ticket_hours),
            "tz": page.app.settings.tz,
        }
    )
    return aiohttp_jinja2.render_template("work.html", request, ctx)
