"""KPI queries: every indicator's measures aggregated IN SQL over a unit subtree
(`units.path LIKE 'prefix%'`), grouped by the ancestor N levels below the subtree's root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    column,
    distinct,
    func,
    inspect,
    literal,
    or_,
    select,
    table,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    ChannelAccount,
    Dossier,
    HelpSession,
    JobRun,
    KpiTarget,
    Membership,
    Person,
    Unit,
    WeeklyReport,
)
from db.repositories.core import _insert

ONLINE_MODES = ("full_online", "partial_online")
Measures = dict[str, float]
ALL = "/"  # base path meaning "every unit of the installation" (one pass over all roots)
TOTAL = "*"  # key of the whole-subtree row when grouped rows are asked `with_total`


@dataclass(frozen=True, slots=True)
class Span:
    """A period in UTC: [start, end); `cap` = min(end, now) for "overdue at the end" counts."""

    start: datetime
    end: datetime
    cap: datetime
    first_week: date  # Monday of the first week whose weekly report belongs to the period
    end_week: date  # exclusive
    # (week_start, deadline) for every week whose report deadline has passed by `now`.
    due_weeks: tuple[tuple[date, datetime], ...]


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    path: str
    parent_id: int | None


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def subtree(session: AsyncSession, path: str) -> ColumnElement[bool]:
    """Units in the subtree rooted at `path` (ALL = every unit); on SQLite add a binary range so the
    index is used. The prefix is rendered inline: PostgreSQL plans `LIKE $1` without knowing the
    prefix once it switches a prepared statement to a generic plan, and then reads every unit."""
    if path == ALL:
        return true()
    cond: ColumnElement[bool] = Unit.path.like(bindparam(None, path + "%", literal_execute=True))
    if _dialect(session) == "sqlite":
        cond = and_(
            cond,
            Unit.path >= bindparam(None, path, literal_execute=True),
            Unit.path < bindparam(None, path[:-1] + "0", literal_execute=True),
        )
    return cond


@asynccontextmanager
async def analytics(session: AsyncSession) -> AsyncIterator[None]:
    """Around the KPI aggregates: PostgreSQL's JIT off for the while (restored after). The per-unit
    plans are costed high enough to trigger JIT compilation, which takes longer than the queries."""
    if _dialect(session) != "postgresql":
        yield
        return
    get_and_set = text("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    old = (await session.execute(get_and_set)).one()[0]
    yield
    # Not in a `finally`: after a database error the transaction is aborted (and SET LOCAL with it).
    await session.execute(text("SELECT set_config('jit', :old, true)"), {"old": old})


def per_unit(session: AsyncSession, base_path: str) -> bool:
    """Read a subtree's rows unit by unit (LATERAL, per-unit indexes)? On PostgreSQL, for a subtree:
    joined, it costs reading the whole country's period through the time indexes (or every
    membership) as cheaper than ~2,000 index probes, and is many times slower at national scale.
    SQLite already loops over the subtree's units; the whole installation (ALL) reads by time."""
    return _dialect(session) == "postgresql" and base_path != ALL


def group_key(session: AsyncSession, base_path: str, levels: int) -> ColumnElement[Any]:
    """The id (as text) of the ancestor `levels` below the subtree root, from a unit's path."""
    if levels == 0:
        return literal("")
    rest: ColumnElement[Any] = func.substr(Unit.path, len(base_path) + 1)
    if _dialect(session) == "postgresql":
        return func.split_part(rest, "/", levels)
    for _ in range(levels - 1):
        rest = func.substr(rest, func.instr(rest, "/") + 1)
    return func.substr(rest, 1, func.instr(rest, "/") - 1)


def _num(value: Any) -> float:
    return float(value or 0)


async def _rows(
    session: AsyncSession,
    stmt: Any,
    key: ColumnElement[Any],
    levels: int,
    names: list[str],
    total: bool = False,
) -> dict[str, Measures]:
    """Run `select(key, *aggregates)`: one row per group when levels > 0, plus (total=True) the
    same aggregates over the whole subtree under the key TOTAL, in the same statement."""
    if levels:
        grouped = stmt.group_by(key)
        if total:
            whole = stmt.with_only_columns(literal(TOTAL), *list(stmt.selected_columns)[1:])
            grouped = union_all(grouped, whole)
        stmt = grouped
    out: dict[str, Measures] = {}
    for row in (await session.execute(stmt)).all():
        out[str(row[0])] = {n: _num(v) for n, v in zip(names, row[1:], strict=True)}
    return out


