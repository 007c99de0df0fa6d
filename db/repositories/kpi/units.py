"""Units and people as the KPI jobs need them: plain rows, the tree, role holders, locales."""

from __future__ import annotations

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChannelAccount,
    Membership,
    Person,
    Unit,
)
from db.repositories.kpi.base import UnitRow, subtree

# --- units and people ------------------------------------------------------------------------


def unit_row(u: Unit) -> UnitRow:
    return UnitRow(u.id, u.code, u.name, u.kind, u.path, u.parent_id, not u.active)


async def unit_by_code(session: AsyncSession, code: str) -> UnitRow | None:
    u = (await session.execute(select(Unit).where(Unit.code == code))).scalar_one_or_none()
    return unit_row(u) if u else None


async def unit_by_id(session: AsyncSession, unit_id: int) -> UnitRow | None:
    u = await session.get(Unit, unit_id)
    return unit_row(u) if u else None


async def units_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, UnitRow]:
    if not ids:
        return {}
    rows = (await session.execute(select(Unit).where(Unit.id.in_(ids)))).scalars()
    return {u.id: unit_row(u) for u in rows}


async def children(session: AsyncSession, unit_id: int, *, with_closed: bool = False) -> list[UnitRow]:
    """The open child units by name; `with_closed`: the closed ones too (marked `closed`)."""
    stmt = select(Unit).where(Unit.parent_id == unit_id).order_by(Unit.name)
    if not with_closed:
        stmt = stmt.where(Unit.active.is_(True))
    return [unit_row(u) for u in (await session.execute(stmt)).scalars()]


async def units_of_kind(session: AsyncSession, base_path: str, kind: str) -> list[UnitRow]:
    stmt = select(Unit).where(subtree(session, base_path), Unit.kind == kind, Unit.active.is_(True))
    return [unit_row(u) for u in (await session.execute(stmt.order_by(Unit.id))).scalars()]


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


async def roots(session: AsyncSession) -> list[UnitRow]:
    stmt = select(Unit).where(Unit.parent_id.is_(None), Unit.active.is_(True)).order_by(Unit.id)
    return [unit_row(u) for u in (await session.execute(stmt)).scalars()]


async def children_of_root(session: AsyncSession) -> list[UnitRow]:
    return await roots(session)
