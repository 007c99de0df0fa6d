"""What the web dashboard shows beyond /kpi: the unit's ancestors (breadcrumbs), a 12-week or
4-quarter trend, and the work page (help sessions by activity and place, tickets waiting and their
age, dossiers due and overdue — codes and procedures only). Every function checks the scope."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Dossier, HelpSession, Ticket, Unit
from db.repositories import core as core_repo
from db.repositories import kpi as repo
from db.repositories.kpi import UnitRow
from services import kpi
from services.access import Action, Actor
from services.errors import DomainError, InvalidInput
from services.kpi import TZ, KpiSettings, Period, UnitFigures, figures, periods, targets

TREND_WEEKS = 12
TREND_QUARTERS = 4
MAX_DOSSIERS = 50


async def ancestors(session: AsyncSession, actor: Actor, unit: UnitRow) -> list[tuple[UnitRow, bool]]:
    """(ancestor, may the actor open it) from the root down to the unit's parent."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x and int(x) != unit.id]
    found = await kpi.units_by_ids(session, ids)
    return [(found[i], actor.can(Action.VIEW_KPI, found[i].path)) for i in ids if i in found]


def trend_periods(kind: str, last: Period) -> list[Period]:
    n = TREND_QUARTERS if kind == "quarter" else TREND_WEEKS
    out = [kpi.period_of(kind, last.start)]
    while len(out) < n:
        out.append(out[-1].previous())
    return out[::-1]


@dataclass(frozen=True, slots=True)
class Trend:
    unit: UnitRow
    periods: tuple[Period, ...]
    total: tuple[UnitFigures, ...]  # one per period
    children: tuple[tuple[UnitRow, tuple[UnitFigures, ...]], ...]


async def trend(
    session: AsyncSession,
    actor: Actor,
    unit: UnitRow,
    kind: str,
    last: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
) -> Trend:
    """The unit and each child over 12 weeks (or 4 quarters) ending with `last`."""
    actor.require(Action.VIEW_KPI, unit.path)
    periods = trend_periods(kind, last)
    kids = await repo.children(session, unit.id)
    totals: list[UnitFigures] = []
    per_kid: dict[int, list[UnitFigures]] = {k.id: [] for k in kids}
    for p in periods:
        if kids:
            total, rows = await figures.figures_with_total(
                session, unit, kids, 1, p, now, settings, tz, with_previous=False
            )
            for uf in rows:
                per_kid[uf.unit.id].append(uf)
        else:
            total = (
                await kpi.figures_for(session, unit, [unit], 0, p, now, settings, tz, with_previous=False)
            )[0]
        totals.append(total)
    return Trend(unit, tuple(periods), tuple(totals), tuple((k, tuple(per_kid[k.id])) for k in kids))


@dataclass(frozen=True, slots=True)
class DueDossier:
    code: str
    procedure: str
    unit_name: str
    due_at: datetime
    overdue: bool


@dataclass(frozen=True, slots=True)
class Work:
    unit: UnitRow
    period: Period
    sessions_by_activity: dict[str, tuple[int, int]]  # activity -> (sessions, citizens)
    sessions_by_place: dict[str, tuple[int, int]]
    figures: UnitFigures
    tickets_waiting: int
    oldest_ticket_hours: float | None
    tickets_by_age: dict[str, int]  # "<1d", "1-3d", ">3d"
    dossiers: tuple[DueDossier, ...] | None  # None: not an officer of this unit (not shown)
    due_soon: int
    overdue: int