DOSSIER_MEASURES = [
    "received",
    "received_online",
    "received_full_online",
    "resolved",
    "resolved_on_time",
    "overdue_open",
    "services_with_online",
]


async def work_measures(
    session: AsyncSession, base_path: str, levels: int, span: Span, total: bool = False
) -> dict[str, Measures]:
    """Dossier counts per group; each commune uses its dossiers when it has any for the period,
    else its weekly reports. `n_dossier_units` / `n_weekly_units` say which source was used."""
    in_p = and_(Dossier.received_at >= span.start, Dossier.received_at < span.end)
    fin_p = and_(
        Dossier.finished_at >= span.start, Dossier.finished_at < span.end, Dossier.status != "withdrawn"
    )
    # Overdue at the cap: due before it and not finished by then. Open dossiers and those finished
    # after the cap are two separate index ranges on (unit_id, finished_at).
    overdue_base = and_(
        Dossier.received_at < span.cap, Dossier.due_at < span.cap, Dossier.status != "withdrawn"
    )
    overdue_open = and_(overdue_base, Dossier.finished_at.is_(None))
    overdue_late = and_(overdue_base, Dossier.finished_at >= span.cap)
    online = Dossier.mode.in_(ONLINE_MODES)

    def count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((cond, 1), else_=0))

    on_time = or_(Dossier.due_at.is_(None), Dossier.finished_at <= Dossier.due_at)
    procedure = func.coalesce(Dossier.procedure_code, Dossier.procedure_name)
    zero = literal(0)
    lateral_ = per_unit(session, base_path)

    def part(cond: ColumnElement[bool], *measures: ColumnElement[Any]) -> Any:
        """Per unit of the subtree: the dossier measures (DOSSIER_MEASURES order) over `cond`."""
        cols = [m.label(n) for m, n in zip(measures, DOSSIER_MEASURES, strict=True)]
        if lateral_:
            lat = select(*cols).where(Dossier.unit_id == Unit.id, cond).lateral()
            return (
                select(Unit.id.label("unit_id"), *lat.c)
                .join_from(Unit, lat, true())
                .where(subtree(session, base_path))
            )
        return (
            select(Dossier.unit_id.label("unit_id"), *cols)
            .join(Unit, Unit.id == Dossier.unit_id)
            .where(subtree(session, base_path), cond)
            .group_by(Dossier.unit_id)
        )

    # Four index-friendly row sets (received in the period, finished in the period, open and overdue
    # at the cap, finished after the cap and overdue) aggregated separately, then summed per commune:
    # one OR over the conditions would make the database scan every dossier of the subtree, whatever
    # its age.
    received = part(
        in_p,
        func.count(),
        count_if(online),
        count_if(Dossier.mode == "full_online"),
        zero,
        zero,
        zero,
        func.count(distinct(case((online, procedure), else_=None))),
    )
    resolved = part(fin_p, zero, zero, zero, func.count(), count_if(on_time), zero, zero)
    overdue_rows = [
        part(cond, zero, zero, zero, zero, zero, func.count(), zero) for cond in (overdue_open, overdue_late)
    ]
    parts = union_all(received, resolved, *overdue_rows).subquery("dp")
    d = (
        select(
            parts.c.unit_id.label("unit_id"),
            *[func.sum(parts.c[n]).label(n) for n in DOSSIER_MEASURES],
        )
        .group_by(parts.c.unit_id)
        .having(func.sum(parts.c.received) + func.sum(parts.c.resolved) > 0)
        .cte("d")
    )
    r = WeeklyReport
    w = (
        select(
            r.unit_id.label("unit_id"),
            func.sum(r.received).label("received"),
            func.sum(r.received_online).label("received_online"),
            func.sum(r.received_full_online).label("received_full_online"),
            func.sum(r.resolved).label("resolved"),
            func.sum(r.resolved_on_time).label("resolved_on_time"),
            func.max(r.overdue_open).label("overdue_open"),
            func.max(r.services_with_online).label("services_with_online"),
        )
        .join(Unit, Unit.id == r.unit_id)
        .where(
            subtree(session, base_path),
            r.week_start >= span.first_week,
            r.week_start < span.end_week,
            r.status == "final",
        )
        .group_by(r.unit_id)
        .cte("w")
    )
    combined = union_all(
        select(
            *[d.c[n] for n in ["unit_id", *DOSSIER_MEASURES]], literal(1).label("nd"), literal(0).label("nw")
        ),
        select(*[w.c[n] for n in ["unit_id", *DOSSIER_MEASURES]], literal(0), literal(1)).where(
            w.c.unit_id.not_in(select(d.c.unit_id))
        ),
    ).cte("c")  # read twice with `total`: computed once
    key = group_key(session, base_path, levels)
    stmt = select(
        key,
        *[func.sum(combined.c[n]) for n in DOSSIER_MEASURES],
        func.sum(combined.c.nd),
        func.sum(combined.c.nw),
    ).join_from(combined, Unit, Unit.id == combined.c.unit_id)
    names = [*DOSSIER_MEASURES, "n_dossier_units", "n_weekly_units"]
    return await _rows(session, stmt, key, levels, names, total)


