"""KPI measures aggregated IN SQL over a unit subtree, grouped by the ancestor N levels below the
subtree's root: dossiers (or weekly reports), communes, help sessions, satisfaction ratings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    column,
    distinct,
    func,
    inspect,
    literal,
    null,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Dossier,
    HelpSession,
    Membership,
    Unit,
    WeeklyReport,
)
from db.repositories.kpi.base import (
    ONLINE_MODES,
    Measures,
    Span,
    group_key,
    grouped_rows,
    per_unit,
    subtree,
)

DOSSIER_MEASURES = [
    "received",
    "received_online",
    "received_full_online",
    "resolved",
    "resolved_on_time",
    "overdue_open",
    "services_with_online",
    "resolved_with_due",
    "open_in_time",
    "received_listed",
    "received_online_listed",
]


async def work_measures(
    session: AsyncSession,
    base_path: str,
    levels: int,
    span: Span,
    total: bool = False,
    online_procedures: tuple[str, ...] = (),
    services_default: int | None = None,
) -> dict[str, Measures]:
    """Dossier counts per group; each commune uses its dossiers when it has any for the period,
    else its weekly reports. `n_dossier_units` / `n_weekly_units` say which source was used.
    Service coverage adds up only the communes that have data in the period (like every other
    rate here) and that have both parts: services with an online dossier, and services offered
    (latest weekly report, else `services_default`)."""
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
    # Still being handled at the cap and not yet due (Decision 766's "đang giải quyết trong hạn").
    in_time_base = and_(
        Dossier.received_at < span.cap, Dossier.due_at >= span.cap, Dossier.status != "withdrawn"
    )
    in_time_open = and_(in_time_base, Dossier.finished_at.is_(None))
    in_time_late = and_(in_time_base, Dossier.finished_at >= span.cap)
    online = Dossier.mode.in_(ONLINE_MODES)

    def count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((cond, 1), else_=0))

    # A dossier without a due date is neither on time nor late: it is left out of on-time rates.
    has_due = Dossier.due_at.is_not(None)
    on_time = and_(has_due, Dossier.finished_at <= Dossier.due_at)
    procedure = func.coalesce(Dossier.procedure_code, Dossier.procedure_name)
    zero = literal(0)
    # Dossiers of procedures the province offers online (by code or name), when it lists them.
    listed: ColumnElement[bool] = (
        or_(Dossier.procedure_code.in_(online_procedures), Dossier.procedure_name.in_(online_procedures))
        if online_procedures
        else literal(False)
    )
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
        zero,
        zero,
        count_if(listed),
        count_if(and_(listed, online)),
    )
    resolved = part(
        fin_p,
        zero,
        zero,
        zero,
        func.count(),
        count_if(on_time),
        zero,
        zero,
        count_if(has_due),
        zero,
        zero,
        zero,
    )
    overdue_rows = [
        part(cond, zero, zero, zero, zero, zero, func.count(), zero, zero, zero, zero, zero)
        for cond in (overdue_open, overdue_late)
    ]
    in_time_rows = [
        part(cond, zero, zero, zero, zero, zero, zero, zero, zero, func.count(), zero, zero)
        for cond in (in_time_open, in_time_late)
    ]
    parts = union_all(received, resolved, *overdue_rows, *in_time_rows).subquery("dp")
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
    one_week = span.end_week - span.first_week == timedelta(days=7)
    w = (
        select(
            r.unit_id.label("unit_id"),
            func.sum(r.received).label("received"),
            func.sum(r.received_online).label("received_online"),
            func.sum(r.received_full_online).label("received_full_online"),
            func.sum(r.resolved).label("resolved"),
            func.sum(r.resolved_on_time).label("resolved_on_time"),
            func.max(r.overdue_open).label("overdue_open"),
            # Distinct services cannot be added across weeks: a week's count, none for a longer period.
            (func.max(r.services_with_online) if one_week else cast(null(), Integer)).label(
                "services_with_online"
            ),
            # A weekly report gives no due dates and no open-in-time count.
            func.sum(r.resolved).label("resolved_with_due"),
            literal(0).label("open_in_time"),
            # A weekly report does not say which procedures its dossiers were for.
            func.sum(r.received).label("received_listed"),
            func.sum(r.received_online).label("received_online_listed"),
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
    sources = union_all(
        select(
            *[d.c[n] for n in ["unit_id", *DOSSIER_MEASURES]], literal(1).label("nd"), literal(0).label("nw")
        ),
        select(*[w.c[n] for n in ["unit_id", *DOSSIER_MEASURES]], literal(0), literal(1)).where(
            w.c.unit_id.not_in(select(d.c.unit_id))
        ),
    ).subquery("s")
    # One row per commune with data in the period, with the services it offers.
    combined = select(
        sources, _services_offered(sources.c.unit_id, span, services_default).label("offered")
    ).cte("c")  # read twice with `total`: computed once
    c = combined.c
    # Coverage only from communes that have both parts: a commune without its number of services
    # offered adds nothing to the numerator either, and a commune without a count of services with
    # an online dossier (weekly reports over several weeks) nothing to the denominator.
    both = and_(c.services_with_online.is_not(None), c.offered.is_not(None))
    key = group_key(session, base_path, levels)
    stmt = select(
        key,
        *[
            func.sum(case((both, c[n]), else_=None) if n == "services_with_online" else c[n])
            for n in DOSSIER_MEASURES
        ],
        func.sum(case((both, c.offered), else_=None)),
        func.sum(c.nd),
        func.sum(c.nw),
    ).join_from(combined, Unit, Unit.id == c.unit_id)
    names = [*DOSSIER_MEASURES, "services_offered", "n_dossier_units", "n_weekly_units"]
    return await grouped_rows(session, stmt, key, levels, names, total)


def _services_offered(unit_id: ColumnElement[Any], span: Span, default: int | None) -> ColumnElement[Any]:
    """The services a commune offers: its latest weekly report's number up to the period's end,
    else `default` (None: unknown)."""
    r = WeeklyReport
    latest = (
        select(r.services_offered)
        .where(r.unit_id == unit_id, r.week_start < span.end_week)
        .order_by(r.week_start.desc())
        .limit(1)
        .scalar_subquery()
    )
    return latest if default is None else func.coalesce(latest, default)


async def commune_measures(
    session: AsyncSession, base_path: str, levels: int, span: Span, total: bool = False
) -> dict[str, Measures]:
    """Open communes per group, the weekly reports they owe for the period and those filed by
    their deadline. A commune owes a week's report only if it was open and existed when the week
    began: a commune created mid-week owes nothing for that week, a closed one nothing at all (no
    closing date is kept). A report filed on time that was not owed (a week not yet due, or one
    before the commune existed, or by a closed commune) counts as owed too, so it never lowers the
    rate and the rate never passes 100 %."""
    r = WeeklyReport
    key = group_key(session, base_path, levels)
    communes = and_(subtree(session, base_path), Unit.kind == "commune")
    begins = dict(span.week_begins)
    # Due weeks owed by a commune created at `created_at`: the weeks that began after it, counted
    # on a ladder over the due weeks (in order) — one CASE per commune, not a join per week.
    due = sorted(wk for wk, _dl in span.due_weeks)
    owed: ColumnElement[Any] = (
        case(*[(Unit.created_at <= begins[wk], len(due) - i) for i, wk in enumerate(due)], else_=0)
        if due
        else literal(0)
    )
    names = ["communes", "reports_due"]
    out = await grouped_rows(
        session,
        select(key, func.count(), func.sum(owed)).where(communes, Unit.active.is_(True)),
        key,
        levels,
        names,
        total,
    )
    weeks = [*span.due_weeks, *span.pending_weeks]
    if weeks:
        deadline = case(*[(r.week_start == wk, dl) for wk, dl in weeks], else_=None)
        begin = case(
            *[(r.week_start == wk, literal(begins[wk], Unit.created_at.type)) for wk, _dl in weeks],
            else_=None,
        )
        pending = [wk for wk, _ in span.pending_weeks]
        not_owed = or_(
            r.week_start.in_(pending) if pending else literal(False),
            Unit.active.is_(False),
            Unit.created_at > begin,
        )
        on_time = (
            select(key, func.count(), func.sum(case((not_owed, 1), else_=0)))
            .join_from(r, Unit, Unit.id == r.unit_id)
            .where(
                communes,
                r.status == "final",
                r.week_start.in_([wk for wk, _ in weeks]),
                r.submitted_at <= deadline,
            )
        )
        names = ["reports_on_time", "reports_not_owed"]
        for k, m in (await grouped_rows(session, on_time, key, levels, names, total)).items():
            out.setdefault(k, {}).update(m)
    return out


async def help_measures(
    session: AsyncSession, base_path: str, levels: int, span: Span, total: bool = False
) -> dict[str, Measures]:
    """Sessions, citizens, active volunteers and volunteers of the period. `volunteers` = the people
    who were members (volunteer or team leader) of a unit at some time in the period — joined before
    its end, not left before its start — plus anyone who logged a session for it in the period: the
    share of active volunteers never passes 100 %, and a past period keeps its figure when someone
    leaves or a team is closed later."""
    h = HelpSession
    key = group_key(session, base_path, levels)
    in_span = and_(h.occurred_at >= span.start, h.occurred_at < span.end, h.deleted_at.is_(None))
    m = Membership
    # A membership ended without a date (a duplicate merged into the kept person's) never counts.
    members = and_(
        m.role.in_(("volunteer", "team_leader")),
        m.created_at < span.end,
        or_(m.active.is_(True), m.ended_at >= span.start),
    )
    if per_unit(session, base_path):
        # OFFSET 0: a fence, else PostgreSQL flattens the LATERAL back into the plain join.
        hs = select(h.citizens, h.volunteer_id).where(h.unit_id == Unit.id, in_span).offset(0).lateral()
        sessions = (
            select(key, func.count(), func.sum(hs.c.citizens), func.count(distinct(hs.c.volunteer_id)))
            .join_from(Unit, hs, true())
            .where(subtree(session, base_path))
        )
        ms = union_all(
            select(m.person_id.label("person_id")).where(m.unit_id == Unit.id, members),
            select(h.volunteer_id).where(h.unit_id == Unit.id, in_span),
        ).lateral()
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
        people = union_all(
            select(m.unit_id.label("unit_id"), m.person_id.label("person_id")).where(members),
            select(h.unit_id, h.volunteer_id).where(in_span),
        ).subquery("people")
        volunteers = (
            select(key, func.count(distinct(people.c.person_id)))
            .join_from(people, Unit, Unit.id == people.c.unit_id)
            .where(subtree(session, base_path))
        )
    out = await grouped_rows(
        session, sessions, key, levels, ["help_sessions", "citizens_helped", "active_volunteers"], total
    )
    for k, v in (await grouped_rows(session, volunteers, key, levels, ["volunteers"], total)).items():
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
    return await grouped_rows(session, stmt, key, levels, ["rating_sum", "rating_count"], total)
