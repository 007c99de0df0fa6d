"""Which commune a citizen means, and who handles a commune's tickets: its teams' volunteers
and leaders, then its officers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Ticket, Unit
from services.access import Action, Actor, Role
from services.errors import NotFound
from services.text import fold_words
from services.units import UnitKind, UnitView, view

# Words that name the kind of commune; a citizen may or may not type them.
_COMMUNE_WORDS = frozenset({"xa", "phuong", "dac", "khu", "thi", "tran", "p", "x", "tt"})


def _words(text: str) -> list[str]:
    return fold_words(text).split()


async def find_communes(session: AsyncSession, query: str, limit: int = 5) -> list[UnitView]:
    """Active communes whose name matches what the citizen typed (no diacritics needed, the
    words "xã"/"phường" optional); exact names first."""
    typed = _words(query)
    wanted = [w for w in typed if w not in _COMMUNE_WORDS]
    only_kind = not wanted  # "phường": every ward
    wanted = wanted or typed
    if not wanted:
        return []
    stmt = select(Unit).where(Unit.kind == UnitKind.COMMUNE.value, Unit.active.is_(True)).order_by(Unit.name)
    ranked: list[tuple[int, str, Unit]] = []
    for unit in (await session.execute(stmt)).scalars():
        name = [w for w in _words(unit.name) if only_kind or w not in _COMMUNE_WORDS]
        joined = " ".join(name)
        if joined == " ".join(wanted):
            rank = 0
        elif " ".join(wanted) in joined:
            rank = 1 if joined.startswith(" ".join(wanted)) else 2
        elif all(any(n.startswith(w) for n in name) for w in wanted):
            rank = 3
        else:
            continue
        ranked.append((rank, unit.name, unit))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [view(u) for _, _, u in ranked[:limit]]


async def commune(session: AsyncSession, unit_id: int) -> UnitView:
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.kind != UnitKind.COMMUNE.value or not unit.active:
        raise NotFound("handoff.errors.no_commune")
    return view(unit)


async def last_commune(session: AsyncSession, person_id: int) -> UnitView | None:
    """The commune of the person's latest ticket, to offer it first next time."""
    stmt = select(Ticket.unit_id).where(Ticket.citizen_id == person_id).order_by(Ticket.id.desc()).limit(1)
    unit_id = (await session.execute(stmt)).scalar_one_or_none()
    if unit_id is None:
        return None
    unit = await session.get(Unit, unit_id)
    return view(unit) if unit is not None and unit.active else None


# --- who handles a commune -------------------------------------------------------------------


def can_handle(actor: Actor, commune_path: str) -> bool:
    """HANDLE_TICKETS held for the commune itself, a unit above it, or a team inside it."""
    for grant in actor.grants_for(Action.HANDLE_TICKETS):
        if grant.unit_path is None or commune_path.startswith(grant.unit_path):
            return True
        if grant.unit_path.startswith(commune_path):
            return True
    return False


def helper_unit(actor: Actor, commune_path: str) -> tuple[Role, str] | None:
    """(role, unit name) the actor answers as: their team inside the commune, or the commune."""
    best: tuple[Role, str] | None = None
    for grant in actor.grants_for(Action.HANDLE_TICKETS):
        path = grant.unit_path or ""
        if path.startswith(commune_path) and grant.role in (Role.VOLUNTEER, Role.TEAM_LEADER):
            return grant.role, grant.unit_name or ""
        if commune_path.startswith(path):
            best = best or (grant.role, grant.unit_name or "")
    return best


async def helpers_of(session: AsyncSession, commune_path: str) -> list[int]:
    """Volunteers and team leaders of the commune's teams (people ids, distinct)."""
    stmt = (
        select(Membership.person_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Unit.path.startswith(commune_path),
            Unit.kind == UnitKind.TEAM.value,
            Unit.active.is_(True),
            Membership.active.is_(True),
            Membership.role.in_((Role.VOLUNTEER.value, Role.TEAM_LEADER.value)),
        )
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())


async def officers_of(session: AsyncSession, unit_id: int) -> list[int]:
    stmt = (
        select(Membership.person_id)
        .where(
            Membership.unit_id == unit_id,
            Membership.role == Role.OFFICER.value,
            Membership.active.is_(True),
        )
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())
