"""What a team's manager changes about its members: removing one, handing over the team leader role,
and who may be picked for either.

One team leader per team. A hand-over makes the chosen person the team's only leader: every other
current team leader (the acting one, or the sitting one when an officer appoints) becomes a member.
The operator's `tocns users grant --role team_leader` is the same hand-over (`grant_team_leader`),
and so is a team leader invite code redeemed on the team (`hand_over_by_invite`).
Installations from before this rule may hold two leaders in a team; the next hand-over ends that.
A team leader manages the members, not the other leaders: removing a team leader takes an officer
(or an admin) above the team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Person, Unit
from db.repositories import core as repo
from services import invites, people, units
from services.access import Action, Actor, Role
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.membership import MemberView, _membership, _team, _view
from services.text import fold
from services.units import UnitKind, UnitView


class Pick(StrEnum):
    REMOVE = "rm"
    HAND_OVER = "ho"


@dataclass(frozen=True, slots=True)
class Change:
    """A removal or hand-over done: who, in which team of which commune, and — for a hand-over —
    who stepped down (the actor included when `own`) and so must be told."""

    member: MemberView
    team: UnitView
    commune: str
    stepped_down: tuple[MemberView, ...] = ()
    own: bool = False
    already: bool = False  # the operator's grant to the team's only leader: nothing changed


@dataclass(frozen=True, slots=True)
class HandOverPlan:
    """What a hand-over would do, to word its confirmation for who is acting."""

    member: MemberView
    team: str
    own: bool  # the actor is a team leader of this team and hands over their own role
    sitting: tuple[str, ...]  # names of the other current team leaders, who become members


def manages_from_above(actor: Actor, team_path: str) -> bool:
    """Manages the team through a role above it (officer, admin), not as one of its team leaders."""
    return any(
        g.role is not Role.TEAM_LEADER and (g.unit_path is None or team_path.startswith(g.unit_path))
        for g in actor.grants_for(Action.MANAGE_TEAM)
    )


async def _rows(
    session: AsyncSession, team_id: int, role: Role, person_id: int | None = None
) -> list[Membership]:
    """The team's active rows of `role` (of one person, if given), oldest first."""
    stmt = select(Membership).where(
        Membership.unit_id == team_id, Membership.role == role.value, Membership.active.is_(True)
    )
    if person_id is not None:
        stmt = stmt.where(Membership.person_id == person_id)
    return list((await session.execute(stmt.order_by(Membership.id))).scalars())


async def _commune_name(session: AsyncSession, team: Unit) -> str:
    parent = await repo.unit_by_id(session, team.parent_id) if team.parent_id is not None else None
    return parent.name if parent is not None else ""


def _pickable(actor: Actor, team: Unit, found: list[MemberView], pick: Pick) -> list[MemberView]:
    leaders = {m.person_id for m in found if m.role is Role.TEAM_LEADER}
    # One line per person (a team leader's role first), never the actor.
    people: dict[int, MemberView] = {}
    for m in sorted(found, key=lambda m: m.role is not Role.TEAM_LEADER):
        if m.person_id != actor.person_id:
            people.setdefault(m.person_id, m)
    others = [m for m in found if people.get(m.person_id) is m]
    if pick is Pick.REMOVE:
        if manages_from_above(actor, team.path):
            return others
        return [m for m in others if m.person_id not in leaders]
    # The only leader is the leader already; one of two (older data) may become the only one.
    return [m for m in others if not (m.person_id in leaders and len(leaders) == 1)]


async def candidates(
    session: AsyncSession, actor: Actor, unit_id: int, pick: Pick, query: str = ""
) -> list[MemberView]:
    """The members the actor may pick to remove or to make team leader; `query` (part of the name,
    diacritics optional) narrows them."""
    team = await _team(session, unit_id)
    actor.require(Action.MANAGE_TEAM, team.path)
    found = [
        MemberView(m.id, p.id, p.display_name, Role(m.role), m.created_at)
        for p, m in await repo.members_with_role(
            session, team.id, (Role.VOLUNTEER.value, Role.TEAM_LEADER.value)
        )
    ]
    picked = _pickable(actor, team, found, pick)
    wanted = fold(query)
    return [m for m in picked if wanted in fold(m.name)] if wanted else picked


async def hand_over_plan(session: AsyncSession, actor: Actor, membership_id: int) -> HandOverPlan:
    m, team = await _membership(session, membership_id)
    actor.require(Action.MANAGE_TEAM, team.path)
    leaders = await _rows(session, team.id, Role.TEAM_LEADER)
    own = any(x.person_id == actor.person_id for x in leaders)
    sitting: dict[int, str] = {}
    for x in leaders:
        if x.person_id not in (actor.person_id, m.person_id):
            sitting[x.person_id] = (await _view(session, x)).name
    return HandOverPlan(await _view(session, m), team.name, own, tuple(sitting.values()))


async def remove_member(session: AsyncSession, actor: Actor, membership_id: int, now: datetime) -> Change:
    """End the person's roles in the team; a team leader is removed only from above the team."""
    m, team = await _membership(session, membership_id)
    actor.require(Action.MANAGE_TEAM, team.path)
    if m.person_id == actor.person_id:
        raise InvalidInput("team.errors.remove_self")
    led = await _rows(session, team.id, Role.TEAM_LEADER, m.person_id)
    if led and not manages_from_above(actor, team.path):
        raise PermissionDenied("team.errors.remove_leader", action=Action.MANAGE_TEAM.value)
    for row in [*led, *await _rows(session, team.id, Role.VOLUNTEER, m.person_id)]:
        row.active, row.ended_at, row.ended_reason = False, now, "removed"
        await repo.audit(
            session,
            actor.person_id,
            "role.revoke",
            f"person:{m.person_id}",
            {"role": row.role, "unit": team.code},
        )
    return Change(await _view(session, m), units.view(team), await _commune_name(session, team))