async def commune_measures(
    session: AsyncSession,
    base_path: str,
    levels: int,
    span: Span,
    services_default: int,
    total: bool = False,
) -> dict[str, Measures]:
    """Communes per group, services offered (latest weekly report, else the default) and weekly
    reports submitted by their deadline."""
    r = WeeklyReport
    latest = (
        select(r.services_offered)
        .where(r.unit_id == Unit.id, r.week_start < span.end_week)
        .order_by(r.week_start.desc())
        .limit(1)
        .scalar_subquery()
    )
    key = group_key(session, base_path, levels)
    communes = select(key, func.count(), func.sum(func.coalesce(latest, services_default))).where(
        subtree(session, base_path), Unit.kind == "commune", Unit.active.is_(True)
    )
    out = await _rows(session, communes, key, levels, ["communes", "services_offered"], total)
    if span.due_weeks:
        deadline = case(*[(r.week_start == wk, dl) for wk, dl in span.due_weeks], else_=None)
        on_time = (
            select(key, func.count())
            .join_from(r, Unit, Unit.id == r.unit_id)
            .where(
                subtree(session, base_path),
                Unit.kind == "commune",
                r.status == "final",
                r.week_start.in_([wk for wk, _ in span.due_weeks]),
                r.submitted_at <= deadline,
            )
        )
        for k, m in (await _rows(session, on_time, key, levels, ["reports_on_time"], total)).items():
            out.setdefault(k, {}).update(m)
    return out


async def help_measures(
    session: AsyncSession, base_path: str, levels: int, span: Span, total: bool = False
) -> dict[str, Measures]:
    h = HelpSession
    key = group_key(session, base_path, levels)
    in_span = and_(h.occurred_at >= span.start, h.occurred_at < span.end, h.deleted_at.is_(None))
    m = Membership
    members = and_(m.role.in_(("volunteer", "team_leader")), m.active.is_(True))
    if per_unit(session, base_path):
        # OFFSET 0: a fence, else PostgreSQL flattens the LATERAL back into the plain join.
        hs = select(h.citizens, h.volunteer_id).where(h.unit_id == Unit.id, in_span).offset(0).lateral()
        sessions = (
            select(key, func.count(), func.sum(hs.c.citizens), func.count(distinct(hs.c.volunteer_id)))
            .join_from(Unit, hs, true())
            .where(subtree(session, base_path))
        )
        ms = select(m.person_id).where(m.unit_id == Unit.id, members).offset(0).lateral()
        volunteers = (
            select(key, func.count(distinct(ms.c.person_id)))
            .join_from(Unit, ms, true())
            .where(subtree(session, base_path))
        )
    else:
        sessions = (
            select(key, func.count(), func.sum(h.citizens), func.count(distinct(h.volunteer_id)))
            .join_from(h, Unit, Unit.id == h.unit_id)
            .where(subtree(session, base_path), in_span)
        )
        volunteers = (
            select(key, func.count(distinct(m.person_id)))
            .join_from(m, Unit, Unit.id == m.unit_id)
            .where(subtree(session, base_path), members)
        )
    out = await _rows(
        session, sessions, key, levels, ["help_sessions", "citizens_helped", "active_volunteers"], total
    )
    for k, v in (await _rows(session, volunteers, key, levels, ["volunteers"], total)).items():
        out.setdefault(k, {}).update(v)
    return out


async def _tickets_columns(session: AsyncSession) -> set[str] | None:
    conn = await session.connection()

    def probe(sync_conn: Any) -> set[str] | None:
        insp = inspect(sync_conn)
        if not insp.has_table("tickets"):
            return None
        return {c["name"] for c in insp.get_columns("tickets")}

    return await conn.run_sync(probe)


