"""The unit tree: provinces, communes, teams — any depth, each with a stable code."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import JoinRequest, Membership, Unit
from db.repositories import core as repo
from services.access import Action, Actor, Role
from services.errors import Conflict, InvalidInput, NotFound
from services.text import fold


class UnitKind(StrEnum):
    COUNTRY = "country"
    PROVINCE = "province"
    DISTRICT = "district"  # pre-2025 trees; nothing assumes a fixed number of levels
    COMMUNE = "commune"
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class UnitRow:
    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class UnitView:
    id: int
    code: str
    name: str
    kind: str
    path: str
    active: bool


def view(unit: Unit) -> UnitView:
    return UnitView(unit.id, unit.code, unit.name, unit.kind, unit.path, unit.active)


# --- which unit a role is held for ---------------------------------------------------------

# The kind of unit each role is held for; the one rule for invite codes (services.invites) and the
# operator's `tocns users grant` (services.people, services.membership_changes). A citizen holds
# no role (everyone is one); only an admin may hold a role for the whole installation (no unit).
ROLE_UNIT_KINDS: dict[Role, frozenset[str]] = {
    Role.VOLUNTEER: frozenset({UnitKind.TEAM}),
    Role.TEAM_LEADER: frozenset({UnitKind.TEAM}),
    Role.OFFICER: frozenset({UnitKind.COMMUNE}),
    Role.LEADER: frozenset({UnitKind.COUNTRY, UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE}),
    Role.ADMIN: frozenset({UnitKind.COUNTRY, UnitKind.PROVINCE}),
}


class RoleUnitMismatch(InvalidInput):
    """A role offered for a unit of a kind it is not held for (an officer of a team, a volunteer
    of a province). Params: role, code, unit (name), kind — None for the whole installation."""

    key = "onboarding.errors.role_unit_mismatch"


class UnitClosed(InvalidInput):
    """A closed unit takes no new members, invites or roles. Params: unit (name), code."""

    key = "onboarding.errors.unit_closed"


def role_fits(role: Role, kind: str | None) -> bool:
    """Whether `role` may be held for a unit of `kind` (None: the whole installation)."""
    if kind is None:
        return role is Role.ADMIN
    return kind in ROLE_UNIT_KINDS.get(role, frozenset())


def check_role_unit(role: Role, unit: UnitView | None) -> None:
    """Refuse `role` on a unit of the wrong kind, and any role on a closed unit."""
    if not role_fits(role, unit.kind if unit else None):
        raise RoleUnitMismatch(
            role=role.value,
            code=unit.code if unit else None,
            unit=unit.name if unit else None,
            kind=unit.kind if unit else None,
        )
    if unit is not None and not unit.active:
        raise UnitClosed(unit=unit.name, code=unit.code)


async def get(session: AsyncSession, code: str) -> UnitView:
    unit = await repo.unit_by_code(session, code)
    if unit is None:
        raise NotFound("errors.unit_not_found", code=code)
    return view(unit)


async def upsert_rows(session: AsyncSession, rows: Iterable[UnitRow]) -> tuple[int, int]:
    """Insert or rename units; parents must come before children. Returns (added, updated)."""
    added = updated = 0
    rows = list(rows)
    # One query for every unit named (each start of the demo tops up ~1,300 units: one query per row
    # and parent was most of `tocns run --seed-demo`'s start-up); units added here join the map.
    known = await repo.units_by_codes(
        session, [r.code for r in rows] + [r.parent_code for r in rows if r.parent_code]
    )
    for row in rows:
        unit = known.get(row.code)
        parent = known.get(row.parent_code) if row.parent_code else None
        if row.parent_code and parent is None:
            raise NotFound("errors.unit_not_found", code=row.parent_code)
        if unit is None:
            known[row.code] = await repo.add_unit(session, row.code, row.name, row.kind, parent)
            added += 1
        elif unit.name != row.name or unit.kind != row.kind:
            unit.name, unit.kind = row.name, row.kind
            updated += 1
    return added, updated


# --- browsing ------------------------------------------------------------------------------

TEAM_CODE_SEP = "-"
MAX_NAME = 200


async def by_id(session: AsyncSession, unit_id: int) -> UnitView:
    unit = await repo.unit_by_id(session, unit_id)
    if unit is None:
        raise NotFound("units.errors.unknown_unit")
    return view(unit)


async def list_units(
    session: AsyncSession, under: str | None = None, *, active_only: bool = False
) -> list[UnitView]:
    """Every unit (or every unit under `under`, itself included), in tree order."""
    stmt = select(Unit)
    if under:
        root = await repo.unit_by_code(session, under)
        if root is None:
            raise NotFound("errors.unit_not_found", code=under)
        stmt = stmt.where(Unit.path.startswith(root.path))
    if active_only:
        stmt = stmt.where(Unit.active.is_(True))
    found = list((await session.execute(stmt.order_by(Unit.depth, Unit.code))).scalars())
    return [view(u) for u in found]


async def find(
    session: AsyncSession,
    *,
    kinds: Iterable[str],
    scopes: tuple[str, ...] | None,
    query: str = "",
    limit: int = 8,
) -> list[UnitView]:
    """Active units of some kinds inside the given subtrees whose name contains `query`
    (case and diacritics ignored); None scopes means everywhere."""
    stmt = select(Unit).where(Unit.kind.in_(list(kinds)), Unit.active.is_(True))
    if scopes is not None:
        if not scopes:
            return []
        stmt = stmt.where(or_(*(Unit.path.startswith(p) for p in scopes)))
    found = [view(u) for u in (await session.execute(stmt.order_by(Unit.path))).scalars()]
    needle = fold(query)
    if needle:
        found = [u for u in found if needle in fold(u.name) or needle in u.code.lower()]
    # By name as people read it («Phú Xuân» before «Thuận Hóa», «Tổ 2» before «Tổ 10»): the first
    # few of a long list were by code, which looked arbitrary to a provincial leader.
    found.sort(key=lambda u: _name_order(u.name))
    return found[:limit]


_KIND_WORD = re.compile(r"^(?:xa|phuong|thi tran|dac khu) ")


def _name_order(name: str) -> tuple[tuple[int, int | str], ...]:
    """Folded, without the commune's kind word («Phường», «Xã», «Thị trấn»), numbers as numbers."""
    bare = _KIND_WORD.sub("", fold(name))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", bare) if p)


