"""Help sessions stored: logging, the author's own edits within the window, and week tallies."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import HelpSession, Unit
from services.access import Action, Actor
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.sessions.shortcut import check_citizens, check_note, occurred_at
from services.sessions.values import (
    EDIT_WINDOW,
    Activity,
    Outcome,
    Place,
    SessionDraft,
    SessionView,
    Tally,
    WeekSummary,
)


async def teams(session: AsyncSession, actor: Actor) -> list[Unit]:
    """Teams (or units) the actor logs sessions for."""
    out: list[Unit] = []
    for grant in actor.grants_for(Action.LOG_SESSION):
        if grant.unit_id is not None:
            unit = await session.get(Unit, grant.unit_id)
            if unit is not None and unit.active and unit not in out:
                out.append(unit)
    return out


async def log_session(
    session: AsyncSession, actor: Actor, team_id: int, draft: SessionDraft, now: datetime, tz: ZoneInfo
) -> SessionView:
    team = await session.get(Unit, team_id)
    if team is None:
        raise NotFound("errors.unit_not_found", code=str(team_id))
    if not team.active:  # closing a team ends its roles too; said by name all the same
        raise PermissionDenied("ghi.team_closed", team=team.name, action=Action.LOG_SESSION.value)
    actor.require(Action.LOG_SESSION, team.path)
    note = check_note(draft.note) if draft.note else None
    row = HelpSession(
        volunteer_id=actor.person_id,
        unit_id=team.id,
        occurred_at=occurred_at(draft.day, now, tz),
        logged_at=now,
        activity=draft.activity.value,
        place=draft.place.value,
        citizens=check_citizens(str(draft.citizens)),
        result=draft.result.value,
        dossier_code=draft.dossier_code,
        procedure=draft.procedure[:200] if draft.procedure else None,
        note=note,
    )
    session.add(row)
    await session.flush()
    return _view(row)


def _view(r: HelpSession) -> SessionView:
    return SessionView(
        r.id,
        r.occurred_at,
        Activity(r.activity),
        Place(r.place),
        r.citizens,
        Outcome(r.result),
        r.dossier_code,
        r.unit_id,
    )


# Asked by every /ghi: built once, with a bound parameter.
_LAST_SESSION = (
    select(HelpSession)
    .where(HelpSession.volunteer_id == bindparam("person_id"), HelpSession.deleted_at.is_(None))
    .order_by(HelpSession.logged_at.desc(), HelpSession.id.desc())
    .limit(1)
)


async def last_session(session: AsyncSession, person_id: int) -> SessionView | None:
    row = (await session.execute(_LAST_SESSION, {"person_id": person_id})).scalar_one_or_none()
    return _view(row) if row else None


async def _own_recent(session: AsyncSession, actor: Actor, session_id: int, now: datetime) -> HelpSession:
    row = await session.get(HelpSession, session_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("ghi.errors.entry_gone")
    if row.volunteer_id != actor.person_id:
        raise PermissionDenied(action=Action.LOG_SESSION.value)
    team = await session.get(Unit, row.unit_id)
    # Still a member of that team now, and the team still open: a removed volunteer no longer
    # edits the team's figures. Said with the entry's team, not the person's current one.
    if team is None or not team.active or not actor.can(Action.LOG_SESSION, team.path):
        raise PermissionDenied(
            "ghi.errors.entry_team_gone", team=team.name if team else "", action=Action.LOG_SESSION.value
        )
    if now - row.logged_at > EDIT_WINDOW:
        raise InvalidInput("ghi.errors.too_late_to_edit")
    return row


async def editable(session: AsyncSession, actor: Actor, session_id: int, now: datetime) -> SessionView:
    """One's own entry that may still be changed now (else the reason, as a DomainError)."""
    return _view(await _own_recent(session, actor, session_id, now))


async def delete(session: AsyncSession, actor: Actor, session_id: int, now: datetime) -> SessionView:
    """Undo / delete one's own entry of the last 24 hours (kept, marked deleted)."""
    row = await _own_recent(session, actor, session_id, now)
    row.deleted_at = now
    return _view(row)


async def update(
    session: AsyncSession,
    actor: Actor,
    session_id: int,
    now: datetime,
    *,
    citizens: int | None = None,
    result: Outcome | None = None,
) -> SessionView:
    row = await _own_recent(session, actor, session_id, now)
    if citizens is not None:
        row.citizens = check_citizens(str(citizens))
    if result is not None:
        row.result = result.value
    return _view(row)


async def recent(session: AsyncSession, actor: Actor, now: datetime) -> list[SessionView]:
    """One's own entries of the last 24 hours that one may still change, newest first: only those
    of a team one still belongs to and that is still open (as `teams`)."""
    team_ids = [t.id for t in await teams(session, actor)]
    if not team_ids:
        return []
    stmt = (
        select(HelpSession)
        .where(
            HelpSession.volunteer_id == actor.person_id,
            HelpSession.unit_id.in_(team_ids),
            HelpSession.deleted_at.is_(None),
            HelpSession.logged_at >= now - EDIT_WINDOW,
        )
        .order_by(HelpSession.logged_at.desc(), HelpSession.id.desc())
        .limit(10)
    )
    return [_view(r) for r in (await session.execute(stmt)).scalars()]


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_bounds(week_start_local_date: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start_local_date, time(0, 0), tz)
    return start, start + timedelta(days=7)


async def week_tally(
    session: AsyncSession, person_id: int, week_start_local_date: date, tz: ZoneInfo
) -> Tally:
    """Sessions and citizens a volunteer logged in one local Monday–Sunday week."""
    start, end = _week_bounds(week_start_local_date, tz)
    stmt = select(func.count(HelpSession.id), func.coalesce(func.sum(HelpSession.citizens), 0)).where(
        HelpSession.volunteer_id == person_id,
        HelpSession.deleted_at.is_(None),
        HelpSession.occurred_at >= start,
        HelpSession.occurred_at < end,
    )
    n, citizens = (await session.execute(stmt)).one()
    return Tally(int(n), int(citizens))


async def week_summary(
    session: AsyncSession, person_id: int, week_start_local_date: date, tz: ZoneInfo
) -> WeekSummary:
    start, end = _week_bounds(week_start_local_date, tz)
    stmt = select(HelpSession.activity, HelpSession.citizens).where(
        HelpSession.volunteer_id == person_id,
        HelpSession.deleted_at.is_(None),
        HelpSession.occurred_at >= start,
        HelpSession.occurred_at < end,
    )
    by: Counter[Activity] = Counter()
    sessions_n = citizens = 0
    for activity, n in (await session.execute(stmt)).all():
        by[Activity(activity)] += 1
        sessions_n += 1
        citizens += int(n)
    return WeekSummary(week_start_local_date, sessions_n, citizens, dict(by))
