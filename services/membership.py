"""Team membership: members, join-request decisions, leaving, and the person's own profile (/toi).
Removing a member and handing over the team leader role: services/membership_changes.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import JoinRequest, Membership, Person, Unit
from db.repositories import core as repo
from services import units
from services.access import Action, Actor, Role
from services.errors import Conflict, InvalidInput, NotFound
from services.units import UnitKind, UnitView

TEAM_ROLES = (Role.VOLUNTEER.value, Role.TEAM_LEADER.value)


@dataclass(frozen=True, slots=True)
class MemberView:
    membership_id: int
    person_id: int
    name: str
    role: Role
    since: datetime


@dataclass(frozen=True, slots=True)
class RequestView:
    id: int
    person_id: int
    name: str
    unit: UnitView
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    request_id: int
    person_id: int
    unit: UnitView
    approved: bool


@dataclass(frozen=True, slots=True)
class RoleLine:
    membership_id: int
    role: Role
    unit_code: str | None
    unit_name: str | None


@dataclass(frozen=True, slots=True)
class Profile:
    """What /toi shows. The weekly tally hook: features add fields here (e.g. sessions this week)."""

    person_id: int
    display_name: str
    roles: tuple[RoleLine, ...]
    channels: tuple[str, ...]
    pending: tuple[str, ...]  # names of teams the person asked to join


async def _team(session: AsyncSession, unit_id: int) -> Unit:
    unit = await repo.unit_by_id(session, unit_id)
    if unit is None or unit.kind != UnitKind.TEAM:
        raise NotFound("team.errors.not_a_team")
    return unit


async def team_leaders(session: AsyncSession, unit_id: int) -> list[int]:
    """Person ids of the team's current team leaders (who get join requests)."""
    return [p.id for p, _m in await repo.members_with_role(session, unit_id, (Role.TEAM_LEADER.value,))]


def teams_of(actor: Actor, *roles: Role) -> list[tuple[int, str]]:
    """(unit id, name) of the teams where the actor holds one of `roles`."""
    wanted = roles or (Role.VOLUNTEER, Role.TEAM_LEADER)
    seen: dict[int, str] = {}
    for g in actor.grants:
        if g.role in wanted and g.unit_id is not None:
            seen.setdefault(g.unit_id, g.unit_name or "")
    return list(seen.items())


async def members(session: AsyncSession, actor: Actor, unit_id: int) -> list[MemberView]:
    team = await _team(session, unit_id)
    actor.require(Action.VIEW_TEAM, team.path)
    found = await repo.members_with_role(session, team.id, TEAM_ROLES)
    return [MemberView(m.id, p.id, p.display_name, Role(m.role), m.created_at) for p, m in found]


async def pending_requests(session: AsyncSession, actor: Actor, unit_id: int) -> list[RequestView]:
    team = await _team(session, unit_id)
    actor.require(Action.VIEW_TEAM, team.path)
    if not team.active:  # closing rejects them; older rows left pending are nobody's to decide
        return []
    stmt = (
        select(JoinRequest, Person)
        .join(Person, Person.id == JoinRequest.person_id)
        .where(JoinRequest.unit_id == team.id, JoinRequest.status == "pending")
        .order_by(JoinRequest.id)
    )
    return [
        RequestView(r.id, p.id, p.display_name, units.view(team), Role(r.role), r.created_at)
        for r, p in (await session.execute(stmt)).all()
    ]


async def request_view(session: AsyncSession, request_id: int) -> RequestView:
    row = (
        await session.execute(
            select(JoinRequest, Person)
            .join(Person, Person.id == JoinRequest.person_id)
            .where(JoinRequest.id == request_id)
        )
    ).first()
    if row is None:
        raise NotFound("team.errors.unknown_request")
    request, person = row
    team = await _team(session, request.unit_id)
    return RequestView(
        request.id, person.id, person.display_name, units.view(team), Role(request.role), request.created_at
    )


