"""Import of the one-stop system's export (.xlsx / .csv): header detection, column profiles,
row checks, streaming batch upserts by dossier code, and a summary with row errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Unit
from services.access import Action, Actor
from services.dossiers.import_.profiles import (
    HEADER_SEARCH_ROWS,
    ImportStructureError,
    Profile,
    find_header,
    has_header,
    ignored_date_columns,
    load_profile,
    profile_names,
)
from services.dossiers.import_.reading import Sheet, SheetLike, open_sheet
from services.dossiers.import_.rows import ParsedRow, RowError, RowParser, is_footer, parse_row, parse_when
from services.dossiers.import_.writing import Flusher, ImportSummary, Row, sqlite_cache
from services.dossiers.records import commune_of
from services.errors import InvalidInput, NotFound
from services.units import UnitKind

__all__ = [
    "BATCH",
    "ImportStructureError",
    "ImportSummary",
    "ParsedRow",
    "Profile",
    "RowError",
    "Sheet",
    "SheetLike",
    "find_header",
    "has_header",
    "import_file",
    "load_profile",
    "open_sheet",
    "parse_row",
    "parse_when",
    "profile_names",
]

BATCH = 2000


async def import_file(
    session: AsyncSession,
    actor: Actor,
    data: bytes | Path | SheetLike,
    filename: str,
    unit_code: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    profile: str = "generic",
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportSummary:
    """Upsert every valid row by code for `unit_code` (and units under it), in the caller's
    transaction: a structural error raises before anything is written."""
    unit = (await session.execute(select(Unit).where(Unit.code == unit_code))).scalar_one_or_none()
    if unit is None:
        raise NotFound("errors.unit_not_found", code=unit_code)
    actor.require(Action.IMPORT_DOSSIERS, unit.path)
    await _refuse_below_commune(session, unit)
    prof = load_profile(profile)
    # A SheetLike: rows already parsed by services.spreadsheet_guard (bounded child process).
    sheet = (
        open_sheet(data, filename, lambda h: has_header(h, prof)) if isinstance(data, bytes | Path) else data
    )
    try:
        head: list[tuple[int, list[Any]]] = []
        for item in sheet.rows:
            head.append(item)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        header_row, mapping = find_header(head, prof)
        flusher = Flusher(session, actor, unit, now)
        summary = flusher.summary
        summary.ignored_columns = ignored_date_columns(head, header_row, mapping)
        summary.sheet = sheet.name
        parse = RowParser(mapping, prof, tz, now).parse
        seen: set[str] = set()
        batch: list[Row] = []

        def rows() -> Iterator[tuple[int, list[Any]]]:
            yield from (r for r in head if r[0] > header_row)
            yield from sheet.rows

        async with sqlite_cache(session):
            for n, cells in rows():
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                if is_footer(cells):
                    summary.footers += 1
                    continue
                summary.rows += 1
                try:
                    code, unit_of_row, values = parse(cells)
                except RowError as exc:
                    summary.reject(n, exc.key, **exc.params)
                    continue
                if code in seen:
                    summary.reject(n, "nhap.row.duplicate", code=code)
                    continue
                seen.add(code)
                batch.append((n, code, unit_of_row, values))
                if len(batch) >= BATCH:
                    await flusher.flush(batch)
                    batch = []
                    if progress:
                        progress(n, sheet.total)
            if batch:
                await flusher.flush(batch)
        await summary.find_replaced_reports(session)
        if progress:
            done = summary.rows + summary.footers + header_row
            progress(done, done)
        summary.errors.sort(key=lambda e: e[0])
        return summary
    finally:
        sheet.close()


async def _refuse_below_commune(session: AsyncSession, unit: Unit) -> None:
    """A dossier belongs to a commune: an import for a team (or anything under a commune) is
    refused, naming the commune to import for instead."""
    if unit.kind == UnitKind.COMMUNE:
        return
    commune = await commune_of(session, unit)
    if commune is not None:
        raise InvalidInput("nhap.errors.unit_below_commune", unit=unit.code, commune=commune.code)