# --- teams managed from the bot ------------------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    if not (1 <= len(cleaned) <= MAX_NAME):
        raise InvalidInput("units.errors.bad_name")
    return cleaned


async def _unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await repo.unit_by_id(session, unit_id)
    if unit is None:
        raise NotFound("units.errors.unknown_unit")
    return unit


async def next_team_code(session: AsyncSession, commune: Unit) -> str:
    prefix = f"{commune.code}{TEAM_CODE_SEP}"
    codes = (await session.execute(select(Unit.code).where(Unit.code.startswith(prefix)))).scalars()
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


async def create_team(session: AsyncSession, actor: Actor, commune_id: int, name: str) -> UnitView:
    """A new team under a commune, coded `<commune code>-<n>`."""
    commune = await _unit(session, commune_id)
    actor.require(Action.MANAGE_UNITS, commune.path)
    if commune.kind != UnitKind.COMMUNE or not commune.active:
        raise InvalidInput("units.errors.not_a_commune", name=commune.name)
    team = await repo.add_unit(
        session, await next_team_code(session, commune), _clean_name(name), UnitKind.TEAM, commune
    )
    await repo.audit(session, actor.person_id, "unit.create", f"unit:{team.code}", {"name": team.name})
    return view(team)


async def rename_unit(session: AsyncSession, actor: Actor, unit_id: int, name: str) -> UnitView:
    unit = await _unit(session, unit_id)
    actor.require(Action.MANAGE_UNITS, unit.path)
    if unit.kind != UnitKind.TEAM:  # communes and provinces are named by the unit tree import
        raise InvalidInput("units.errors.only_teams")
    old, unit.name = unit.name, _clean_name(name)
    await repo.audit(
        session, actor.person_id, "unit.rename", f"unit:{unit.code}", {"from": old, "to": unit.name}
    )
    return view(unit)


@dataclass(frozen=True, slots=True)
class EndedRole:
    person_id: int
    role: str


@dataclass(frozen=True, slots=True)
class Closure:
    """What closing a team ended, for the dialog to tell each person."""

    team: UnitView
    ended: tuple[EndedRole, ...]  # one per person: the team leader role wins over volunteer
    rejected: tuple[tuple[int, int], ...]  # (join request id, requester person id)


async def close_unit(session: AsyncSession, actor: Actor, unit_id: int, now: datetime) -> Closure:
    """Close a team: it takes no new members or invites; its members' roles end and the join
    requests still waiting are rejected (nobody could approve them any more)."""
    unit = await _unit(session, unit_id)
    actor.require(Action.MANAGE_UNITS, unit.path)
    if unit.kind != UnitKind.TEAM:
        raise InvalidInput("units.errors.only_teams")
    if not unit.active:
        raise Conflict("units.errors.already_closed", name=unit.name)
    unit.active = False
    members = (
        await session.execute(
            select(Membership)
            .where(Membership.unit_id == unit.id, Membership.active.is_(True))
            .order_by(Membership.id)
        )
    ).scalars()
    ended: dict[int, str] = {}
    for m in members:
        m.active, m.ended_at, m.ended_reason = False, now, "closed"
        if ended.get(m.person_id) != Role.TEAM_LEADER.value:
            ended[m.person_id] = m.role
    waiting = (
        await session.execute(
            select(JoinRequest)
            .where(JoinRequest.unit_id == unit.id, JoinRequest.status == "pending")
            .order_by(JoinRequest.id)
        )
    ).scalars()
    rejected: list[tuple[int, int]] = []
    for r in waiting:
        r.status, r.decided_at, r.decided_by = "rejected", now, actor.person_id
        rejected.append((r.id, r.person_id))
    await repo.audit(
        session,
        actor.person_id,
        "unit.close",
        f"unit:{unit.code}",
        {"members": len(ended), "rejected_requests": [i for i, _p in rejected]},
    )
    await session.flush()
    return Closure(view(unit), tuple(EndedRole(p, r) for p, r in ended.items()), tuple(rejected))
