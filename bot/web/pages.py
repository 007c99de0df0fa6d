"""The dashboard's pages. Each one resolves the unit through services.kpi.resolve_unit (the same
scope check as /kpi) and reads figures through the services the chat uses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from bot.web import charts, export
from bot.web.app import APP_KEY, CLOCK_KEY, COOKIE, WEB_PREFIX, Page, page_of, safe_next, set_cookie
from db.repositories.kpi import UnitRow
from handlers.jobs import JobEnv, reason_text, suggestion
from handlers.kpi import dates, fmt, fmt_delta, period_label
from handlers.nhap import MAX_UPLOAD, SHOWN_ERRORS
from services import dashboard, digest, kpi, people, web_auth
from services.access import Action
from services.dossiers import import_ as dossier_import
from services.errors import DomainError, InvalidInput, PermissionDenied
from services.kpi import Figure, IndicatorDef, KpiSettings, Period, UnitFigures, targets

PERIOD_KINDS = ("week", "month", "quarter")
EXPORT_TABLES = ("overview", "children", "trend", "work")


# --- helpers ------------------------------------------------------------------------------------


def settings(page: Page) -> KpiSettings:
    return kpi.settings_from(page.app.settings.extra)


def this_week(page: Page) -> Period:
    return kpi.period_of("week", kpi.local_day(page.now, page.app.settings.tz))


def chosen_period(page: Page) -> Period:
    """?period=2026-W47 | 2026-11 | 2026-Q4 (the week picker sends the ISO week)."""
    q = page.request.query
    raw = q.get("period", "").strip()
    kind = q.get("kind", "")
    # Default: the last finished week — the one the Monday digest speaks about.
    period = kpi.parse_period(raw) if raw else this_week(page).previous()
    if period.kind == "year":
        raise InvalidInput("kpi.errors.bad_period", value=raw)
    if kind in PERIOD_KINDS and kind != period.kind:
        period = kpi.period_of(kind, period.start)
    return period


def status(f: Figure, ind: IndicatorDef, cfg: KpiSettings) -> str:
    """good / warn / bad against the target; nodata / notarget otherwise (colours in CSS)."""
    if f.value is None:
        return "nodata"
    if f.target is None:
        return "notarget"
    if kpi.is_below(f, ind, cfg):
        return "bad"
    ok = f.value >= f.target if ind.higher_is_better else f.value <= f.target
    return "good" if ok else "warn"


def arrow(f: Figure, ind: IndicatorDef) -> str:
    d = f.delta
    if d is None or abs(d) < 0.05:
        return "flat" if d is not None else ""
    better = (d > 0) == ind.higher_is_better
    return ("up" if d > 0 else "down") + (" better" if better else " worse")


def cell(page: Page, uf: UnitFigures, ind: IndicatorDef) -> dict[str, Any]:
    cfg = settings(page)
    f = uf.figures[ind.id]
    cat, lang = page.app.catalog, page.lang
    return {
        "id": ind.id,
        "name": ind.name(lang),
        "value": fmt(ind, f.value, cat, lang),
        "raw": f.value,
        "delta": fmt_delta(ind, f, cat, lang).strip(),
        "arrow": arrow(f, ind),
        "target": fmt(ind, f.target, cat, lang) if f.target is not None else "",
        "status": status(f, ind, cfg),
        "source": page.t(f"kpi.source.{f.source}"),
        "parts": _parts(f, ind),
    }


def _parts(f: Figure, ind: IndicatorDef) -> str:
    if ind.denominator is None or f.denominator is None:
        return ""
    return f"{f.numerator:g}/{f.denominator:g}"


def job_env(page: Page) -> JobEnv:
    return JobEnv(
        page.db,
        page.app.catalog,
        settings(page),
        page.app.settings.tz,
        page.app.settings.app.locale,
        page.now,
    )


def url(path: str, **query: Any) -> str:
    q = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{WEB_PREFIX}{path}" + ("?" + urlencode(q) if q else "")


async def base_context(page: Page, unit: UnitRow | None, period: Period | None, tab: str) -> dict[str, Any]:
    crumbs: list[dict[str, Any]] = []
    if unit is not None:
        for anc, allowed in await dashboard.ancestors(page.db, page.actor, unit):
            crumbs.append(
                {
                    "name": anc.name,
                    "url": url(f"/u/{anc.code}", period=period.key if period else None) if allowed else None,
                }
            )
    ctx: dict[str, Any] = {
        "page": page,
        "t": page.t,
        "lang": page.lang,
        "csrf": page.identity.csrf,
        "unit": unit,
        "period": period,
        "tab": tab,
        "crumbs": crumbs,
        "url": url,
        "person": page.actor.display_name,
        "can_upload": bool(page.actor.grants_for(Action.IMPORT_DOSSIERS)),
        "can_targets": bool(page.actor.grants_for(Action.SET_TARGETS)),
    }
    if period is not None:
        ctx["period_dates"] = dates(period)
        ctx["period_label"] = period_label(period, page.app.catalog, page.lang)
        keep = [(k, v) for k, v in page.request.query.items() if k not in ("period", "kind")]
        ctx["keep_query"] = keep
        path = page.request.path
        ctx["prev_url"] = f"{path}?{urlencode([('period', period.previous().key), *keep])}"
        nxt = kpi.period_of(period.kind, period.end)
        today = kpi.local_day(page.now, page.app.settings.tz)
        ctx["next_url"] = f"{path}?{urlencode([('period', nxt.key), *keep])}" if nxt.start <= today else None
        ctx["week_value"] = kpi.period_of("week", period.start).key
    return ctx


async def resolve(page: Page, code: str, action: Action = Action.VIEW_KPI) -> UnitRow:
    return await kpi.resolve_unit(page.db, page.actor, code, action)


# --- sign-in / sign-out / language ---------------------------------------------------------------


async def login(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    now = request.app[CLOCK_KEY]()
    token = request.query.get("t", "")
    async with app.sessions() as db:
        signed = await web_auth.redeem(db, token, now, client=request.headers.get("User-Agent", ""))
        await db.commit()
    lang = app.settings.app.locale
    if signed is None:
        from bot.web.app import error_page

        return error_page(request, 403, "web.link_invalid", lang)
    response = web.HTTPFound(safe_next(request.query.get("next")))
    set_cookie(response, request, signed.token, max_age=app.settings.web.session_idle_minutes * 60 * 24)
    response.headers["Referrer-Policy"] = "no-referrer"
    raise response


async def signin_help(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    lang = app.settings.app.locale
    t = lambda key, **p: app.catalog.text(lang, key, **p)  # noqa: E731
    return aiohttp_jinja2.render_template("signin.html", request, {"t": t, "lang": lang, "page": None})


async def logout(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    await web_auth.sign_out(page.db, page.identity, page.now)
    response = web.HTTPFound(f"{WEB_PREFIX}/signin?bye=1")
    response.del_cookie(COOKIE, path=WEB_PREFIX)
    raise response


async def language(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    form = await request.post()
    lang = str(form.get("lang", "vi"))
    await people.set_locale(page.db, page.actor.person_id, lang)
    raise web.HTTPFound(safe_next(str(form.get("next", ""))))


async def home(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await kpi.resolve_unit(page.db, page.actor, None, Action.VIEW_KPI)
    raise web.HTTPFound(url(f"/u/{unit.code}"))


# --- overview -------------------------------------------------------------------------------------


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


# --- children -----------------------------------------------------------------------------------


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
    for ind in shown:
        pct = ind.unit == "percent"
        multiples.append(
            {
                "name": ind.name(page.lang),
                "svg": Markup(
                    charts.bars(
                        [u.unit.name for u in rows],
                        [u.figures[ind.id].value for u in rows],
                        target=total.figures[ind.id].target if pct else None,
                        percent=pct,
                        no_data=page.t("kpi.no_data"),
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
        }
    )
    return aiohttp_jinja2.render_template("children.html", request, ctx)


# --- trend --------------------------------------------------------------------------------------

MAX_LINES = 8


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


# --- work ---------------------------------------------------------------------------------------


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


# --- targets ------------------------------------------------------------------------------------


async def targets_context(page: Page, unit: UnitRow, quarter: Period) -> dict[str, Any]:
    cfg = settings(page)
    units = [unit, *await kpi_children(page, unit)]
    current = await targets.effective(page.db, units, quarter, cfg)
    ctx = await base_context(page, unit, quarter, "targets")
    ctx.update(
        {
            "indicators": cfg.indicators,
            "units": units,
            "quarter": quarter.key,
            "year": str(quarter.start.year),
            "current": {
                (u.id, i.id): fmt(i, current[(u.id, i.id)], page.app.catalog, page.lang)
                for u in units
                for i in cfg.indicators
                if (u.id, i.id) in current
            },
            "may_set": page.actor.can(Action.SET_TARGETS, unit.path),
            "message": None,
            "errors": [],
            "form": {},
        }
    )
    return ctx


async def kpi_children(page: Page, unit: UnitRow) -> list[UnitRow]:
    table = await kpi.child_table(
        page.db, page.actor, unit, this_week(page), page.now, settings(page), page.app.settings.tz
    )
    return [uf.unit for uf in table]


async def targets_page(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await resolve(page, request.match_info["code"])
    quarter = kpi.period_of("quarter", this_week(page).start)
    ctx = await targets_context(page, unit, quarter)
    if request.method == "POST":
        form = await request.post()
        cfg = settings(page)
        if "file" in form:
            upload = form["file"]
            raw = getattr(upload, "file", None)
            data = raw.read() if raw is not None else b""
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = ""
            result = await dashboard.import_targets_csv(page.db, page.actor, text, cfg)
            if result.errors:
                ctx["errors"] = [
                    page.t("web.targets.csv_line", line=line, reason=page.t(key, **params))
                    for line, key, params in result.errors[:SHOWN_ERRORS]
                ]
            else:
                ctx["message"] = page.t("web.targets.imported", rows=result.rows)
        else:
            fields = {k: str(form.get(k, "")).strip() for k in ("unit", "indicator", "period", "value")}
            ctx["form"] = fields
            try:
                value = targets.parse_value(fields["value"])
                target_unit, key = await targets.set_target(
                    page.db, page.actor, cfg, fields["unit"], fields["indicator"], fields["period"], value
                )
                ind = cfg.indicator(fields["indicator"])
                ctx["message"] = page.t(
                    "kpi.target_set",
                    indicator=ind.name(page.lang),
                    unit=target_unit.name,
                    period=key,
                    value=fmt(ind, value, page.app.catalog, page.lang),
                )
            except InvalidInput as exc:
                ctx["errors"] = [page.t(exc.key, **exc.params)]
        if ctx["message"]:
            fresh = await targets_context(page, unit, quarter)
            fresh["message"] = ctx["message"]
            ctx = fresh
    return aiohttp_jinja2.render_template("targets.html", request, ctx)


# --- uploads ------------------------------------------------------------------------------------


def upload_units(page: Page) -> list[tuple[str, str]]:
    return [
        (g.unit_code, g.unit_name or g.unit_code)
        for g in page.actor.grants_for(Action.IMPORT_DOSSIERS)
        if g.unit_code
    ]


async def upload(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    page.actor.require(Action.IMPORT_DOSSIERS)
    ctx = await base_context(page, None, None, "upload")
    units = upload_units(page)
    ctx.update(
        {
            "units": units,
            "profiles": dossier_import.profile_names(),
            "summary": None,
            "errors": [],
            "error": None,
            "max_mb": MAX_UPLOAD // (1024 * 1024),
        }
    )
    if request.method == "POST":
        form = await request.post()
        field = form.get("file")
        code = str(form.get("unit", "")) or (units[0][0] if units else "")
        profile = str(form.get("profile", "generic")) or "generic"
        if field is None or not hasattr(field, "file"):
            ctx["error"] = page.t("web.upload.no_file")
        else:
            data = field.file.read()
            name = str(getattr(field, "filename", "") or "upload")
            if len(data) > MAX_UPLOAD:
                ctx["error"] = page.t("nhap.errors.too_large", mb=MAX_UPLOAD // (1024 * 1024))
            else:
                try:
                    summary = await dossier_import.import_file(
                        page.db, page.actor, data, name, code, page.now, page.app.settings.tz, profile=profile
                    )
                except DomainError as exc:
                    if isinstance(exc, PermissionDenied):
                        raise
                    await page.db.rollback()
                    ctx["error"] = page.t(exc.key, **exc.params) + " " + page.t("nhap.nothing_imported")
                else:
                    ctx["summary"] = page.t(
                        "nhap.summary",
                        name=name[-60:],
                        rows=summary.rows,
                        new=summary.new,
                        updated=summary.updated,
                        unchanged=summary.unchanged,
                        rejected=summary.rejected,
                    )
                    ctx["errors"] = [
                        page.t("nhap.row_error", row=row, reason=page.t(key, **params))
                        for row, key, params in summary.errors[:SHOWN_ERRORS]
                    ]
                    if summary.rejected > SHOWN_ERRORS:
                        ctx["errors"].append(page.t("nhap.more_errors", n=summary.rejected - SHOWN_ERRORS))
    if request.headers.get("X-Requested-With") == "fetch":
        return aiohttp_jinja2.render_template("upload_result.html", request, ctx)
    return aiohttp_jinja2.render_template("upload.html", request, ctx)


# --- exports ------------------------------------------------------------------------------------


async def exports(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await resolve(page, request.match_info["code"])
    period = chosen_period(page)
    ctx = await base_context(page, unit, period, "exports")
    ctx["tables"] = EXPORT_TABLES
    return aiohttp_jinja2.render_template("exports.html", request, ctx)


def _num(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


async def export_table(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    cfg = settings(page)
    unit = await resolve(page, request.match_info["code"])
    table = request.match_info["table"]
    if table not in EXPORT_TABLES:
        raise web.HTTPNotFound()
    period = chosen_period(page)
    lang = page.lang
    title = page.t("web.export.title", table=page.t(f"web.tabs.{table}"), unit=unit.name, period=period.key)
    header: list[str]
    rows: list[list[export.CellValue]] = []
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
        for uf in [total] + (kids if table == "children" else []):
            line: list[export.CellValue] = [uf.unit.name, uf.unit.code]
            for ind in cfg.indicators:
                f = uf.figures[ind.id]
                line += [_num(f.value), _num(f.target), _num(f.previous), page.t(f"kpi.source.{f.source}")]
            rows.append(line)
    elif table == "trend":
        kind = "quarter" if request.query.get("kind") == "quarter" else "week"
        ind = cfg.indicator(request.query.get("indicator") or cfg.chart_indicator)
        tr = await dashboard.trend(
            page.db, page.actor, unit, kind, period, page.now, cfg, page.app.settings.tz
        )
        header = [page.t("kpi.excel.unit"), page.t("kpi.excel.code"), *[p.key for p in tr.periods]]
        rows.append(
            [
                page.t("web.target_line") + f" — {ind.name(lang)}",
                "",
                *[_num(u.figures[ind.id].target) for u in tr.total],
            ]
        )
        rows.append([unit.name, unit.code, *[_num(u.figures[ind.id].value) for u in tr.total]])
        for k, figs in tr.children:
            rows.append([k.name, k.code, *[_num(u.figures[ind.id].value) for u in figs]])
        title = f"{title} — {ind.name(lang)}"
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
    data = export.xlsx(title, header, rows)
    name = f"{table}-{unit.code}-{period.key}.xlsx"
    return web.Response(
        body=data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- routes -------------------------------------------------------------------------------------


def add_routes(sub: web.Application) -> None:
    r = sub.router
    r.add_get("/login", login)
    r.add_get("/signin", signin_help)
    r.add_post("/logout", logout)
    r.add_post("/lang", language)
    r.add_get("/", home)
    r.add_get("/upload", upload)
    r.add_post("/upload", upload)
    r.add_get("/u/{code}", overview)
    r.add_get("/u/{code}/children", children)
    r.add_get("/u/{code}/trend", trend)
    r.add_get("/u/{code}/work", work)
    r.add_get("/u/{code}/targets", targets_page)
    r.add_post("/u/{code}/targets", targets_page)
    r.add_get("/u/{code}/exports", exports)
    r.add_get("/u/{code}/digest", digest_page)
    r.add_get("/u/{code}/export/{table}.xlsx", export_table)
