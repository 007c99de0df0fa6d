"""The unit tree: provinces, communes, teams — any depth, each with a stable code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Unit
from db.repositories import core as repo
from services.errors import NotFound


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


async def get(session: AsyncSession, code: str) -> UnitView:
    unit = await repo.unit_by_code(session, code)
    if unit is None:
        raise NotFound("errors.unit_not_found", code=code)
    return view(unit)


async def upsert_rows(session: AsyncSession, rows: Iterable[UnitRow]) -> tuple[int, int]:
    """Insert or rename units; parents must come before children. Returns (added, updated)."""
    added = updated = 0
    for row in rows:
        unit = await repo.unit_by_code(session, row.code)
        parent = await repo.unit_by_code(session, row.parent_code) if row.parent_code else None
        if row.parent_code and parent is None:
            raise NotFound("errors.unit_not_found", code=row.parent_code)
        if unit is None:
            await repo.add_unit(session, row.code, row.name, row.kind, parent)
            added += 1
        elif unit.name != row.name or unit.kind != row.kind:
            unit.name, unit.kind = row.name, row.kind
            updated += 1
    return added, updated
