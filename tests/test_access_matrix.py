"""Every role × every Action × inside / outside its scope, through Actor.can and, where a service
exists (units, team membership, invites, imports), through the real service call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import App
from db.base import utcnow
from db.models import Membership
from db.repositories import core as repo
from services import invites, membership, membership_changes, unit_import, units
from services.access import Action, Actor, Grant, Role
from services.errors import PermissionDenied
from tests.support import seed_demo

R = Role
# Written out by hand (not copied from PERMISSIONS): a change to the policy must change this table.
EXPECTED: dict[Action, set[Role]] = {
    Action.LOG_SESSION: {R.VOLUNTEER, R.TEAM_LEADER},
    Action.RECORD_DOSSIER: {R.VOLUNTEER, R.TEAM_LEADER, R.OFFICER},
    Action.UPDATE_DOSSIER_STATUS: {R.OFFICER},
    Action.SUBMIT_WEEKLY_REPORT: {R.OFFICER},
    Action.IMPORT_DOSSIERS: {R.OFFICER, R.ADMIN},
    Action.VIEW_TEAM: {R.TEAM_LEADER, R.OFFICER, R.LEADER, R.ADMIN},
    Action.MANAGE_TEAM: {R.TEAM_LEADER, R.OFFICER, R.ADMIN},
    Action.MANAGE_UNITS: {R.OFFICER, R.LEADER, R.ADMIN},
    Action.INVITE_VOLUNTEER: {R.TEAM_LEADER, R.OFFICER, R.LEADER, R.ADMIN},
    Action.INVITE_STAFF: {R.OFFICER, R.LEADER, R.ADMIN},
    Action.VIEW_KPI: {R.TEAM_LEADER, R.OFFICER, R.LEADER, R.ADMIN},
    Action.SET_TARGETS: {R.LEADER, R.ADMIN},
    Action.RECEIVE_DIGEST: {R.LEADER},
    Action.HANDLE_TICKETS: {R.VOLUNTEER, R.TEAM_LEADER, R.OFFICER},
    Action.ADMINISTER: {R.ADMIN},
}

OWN_TEAM, SIBLING_TEAM, OTHER_PROVINCE_TEAM = "19786-1", "19786-2", "01-T1"


@dataclass(frozen=True)
class Holder:
    """A role held on a unit; `reach` lists the targets inside its scope."""

    key: str
    role: Role
    unit: str | None
    reach: frozenset[str]


HOLDERS = (
    Holder("citizen", R.CITIZEN, None, frozenset()),
    Holder("volunteer", R.VOLUNTEER, OWN_TEAM, frozenset({OWN_TEAM})),
    Holder("team_leader", R.TEAM_LEADER, OWN_TEAM, frozenset({OWN_TEAM})),
    Holder("officer", R.OFFICER, "19786", frozenset({OWN_TEAM, SIBLING_TEAM})),
    Holder("commune_leader", R.LEADER, "19786", frozenset({OWN_TEAM, SIBLING_TEAM})),
    Holder("province_leader", R.LEADER, "46", frozenset({OWN_TEAM, SIBLING_TEAM})),
    Holder("province_admin", R.ADMIN, "46", frozenset({OWN_TEAM, SIBLING_TEAM})),
    Holder("admin", R.ADMIN, None, frozenset({OWN_TEAM, SIBLING_TEAM, OTHER_PROVINCE_TEAM})),
)
TARGETS = (OWN_TEAM, SIBLING_TEAM, OTHER_PROVINCE_TEAM)


def expected(holder: Holder, action: Action, target: str) -> bool:
    return holder.role in EXPECTED[action] and target in holder.reach


def test_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action)


async def _setup(app: App) -> tuple[dict[str, Actor], dict[str, units.UnitView], int]:
    await seed_demo(app)
    async with app.sessions() as session, session.begin():
        await units.upsert_rows(
            session,
            [
                units.UnitRow("01", "Thành phố Hà Nội", "province", None),
                units.UnitRow("00004", "Phường Ba Đình", "commune", "01"),
                units.UnitRow(OTHER_PROVINCE_TEAM, "Tổ CNSCĐ Tổ dân phố 1", "team", "00004"),
            ],
        )
        tester = await repo.add_person(session, "Người kiểm thử")
        target_units = {code: await units.get(session, code) for code in TARGETS}
        # Someone to remove in every target team (the demo has volunteers in 19786-1/-2).
        other = await repo.add_person(session, "Thành viên Hà Nội")
        session.add(
            Membership(person_id=other.id, unit_id=target_units[OTHER_PROVINCE_TEAM].id, role="volunteer")
        )
        actors: dict[str, Actor] = {}
        for h in HOLDERS:
            grants: tuple[Grant, ...] = ()
            if h.role is not R.CITIZEN:
                u = await units.get(session, h.unit) if h.unit else None
                grants = (
                    Grant(h.role, u.id if u else None, h.unit, u.name if u else None, u.path if u else None),
                )
            actors[h.key] = Actor(tester.id, "Người kiểm thử", "vi", grants)
    return actors, target_units, tester.id


CASES = [(h, a, t) for h in HOLDERS for a in Action for t in TARGETS]


async def test_actor_can_matrix(app: App) -> None:
    actors, target_units, _ = await _setup(app)
    wrong = []
    for holder, action, target in CASES:
        got = actors[holder.key].can(action, target_units[target].path)
        if got != expected(holder, action, target):
            wrong.append((holder.key, action.value, target, got))
    assert not wrong, wrong


async def _volunteer_membership(session: AsyncSession, unit_id: int) -> int:
    found = await repo.members_with_role(session, unit_id, ("volunteer",))
    return found[0][1].id


ServiceCall = Callable[[AsyncSession, Actor, units.UnitView], Awaitable[object]]


async def _view_team(s: AsyncSession, a: Actor, u: units.UnitView) -> object:
    return await membership.members(s, a, u.id)


async def _manage_team(s: AsyncSession, a: Actor, u: units.UnitView) -> object:
    return await membership_changes.remove_member(s, a, await _volunteer_membership(s, u.id), utcnow())


async def _manage_units(s: AsyncSession, a: Actor, u: units.UnitView) -> object:
    return await units.rename_unit(s, a, u.id, "Tổ đổi tên")


async def _invite_volunteer(s: AsyncSession, a: Actor, u: units.UnitView) -> object:
    return await invites.create(s, a, role=R.VOLUNTEER, unit_id=u.id, now=utcnow())


async def _invite_staff(s: AsyncSession, a: Actor, u: units.UnitView) -> object:
    return await invites.create(s, a, role=R.TEAM_LEADER, unit_id=u.id, now=utcnow())


SERVICES: dict[Action, ServiceCall] = {
    Action.VIEW_TEAM: _view_team,
    Action.MANAGE_TEAM: _manage_team,
    Action.MANAGE_UNITS: _manage_units,
    Action.INVITE_VOLUNTEER: _invite_volunteer,
    Action.INVITE_STAFF: _invite_staff,
}


@pytest.mark.parametrize("action", list(SERVICES), ids=lambda a: a.value)
async def test_services_enforce_the_matrix(app: App, action: Action) -> None:
    actors, target_units, _ = await _setup(app)
    wrong = []
    for holder in HOLDERS:
        for target in TARGETS:
            async with app.sessions() as session:
                try:
                    await SERVICES[action](session, actors[holder.key], target_units[target])
                    got = True
                except PermissionDenied:
                    got = False
                await session.rollback()
            if got != expected(holder, action, target):
                wrong.append((holder.key, target, got))
    assert not wrong, wrong


async def test_unit_import_needs_an_installation_admin(app: App) -> None:
    actors, _, _ = await _setup(app)
    data = "code,name,kind,parent_code\n46-X,Tổ thử,team,19786\n".encode()
    for holder in HOLDERS:
        async with app.sessions() as session:
            try:
                await unit_import.import_csv(session, actors[holder.key], data)
                got = True
            except PermissionDenied:
                got = False
            await session.rollback()
        assert got == (holder.key == "admin"), holder.key


async def test_invite_rank_rules(app: App) -> None:
    """An officer may invite officers but not leaders; a leader may not invite admins."""
    actors, target_units, _ = await _setup(app)
    async with app.sessions() as session:
        commune = await units.get(session, "19786")
        province = await units.get(session, "46")
        assert invites.can_invite(actors["officer"], R.OFFICER, commune)
        assert not invites.can_invite(actors["officer"], R.LEADER, commune)
        assert invites.can_invite(actors["commune_leader"], R.LEADER, commune)
        assert not invites.can_invite(actors["commune_leader"], R.LEADER, province)
        assert not invites.can_invite(actors["province_leader"], R.ADMIN, province)
        assert invites.can_invite(actors["province_admin"], R.ADMIN, province)
        assert not invites.can_invite(actors["team_leader"], R.TEAM_LEADER, target_units[OWN_TEAM])
        # Kind of unit: volunteers belong to teams, officers to communes.
        assert not invites.can_invite(actors["admin"], R.VOLUNTEER, commune)
        assert not invites.can_invite(actors["admin"], R.OFFICER, target_units[OWN_TEAM])