async def satisfaction_ratings(
    session: AsyncSession, base_path: str, levels: int, span: Span, total: bool = False
) -> dict[str, Measures] | None:
    """Citizens' ratings (1-5) from the Q&A feature's `tickets` table; None ("no data") until that
    table exists with `rating`, `unit_id` and a time column."""
    cols = await _tickets_columns(session)
    if cols is None or not {"rating", "unit_id"} <= cols:
        return None
    when = next((c for c in ("rated_at", "closed_at", "created_at") if c in cols), None)
    if when is None:
        return None
    t = table("tickets", column("rating"), column("unit_id"), column(when))
    key = group_key(session, base_path, levels)
    stmt = (
        select(key, func.sum(t.c.rating), func.count(t.c.rating))
        .join_from(t, Unit, Unit.id == t.c.unit_id)
        .where(subtree(session, base_path), t.c[when] >= span.start, t.c[when] < span.end)
    )
    return await _rows(session, stmt, key, levels, ["rating_sum", "rating_count"], total)


# --- units and people ------------------------------------------------------------------------


def _unit_row(u: Unit) -> UnitRow:
    return UnitRow(u.id, u.code, u.name, u.kind, u.path, u.parent_id)


async def unit_by_code(session: AsyncSession, code: str) -> UnitRow | None:
    u = (await session.execute(select(Unit).where(Unit.code == code))).scalar_one_or_none()
    return _unit_row(u) if u else None


async def unit_by_id(session: AsyncSession, unit_id: int) -> UnitRow | None:
    u = await session.get(Unit, unit_id)
    return _unit_row(u) if u else None


async def units_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, UnitRow]:
    if not ids:
        return {}
    rows = (await session.execute(select(Unit).where(Unit.id.in_(ids)))).scalars()
    return {u.id: _unit_row(u) for u in rows}


async def children(session: AsyncSession, unit_id: int) -> list[UnitRow]:
    stmt = select(Unit).where(Unit.parent_id == unit_id, Unit.active.is_(True)).order_by(Unit.name)
    return [_unit_row(u) for u in (await session.execute(stmt)).scalars()]


async def units_of_kind(session: AsyncSession, base_path: str, kind: str) -> list[UnitRow]:
    stmt = select(Unit).where(subtree(session, base_path), Unit.kind == kind, Unit.active.is_(True))
    return [_unit_row(u) for u in (await session.execute(stmt.order_by(Unit.id))).scalars()]


async def holders(
    session: AsyncSession, unit_ids: list[int], roles: tuple[str, ...]
) -> list[tuple[int, int, str]]:
    """(person_id, unit_id, role) of active memberships with these roles on these units."""
    if not unit_ids:
        return []
    stmt = (
        select(Membership.person_id, Membership.unit_id, Membership.role)
        .where(Membership.unit_id.in_(unit_ids), Membership.role.in_(roles), Membership.active.is_(True))
        .order_by(Membership.person_id, Membership.unit_id)
    )
    return [(int(p), int(u or 0), str(r)) for p, u, r in (await session.execute(stmt)).all()]


async def role_holders_anywhere(session: AsyncSession, roles: tuple[str, ...]) -> list[tuple[int, int]]:
    """(person_id, unit_id) for every active membership with these roles (unit not null)."""
    stmt = (
        select(Membership.person_id, Membership.unit_id)
        .where(Membership.role.in_(roles), Membership.active.is_(True), Membership.unit_id.is_not(None))
        .order_by(Membership.person_id, Membership.unit_id)
    )
    return [(int(p), int(u or 0)) for p, u in (await session.execute(stmt)).all()]


async def team_leaders_under(session: AsyncSession, paths: list[str]) -> list[tuple[int, str]]:
    """(person_id, unit path) of team leaders somewhere under these units."""
    out: list[tuple[int, str]] = []
    for path in paths:
        stmt = (
            select(Membership.person_id, Unit.path)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(subtree(session, path), Membership.role == "team_leader", Membership.active.is_(True))
        )
        out.extend((int(p), str(u)) for p, u in (await session.execute(stmt)).all())
    return out


async def person_locale(session: AsyncSession, person_id: int) -> str | None:
    p = await session.get(Person, person_id)
    return p.locale if p else None