async def work(
    session: AsyncSession,
    actor: Actor,
    unit: UnitRow,
    period: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
) -> Work:
    actor.require(Action.VIEW_KPI, unit.path)
    span = periods.make_span(period, now, settings, tz)
    where = and_(
        repo.subtree(session, unit.path),
        HelpSession.deleted_at.is_(None),
        HelpSession.occurred_at >= span.start,
        HelpSession.occurred_at < span.end,
    )
    by_activity: dict[str, tuple[int, int]] = {}
    by_place: dict[str, tuple[int, int]] = {}
    for column, out in ((HelpSession.activity, by_activity), (HelpSession.place, by_place)):
        stmt = (
            select(column, func.count(HelpSession.id), func.coalesce(func.sum(HelpSession.citizens), 0))
            .join(Unit, Unit.id == HelpSession.unit_id)
            .where(where)
            .group_by(column)
            .order_by(func.count(HelpSession.id).desc())
        )
        for key, n, citizens in (await session.execute(stmt)).all():
            out[str(key)] = (int(n), int(citizens))
    figures = (await kpi.figures_for(session, unit, [unit], 0, period, now, settings, tz))[0]

    tstmt = (
        select(Ticket.created_at)
        .join(Unit, Unit.id == Ticket.unit_id)
        .where(repo.subtree(session, unit.path), Ticket.status == "open")
    )
    ages = [(now - c).total_seconds() / 3600 for c in (await session.execute(tstmt)).scalars()]
    buckets = {"lt1d": 0, "d1to3": 0, "gt3d": 0}
    for h in ages:
        buckets["lt1d" if h < 24 else "d1to3" if h < 72 else "gt3d"] += 1

    dossiers: tuple[DueDossier, ...] | None = None
    due_soon = overdue = 0
    if actor.can(Action.UPDATE_DOSSIER_STATUS, unit.path) or actor.can(Action.ADMINISTER, unit.path):
        until = now + timedelta(days=2)
        dstmt = (
            select(Dossier.code, Dossier.procedure_name, Unit.name, Dossier.due_at)
            .join(Unit, Unit.id == Dossier.unit_id)
            .where(
                repo.subtree(session, unit.path),
                Dossier.finished_at.is_(None),
                Dossier.status.not_in(("withdrawn", "rejected", "returned")),
                Dossier.due_at < until,
            )
            .order_by(Dossier.due_at)
        )
        rows = (await session.execute(dstmt)).all()
        items = [DueDossier(str(c), str(p), str(n), d, d < now) for c, p, n, d in rows if d is not None]
        overdue = sum(1 for i in items if i.overdue)
        due_soon = len(items) - overdue
        dossiers = tuple(items[:MAX_DOSSIERS])
    return Work(
        unit,
        period,
        by_activity,
        by_place,
        figures,
        len(ages),
        max(ages) if ages else None,
        buckets,
        dossiers,
        due_soon,
        overdue,
    )


@dataclass(frozen=True, slots=True)
class TargetsImport:
    rows: int
    errors: tuple[tuple[int, str, dict[str, object]], ...]  # (line, catalog key, parameters)


def _check_row(settings: KpiSettings, indicator: str, period_text: str, raw: str) -> None:
    """What /chitieu checks (services.kpi.targets): a known indicator, a quarter or year, a value."""
    ind = settings.indicator(indicator)
    period = kpi.parse_period(period_text)
    if period.kind not in ("quarter", "year"):
        raise InvalidInput("kpi.errors.target_period", value=period_text)
    value = targets.parse_value(raw, ind)
    if ind.unit == "percent" and value > 100:
        raise InvalidInput("kpi.errors.bad_target", value=raw)


async def import_targets_csv(
    session: AsyncSession, actor: Actor, data: str, settings: KpiSettings
) -> TargetsImport:
    """The CSV `tocns targets import` takes (`unit_code,indicator,period,target`), from a leader:
    every row checked like /chitieu and every unit in the leader's scope, then the same
    all-or-nothing import. Errors name the line and say what to fix."""
    actor.require(Action.SET_TARGETS)
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    if not reader.fieldnames or not set(targets.CSV_COLUMNS) <= {f.strip() for f in reader.fieldnames}:
        columns = ",".join(targets.CSV_COLUMNS)
        return TargetsImport(0, ((1, "web.targets.csv_header", {"columns": columns}),))
    errors: list[tuple[int, str, dict[str, object]]] = []
    n_rows = out_of_scope = 0
    for n, raw in enumerate(reader, start=2):
        r = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        n_rows += 1
        unit = await repo.unit_by_code(session, r["unit_code"])
        # An unknown code and another unit's code read the same: the file cannot probe codes.
        if unit is None or not actor.can(Action.SET_TARGETS, unit.path):
            errors.append((n, "web.targets.out_of_scope", {"code": r["unit_code"][:40]}))
            out_of_scope += 1 if unit is not None else 0  # audited below; not shown
            continue
        try:
            _check_row(settings, r["indicator"], r["period"], r["target"])
        except DomainError as exc:
            errors.append((n, exc.key, dict(exc.params)))
    if not n_rows:
        errors.append((1, "web.targets.csv_empty", {}))
    if errors:
        if out_of_scope:
            await core_repo.audit(session, actor.person_id, "web.refused", "targets.csv", {"reason": "scope"})
        return TargetsImport(0, tuple(errors))
    result = await targets.import_csv(session, data, settings)
    if result.errors:  # not expected after the checks above; never half-written (all or nothing)
        return TargetsImport(0, tuple(result.errors))
    await core_repo.audit(session, actor.person_id, "kpi.targets_import", None, {"rows": result.rows})
    return TargetsImport(result.rows, ())