async def decide(
    session: AsyncSession, actor: Actor, request_id: int, approve: bool, now: datetime
) -> Decision:
    """Approve or reject a join request; only someone who manages that team now may."""
    request = await session.get(JoinRequest, request_id)
    if request is None:
        raise NotFound("team.errors.unknown_request")
    team = await _team(session, request.unit_id)
    actor.require(Action.MANAGE_TEAM, team.path)
    if request.status != "pending":
        raise Conflict("team.errors.already_decided")
    if approve and not team.active:
        raise InvalidInput("onboarding.errors.unit_closed", unit=team.name)
    request.status = "approved" if approve else "rejected"
    request.decided_at, request.decided_by = now, actor.person_id
    if approve:
        existing = select(Membership.id).where(
            Membership.person_id == request.person_id,
            Membership.unit_id == team.id,
            Membership.role.in_(TEAM_ROLES),
            Membership.active.is_(True),
        )
        if (await session.execute(existing)).first() is None:
            session.add(
                Membership(
                    person_id=request.person_id,
                    unit_id=team.id,
                    role=request.role,
                    active=True,
                    created_at=now,
                )
            )
        await repo.audit(
            session,
            actor.person_id,
            "role.grant",
            f"person:{request.person_id}",
            {"role": request.role, "unit": team.code, "join_request": request.id},
        )
    else:
        await repo.audit(
            session, actor.person_id, "join.reject", f"person:{request.person_id}", {"unit": team.code}
        )
    await session.flush()
    return Decision(request.id, request.person_id, units.view(team), approve)


async def _membership(session: AsyncSession, membership_id: int) -> tuple[Membership, Unit]:
    m = await session.get(Membership, membership_id)
    if m is None or not m.active or m.unit_id is None or m.role not in TEAM_ROLES:
        raise NotFound("team.errors.unknown_member")
    return m, await _team(session, m.unit_id)


async def _view(session: AsyncSession, m: Membership, role: Role | None = None) -> MemberView:
    person = await session.get(Person, m.person_id)
    name = person.display_name if person else ""
    return MemberView(m.id, m.person_id, name, role or Role(m.role), m.created_at)


async def member(session: AsyncSession, actor: Actor, membership_id: int) -> tuple[MemberView, str]:
    """One current member of a team the actor manages, with the team's name (to confirm by name)."""
    m, team = await _membership(session, membership_id)
    actor.require(Action.MANAGE_TEAM, team.path)
    return await _view(session, m), team.name


async def leave(session: AsyncSession, actor: Actor, membership_id: int, now: datetime) -> UnitView:
    """Anyone may leave a team they belong to."""
    m, team = await _membership(session, membership_id)
    if m.person_id != actor.person_id:
        raise NotFound("team.errors.unknown_member")
    m.active, m.ended_at, m.ended_reason = False, now, "left"
    await repo.audit(
        session,
        actor.person_id,
        "team.leave",
        f"person:{actor.person_id}",
        {"role": m.role, "unit": team.code},
    )
    return units.view(team)


async def own_team_memberships(session: AsyncSession, actor: Actor) -> list[tuple[int, Role, UnitView]]:
    """(membership id, role, team) for every team the actor is in."""
    stmt = (
        select(Membership, Unit)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Membership.person_id == actor.person_id,
            Membership.active.is_(True),
            Membership.role.in_(TEAM_ROLES),
        )
        .order_by(Membership.id)
    )
    return [(m.id, Role(m.role), units.view(u)) for m, u in (await session.execute(stmt)).all()]


async def profile(session: AsyncSession, actor: Actor) -> Profile:
    """The person's roles, units and channels (the lead adds this week's own tally here)."""
    person = await session.get(Person, actor.person_id)
    if person is None:
        raise NotFound(what="person")
    roles = tuple(
        RoleLine(m.id, Role(m.role), u.code if u else None, u.name if u else None)
        for m, u in await repo.grants_of(session, person.id)
    )
    channels = tuple(sorted({a.channel for a in await repo.accounts_of(session, person.id)}))
    stmt = (
        select(Unit.name)
        .join(JoinRequest, JoinRequest.unit_id == Unit.id)
        .where(JoinRequest.person_id == person.id, JoinRequest.status == "pending", Unit.active.is_(True))
    )
    pending = tuple((await session.execute(stmt)).scalars())
    return Profile(person.id, person.display_name, roles, channels, pending)


async def approvers(session: AsyncSession, unit_id: int) -> list[int]:
    """Who decides on a join request: the team leaders, or (a team without one) the officers of
    the commune above it."""
    leaders = await team_leaders(session, unit_id)
    if leaders:
        return leaders
    team = await _team(session, unit_id)
    if team.parent_id is None:
        return []
    return [p.id for p, _m in await repo.members_with_role(session, team.parent_id, (Role.OFFICER.value,))]


async def closed_team_of(session: AsyncSession, person_id: int) -> str | None:
    """The name of the team whose closing ended the person's most recent team role, if it did."""
    stmt = (
        select(Membership.ended_reason, Unit.name)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Membership.person_id == person_id,
            Membership.role.in_(TEAM_ROLES),
            Membership.ended_at.is_not(None),
        )
        .order_by(Membership.ended_at.desc(), Membership.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return row[1] if row is not None and row[0] == "closed" else None
