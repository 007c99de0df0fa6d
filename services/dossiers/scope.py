"""Dossier-code squatting: a volunteer of commune A recorded a code whose commune segment was
B's (`H46.<B>-…`), blocking B's real import. Where a code's agency part names a unit we know,
that unit must be the recorder's commune or above it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Unit
from services.errors import PermissionDenied


def unit_segments(code: str) -> list[str]:
    """`H46.19786-261101-0006` → ["H46", "19786"]: the agency part, split on dots."""
    return [s for s in code.split("-", 1)[0].split(".") if s]


async def check_scope(session: AsyncSession, code: str, commune: Unit) -> None:
    """Refuse a code whose agency part names a unit outside the recorder's commune line."""
    segments = unit_segments(code)
    if not segments:
        return
    named = (await session.execute(select(Unit).where(Unit.code.in_(segments)))).scalars().all()
    for unit in named:
        if not commune.path.startswith(unit.path):
            raise PermissionDenied("dossier.errors.code_other_unit", code=code, unit=unit.name)
