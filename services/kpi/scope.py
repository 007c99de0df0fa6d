"""Which unit a KPI command means: the one its code names (within the caller's scope), or the
caller's own — one, or several communes to ask about (handlers/kpi.py, /baocao's unit question)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from db.repositories.kpi.base import UnitRow
from services.access import Action, Actor
from services.errors import NotFound


async def resolve_unit(session: AsyncSession, actor: Actor, code: str | None, action: Action) -> UnitRow:
    """The unit to show: `code`, or the actor's own unit for this action; checks the scope."""
    if code:
        unit = await repo.unit_by_code(session, code)
        if unit is None:
            raise NotFound("errors.unit_not_found", code=code)
        # Someone who may see their own unit asking for another: say so, not who else could.
        key = "kpi.errors.unit_out_of_scope"
        actor.require_in_scope(action, unit.path, key, unit=unit.name, code=unit.code)
        return unit
    grants = [g for g in actor.grants_for(action) if g.unit_id is not None]
    if not grants:
        if actor.grants_for(action):  # installation-wide admin: the first root unit
            roots = await repo.children_of_root(session)
            if roots:
                return roots[0]
        actor.require(action, "/none/")
    grants.sort(key=lambda g: len(g.unit_path or ""))
    unit = await repo.unit_by_id(session, grants[0].unit_id or 0)
    if unit is None:
        raise NotFound("errors.unit_not_found", code="?")
    return unit


# Units an officer or a team leader holds a role for: several of them are asked about, not picked.
COMMUNE_LEVEL = frozenset({"commune", "team"})


async def own_units(session: AsyncSession, actor: Actor, action: Action) -> list[UnitRow]:
    """The units a command without a code may mean, in the order the roles were granted: each
    commune (or team) the person holds a role for, when they hold it for several not under one
    another; otherwise the one `resolve_unit` picks (a district or province leader, an admin)."""
    grants = actor.grants_for(action)
    paths = [g.unit_path for g in grants]
    if None in paths:  # installation-wide: as before
        return [await resolve_unit(session, actor, None, action)]
    top: list[int] = []
    for g in grants:
        path = g.unit_path or ""
        inside = any(p != path and path.startswith(p) for p in paths if p)
        if g.unit_id is not None and not inside and g.unit_id not in top:
            top.append(g.unit_id)
    found = await repo.units_by_ids(session, top)
    units = [found[i] for i in top if i in found]
    if len(units) < 2 or any(u.kind not in COMMUNE_LEVEL for u in units):
        return [await resolve_unit(session, actor, None, action)]
    return units