async def accounts(session: AsyncSession, person_id: int) -> list[tuple[str, str]]:
    stmt = select(ChannelAccount.channel, ChannelAccount.chat_id).where(ChannelAccount.person_id == person_id)
    return [(c, ch) for c, ch in (await session.execute(stmt.order_by(ChannelAccount.id))).all()]


# --- weekly reports and dossiers due ------------------------------------------------------------


async def communes_with_report(session: AsyncSession, base_path: str, week: date) -> set[int]:
    r = WeeklyReport
    stmt = (
        select(r.unit_id)
        .join(Unit, Unit.id == r.unit_id)
        .where(subtree(session, base_path), r.week_start == week, r.status == "final")
    )
    return {int(x) for x in (await session.execute(stmt)).scalars()}


async def due_dossiers(
    session: AsyncSession, now: datetime, until: datetime, limit_codes: int
) -> dict[int, tuple[int, int, list[str]]]:
    """Per commune: (due by `until`, already overdue, a few codes) of open dossiers."""
    d = Dossier
    open_ = and_(d.finished_at.is_(None), d.status.not_in(("withdrawn", "rejected", "returned")))
    stmt = (
        select(
            d.unit_id,
            func.sum(case((d.due_at >= now, 1), else_=0)),
            func.sum(case((d.due_at < now, 1), else_=0)),
        )
        .where(open_, d.due_at < until)
        .group_by(d.unit_id)
    )
    out: dict[int, tuple[int, int, list[str]]] = {}
    for unit_id, soon, late in (await session.execute(stmt)).all():
        codes_stmt = (
            select(d.code)
            .where(open_, d.due_at < until, d.unit_id == unit_id)
            .order_by(d.due_at)
            .limit(limit_codes)
        )
        codes = [str(c) for c in (await session.execute(codes_stmt)).scalars()]
        out[int(unit_id)] = (int(soon or 0), int(late or 0), codes)
    return out


# --- targets -----------------------------------------------------------------------------------


async def upsert_target(
    session: AsyncSession, unit_id: int, indicator: str, period: str, value: float, set_by: int | None
) -> None:
    stmt = _insert(session, KpiTarget).values(
        unit_id=unit_id, indicator=indicator, period=period, target=value, set_by=set_by, set_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["unit_id", "indicator", "period"],
        set_={"target": value, "set_by": set_by, "set_at": utcnow()},
    )
    await session.execute(stmt)


async def targets_for(
    session: AsyncSession, unit_ids: list[int], periods: list[str]
) -> list[tuple[int, str, str, float]]:
    """(unit_id, indicator, period, target) rows for these units and periods."""
    if not unit_ids:
        return []
    stmt = select(KpiTarget.unit_id, KpiTarget.indicator, KpiTarget.period, KpiTarget.target).where(
        KpiTarget.unit_id.in_(unit_ids), KpiTarget.period.in_(periods)
    )
    return [(int(u), str(i), str(p), float(t)) for u, i, p, t in (await session.execute(stmt)).all()]


# --- job runs ---------------------------------------------------------------------------------


async def lock_job(session: AsyncSession, job: str, period: str) -> None:
    """Serialise two workers on the same job period (PostgreSQL; SQLite's BEGIN IMMEDIATE does it)."""
    if _dialect(session) == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"job:{job}:{period}"}
        )


async def job_run(session: AsyncSession, job: str, period: str) -> JobRun | None:
    stmt = select(JobRun).where(JobRun.job == job, JobRun.period == period)
    return (await session.execute(stmt)).scalar_one_or_none()


async def finish_job_run(
    session: AsyncSession, job: str, period: str, started: datetime, finished: datetime, messages: int
) -> None:
    row = await job_run(session, job, period)
    if row is None:
        row = JobRun(job=job, period=period, started_at=started, messages=0)
        session.add(row)
    row.finished_at = finished
    row.messages = (row.messages or 0) + messages
    await session.flush()


async def last_job_runs(session: AsyncSession) -> dict[str, tuple[str, datetime | None]]:
    stmt = select(JobRun).order_by(JobRun.started_at)
    return {r.job: (r.period, r.finished_at) for r in (await session.execute(stmt)).scalars()}


async def roots(session: AsyncSession) -> list[UnitRow]:
    stmt = select(Unit).where(Unit.parent_id.is_(None), Unit.active.is_(True)).order_by(Unit.id)
    return [_unit_row(u) for u in (await session.execute(stmt)).scalars()]


async def children_of_root(session: AsyncSession) -> list[UnitRow]:
    return await roots(session)
