"""Shared by the dashboard's pages: the period picked, status colours, figure cells, the page frame."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from bot.web.app import WEB_PREFIX, Page, UnitOutOfReach
from db.repositories.kpi import UnitRow
from handlers.job_env import JobEnv
from handlers.kpi import dates, fmt, fmt_delta, period_label
from services import dashboard, kpi
from services.access import Action
from services.errors import NotFound, PermissionDenied
from services.kpi import Figure, IndicatorDef, KpiSettings, Period, UnitFigures

PERIOD_KINDS = ("week", "month", "quarter", "year")
EXPORT_TABLES = ("overview", "children", "trend", "work", "targets")


def settings(page: Page) -> KpiSettings:
    return kpi.settings_from(page.app.settings.extra)


def this_week(page: Page) -> Period:
    return kpi.period_of("week", kpi.local_day(page.now, page.app.settings.tz))


def chosen_period(page: Page) -> Period:
    """?period=2026-W47 | 2026-11 | 2026-Q4 | 2026 (the week picker sends the ISO week): the parser
    of /kpi, with the installation's week start."""
    q = page.request.query
    raw = q.get("period", "").strip()
    kind = q.get("kind", "")
    # Default: the last finished week — the one the Monday digest speaks about.
    period = kpi.parse_period(raw, settings(page).week_starts) if raw else this_week(page).previous()
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
        "parts": _parts(page, f, ind),
    }


def _parts(page: Page, f: Figure, ind: IndicatorDef) -> str:
    """What a rate is made of ("12/40"); for a score, how many ratings (as the chat says it),
    not the sum of the stars over their count."""
    if ind.denominator is None or f.denominator is None:
        return ""
    if ind.unit == "score":
        return page.t("web.ratings", count=int(f.denominator))
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
        # An officer of several communes: each of them one click away (the home page opens the first).
        "own_units": await kpi.own_units(page.db, page.actor, Action.VIEW_KPI) if unit is not None else [],
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
    """The unit `code` (from the address or a form) when the person may `action` it. An unknown
    code and a code outside the person's scope raise the same UnitOutOfReach (one 404 page): the
    dashboard never confirms that a code it will not show exists."""
    if not code:
        raise UnitOutOfReach(code, "unknown_unit")
    try:
        return await kpi.resolve_unit(page.db, page.actor, code, action)
    except NotFound as exc:
        raise UnitOutOfReach(code, "unknown_unit") from exc
    except PermissionDenied as exc:
        raise UnitOutOfReach(code, "scope") from exc
