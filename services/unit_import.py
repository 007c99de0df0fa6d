"""Importing unit trees: any tree from CSV (validated whole, then loaded in one go), and the official
post-2025 provinces and communes from the optional GPL-3.0 `vietnam-provinces` package."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import core as repo
from services.access import Action, Actor
from services.errors import DomainError, InvalidInput, PermissionDenied
from services.units import UnitKind, UnitRow, upsert_rows

COLUMNS = ("code", "name", "kind", "parent_code")
ENCODINGS = ("utf-8-sig", "cp1258")
INSTALL_HINT = 'pip install -e ".[provinces]"'
MAX_CODE = 40
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file: a row number (1 = the header) and a catalog key."""

    row: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)


class ImportRejected(InvalidInput):
    """The file has problems; nothing was imported."""

    key = "units.import.rejected"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(count=len(problems))
        self.problems = problems


class ProvincesMissing(DomainError):
    key = "units.import.provinces_missing"

    def __init__(self) -> None:
        super().__init__(hint=INSTALL_HINT)


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int
    total: int


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1258 as Excel saves it; NFC either way
    (Windows-1258 spells tones as combining marks)."""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return unicodedata.normalize("NFC", text)
    raise InvalidInput("units.import.bad_encoding")


def parse_csv(text: str) -> tuple[list[tuple[int, UnitRow]], list[Problem]]:
    """Rows with their file row numbers, and the problems found in the rows themselves."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [Problem(1, "units.import.missing_columns", {"columns": ", ".join(missing)})]
    reader.fieldnames = header
    rows: list[tuple[int, UnitRow]] = []
    problems: list[Problem] = []
    kinds = {k.value for k in UnitKind}
    for n, raw in enumerate(reader, start=2):
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # blank line
        code = (raw.get("code") or "").strip()
        name = " ".join((raw.get("name") or "").split())
        kind = (raw.get("kind") or "").strip().lower()
        parent = (raw.get("parent_code") or "").strip() or None
        if not code or len(code) > MAX_CODE:
            problems.append(Problem(n, "units.import.bad_code", {"code": code}))
        if not name or len(name) > MAX_NAME:
            problems.append(Problem(n, "units.import.empty_name", {"code": code}))
        if kind not in kinds:
            problems.append(
                Problem(n, "units.import.unknown_kind", {"kind": kind, "kinds": ", ".join(sorted(kinds))})
            )
        rows.append((n, UnitRow(code, name, kind, parent)))
    return rows, problems


def order_rows(
    rows: list[tuple[int, UnitRow]], known: Callable[[str], bool]
) -> tuple[list[UnitRow], list[Problem]]:
    """Parents before children (a parent may come later in the file or already be in the
    database); reports duplicate codes, unknown parents and cycles."""
    problems: list[Problem] = []
    by_code: dict[str, tuple[int, UnitRow]] = {}
    for n, row in rows:
        if row.code in by_code:
            problems.append(
                Problem(n, "units.import.duplicate", {"code": row.code, "first": by_code[row.code][0]})
            )
            continue
        by_code[row.code] = (n, row)
    for n, row in by_code.values():
        if row.parent_code is None:
            continue
        if row.parent_code == row.code:
            problems.append(Problem(n, "units.import.cycle", {"codes": row.code}))
        elif row.parent_code not in by_code and not known(row.parent_code):
            problems.append(Problem(n, "units.import.unknown_parent", {"parent": row.parent_code}))
    ordered: list[UnitRow] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(code: str, trail: list[str]) -> Iterator[UnitRow]:
        state[code] = 1
        n, row = by_code[code]
        parent = row.parent_code
        if parent in by_code and parent != code:
            if state.get(parent) == 1:
                cycle = [*trail[trail.index(parent) :], code] if parent in trail else [parent, code]
                problems.append(Problem(n, "units.import.cycle", {"codes": " → ".join(cycle)}))
            elif state.get(parent) is None:
                yield from visit(parent, [*trail, code])
        state[code] = 2
        yield row

    for code in by_code:
        if code not in state:
            ordered.extend(visit(code, []))
    return ordered, problems


def _require_global_admin(actor: Actor | None) -> None:
    """Unit trees span provinces: only an installation-wide admin (or the CLI) imports them."""
    if actor is not None and actor.scope_paths(Action.ADMINISTER) is not None:
        raise PermissionDenied(action=Action.ADMINISTER.value)


async def import_csv(session: AsyncSession, actor: Actor | None, data: bytes) -> ImportResult:
    """Validate the whole file, then load it; any problem and nothing is imported.
    `actor` None is the command line (an operator on the server)."""
    _require_global_admin(actor)
    rows, problems = parse_csv(decode(data))
    codes_in_db: dict[str, bool] = {}
    for _n, row in rows:
        if row.parent_code and row.parent_code not in codes_in_db:
            codes_in_db[row.parent_code] = await repo.unit_by_code(session, row.parent_code) is not None
    ordered, more = order_rows(rows, lambda code: codes_in_db.get(code, False))
    problems = sorted([*problems, *more], key=lambda p: p.row)
    if problems:
        raise ImportRejected(problems)
    added, updated = await upsert_rows(session, ordered)
    await repo.audit(
        session,
        actor.person_id if actor else None,
        "units.import_csv",
        None,
        {"added": added, "updated": updated},
    )
    return ImportResult(added, updated, len(ordered))


# --- the official list ---------------------------------------------------------------------


def _provinces_module() -> Any:
    try:
        import vietnam_provinces
    except ImportError:
        raise ProvincesMissing() from None
    return vietnam_provinces


def official_province_codes() -> list[str]:
    vp = _provinces_module()
    return sorted(f"{int(p.code):02d}" for p in vp.Province.iter_all())


def official_rows(province_code: str) -> list[UnitRow]:
    """The province and its communes (phường, xã, đặc khu), names as the package spells them."""
    vp = _provinces_module()
    try:
        number = int(province_code)
    except ValueError:
        raise InvalidInput("units.import.unknown_province", code=province_code) from None
    province = next((p for p in vp.Province.iter_all() if int(p.code) == number), None)
    if province is None:
        raise InvalidInput("units.import.unknown_province", code=province_code)
    code = f"{number:02d}"
    rows = [UnitRow(code, unicodedata.normalize("NFC", province.name), UnitKind.PROVINCE, None)]
    wards = sorted(
        (w for w in vp.Ward.iter_all() if int(w.province_code) == number), key=lambda w: int(w.code)
    )
    rows += [
        UnitRow(f"{int(w.code):05d}", unicodedata.normalize("NFC", w.name), UnitKind.COMMUNE, code)
        for w in wards
    ]
    return rows


async def import_official(session: AsyncSession, actor: Actor | None, province_code: str) -> ImportResult:
    _require_global_admin(actor)
    rows = official_rows(province_code)
    added, updated = await upsert_rows(session, rows)
    await repo.audit(
        session,
        actor.person_id if actor else None,
        "units.import_official",
        f"unit:{rows[0].code}",
        {"added": added, "updated": updated},
    )
    return ImportResult(added, updated, len(rows))