async def hand_over(session: AsyncSession, actor: Actor, membership_id: int, now: datetime) -> Change:
    """Make a member the team's only team leader; every other team leader becomes a member."""
    m, team = await _membership(session, membership_id)
    actor.require(Action.MANAGE_TEAM, team.path)
    if m.person_id == actor.person_id:
        raise InvalidInput("team.errors.hand_over_self")
    leaders = await _rows(session, team.id, Role.TEAM_LEADER)
    if leaders and all(x.person_id == m.person_id for x in leaders):
        raise InvalidInput("team.errors.already_leader", name=(await _view(session, m)).name)
    return await _make_leader(session, actor.person_id, team, m.person_id, m.id, now)


async def grant_team_leader(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    unit_code: str,
    display_name: str | None,
    now: datetime,
) -> Change:
    """The operator's `tocns users grant --role team_leader`: the hand-over above, with nobody acting
    in the chat and for anyone (a new person too, or one not yet in the team). Whoever led the team
    becomes a member; granting it to its only leader changes nothing (`already`)."""
    people.check_channel(channel)
    team = await repo.unit_by_code(session, unit_code)
    if team is None:
        raise NotFound("errors.unit_not_found", code=unit_code)
    units.check_role_unit(Role.TEAM_LEADER, units.view(team))  # a team, and an open one
    person = await people.account_person(session, channel, external_id, display_name)
    leaders = await _rows(session, team.id, Role.TEAM_LEADER)
    if leaders and all(x.person_id == person.id for x in leaders):
        row = leaders[0]
        mine = MemberView(row.id, person.id, person.display_name, Role.TEAM_LEADER, row.created_at)
        return Change(mine, units.view(team), await _commune_name(session, team), already=True)
    return await _make_leader(session, None, team, person.id, None, now)


async def hand_over_by_invite(
    session: AsyncSession, team: Unit, person_id: int, creator_id: int | None, now: datetime
) -> Change:
    """A team leader invite code redeemed (services.invites): the hand-over above, on the code
    creator's authority (None: the operator's code). Whoever led the team becomes a member."""
    return await _make_leader(session, creator_id, team, person_id, None, now, by="invite")


async def _make_leader(
    session: AsyncSession,
    actor_id: int | None,
    team: Unit,
    person_id: int,
    picked: int | None,
    now: datetime,
    *,
    by: str | None = None,
) -> Change:
    """The hand-over itself, for the chat's «Giao tổ trưởng», the operator's grant and a team leader
    invite code alike (`by` names which in the audit log when the actor doesn't tell): the
    person becomes the team's only team leader (their member row ends), every other team leader
    becomes a member, and the codes only a leader could make lapse. `picked`: the membership row
    the chat picked (None from the command line: the new leader row names the change)."""
    leaders = await _rows(session, team.id, Role.TEAM_LEADER)
    stepping_down = [x for x in leaders if x.person_id != person_id]
    for row in await _rows(session, team.id, Role.VOLUNTEER, person_id):
        row.active, row.ended_at = False, now
    own_rows = [x for x in leaders if x.person_id == person_id]
    if not own_rows:  # not a team leader yet
        own_rows.append(_row(person_id, team.id, Role.TEAM_LEADER, now))
        session.add(own_rows[0])
    down: dict[int, MemberView] = {}
    for old in stepping_down:
        old.active, old.ended_at = False, now
        if old.person_id in down:
            continue
        if not await _rows(session, team.id, Role.VOLUNTEER, old.person_id):
            session.add(_row(old.person_id, team.id, Role.VOLUNTEER, now))
        down[old.person_id] = await _view(session, old, Role.VOLUNTEER)
    await repo.audit(
        session,
        actor_id,
        "team.hand_over",
        f"person:{person_id}",
        {
            "unit": team.code,
            "stepped_down": list(down),
            "by": by or ("bot" if actor_id is not None else "cli"),
        },
    )
    await session.flush()
    # The former leaders are members now: the codes only a leader could make lapse with the role.
    for former in down:
        await invites.revoke_lapsed(session, former, now)
    person = await session.get(Person, person_id)
    name = person.display_name if person else ""
    leader = MemberView(picked or own_rows[0].id, person_id, name, Role.TEAM_LEADER, now)
    return Change(
        leader,
        units.view(team),
        await _commune_name(session, team),
        tuple(down.values()),
        own=actor_id in down,
    )


def _row(person_id: int, team_id: int, role: Role, now: datetime) -> Membership:
    return Membership(person_id=person_id, unit_id=team_id, role=role.value, active=True, created_at=now)


@dataclass(frozen=True, slots=True)
class TeamAfter:
    """A team after the operator took a team role away (`tocns users revoke`)."""

    team: str
    leaderless: bool  # join requests go to the commune's officers until one is appointed
    still_member: bool  # the person holds another role in the team (volunteer)


async def team_after(session: AsyncSession, unit_code: str, person_id: int) -> TeamAfter | None:
    """Whether the team still has a leader and the person is still in it; None if not a team."""
    team = await repo.unit_by_code(session, unit_code)
    if team is None or team.kind != UnitKind.TEAM:
        return None
    await session.flush()
    leaders = await _rows(session, team.id, Role.TEAM_LEADER)
    mine = [
        *await _rows(session, team.id, Role.VOLUNTEER, person_id),
        *[x for x in leaders if x.person_id == person_id],
    ]
    return TeamAfter(team.name, not leaders, bool(mine))
