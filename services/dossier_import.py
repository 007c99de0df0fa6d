"""Import of the one-stop system's export (.xlsx / .csv): header detection, column profiles,
row checks, streaming batch upserts by dossier code, and a summary with row errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Base, Dossier, DossierEvent, Unit
from services.access import Action, Actor, in_scope
from services.dossiers import Mode, Status, fold, parse_code
from services.errors import InvalidInput, NotFound


def _table(model: type[Base]) -> Table:
    """The Core table: plain executemany inserts, much faster than ORM bulk inserts on SQLite."""
    return Base.metadata.tables[model.__tablename__]


PROFILES_DIR = Path(__file__).resolve().parent.parent / "data" / "import_profiles"
BATCH = 1000
HEADER_SEARCH_ROWS = 10
MAX_ERRORS_KEPT = 1000
_EXCEL_EPOCH = datetime(1899, 12, 30)
FIELDS = (
    "code",
    "procedure_name",
    "procedure_code",
    "received",
    "due",
    "finished",
    "status",
    "mode",
    "unit",
    "post",
)
REQUIRED = ("code", "procedure_name", "received")


class ImportStructureError(InvalidInput):
    """The file as a whole cannot be imported (nothing is stored)."""

    key = "nhap.errors.structure"


@dataclass(frozen=True)
class Profile:
    """How one vendor's export names its columns and values (see data/import_profiles/*.yaml)."""

    name: str
    columns: dict[str, tuple[str, ...]]  # field → folded header aliases
    statuses: dict[str, Status]  # folded value → status
    modes: dict[str, Mode]  # folded value → mode
    labels: dict[str, str] = field(default_factory=dict)  # field → its first header, as written
    yes: frozenset[str] = frozenset({"co", "x", "yes", "1", "true", "buu chinh"})


def _folded(values: Any) -> tuple[str, ...]:
    return tuple(" ".join(fold(str(v)).split()) for v in values or ())


def load_profile(name: str = "generic") -> Profile:
    path = PROFILES_DIR / f"{name}.yaml"
    if not name.replace("_", "").replace("-", "").isalnum() or not path.is_file():
        raise NotFound("nhap.errors.no_profile", name=name)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    columns = {f: _folded(a) for f, a in (data.get("columns") or {}).items() if f in FIELDS}
    for f in REQUIRED:
        if f not in columns:
            raise InvalidInput("nhap.errors.bad_profile", name=name, field=f)
    statuses = {
        alias: Status(status)
        for status, aliases in (data.get("statuses") or {}).items()
        for alias in _folded(aliases)
    }
    modes = {
        alias: Mode(mode) for mode, aliases in (data.get("modes") or {}).items() for alias in _folded(aliases)
    }
    labels = {f: str(a[0]) for f, a in (data.get("columns") or {}).items() if f in FIELDS and a}
    return Profile(name, columns, statuses, modes, labels=labels)


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


# --- reading -------------------------------------------------------------------------------


@dataclass
class Sheet:
    """Rows of a file as (row number, cell values); total is a row estimate for progress bars."""

    rows: Iterator[tuple[int, list[Any]]]
    total: int | None
    close: Callable[[], None] = lambda: None


def open_sheet(data: bytes | Path, filename: str) -> Sheet:
    name = filename.lower()
    try:
        if name.endswith((".xlsx", ".xlsm")):
            return _open_xlsx(data)
        if name.endswith((".csv", ".txt")):
            return _open_csv(data)
    except ImportStructureError:
        raise
    except Exception:
        raise ImportStructureError("nhap.errors.unreadable") from None
    raise ImportStructureError("nhap.errors.bad_type", name=filename[-40:])


def _open_xlsx(data: bytes | Path) -> Sheet:
    from openpyxl import load_workbook

    source: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    wb = load_workbook(source, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    total = ws.max_row if isinstance(ws.max_row, int) else None

    def gen() -> Iterator[tuple[int, list[Any]]]:
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, list(row)

    return Sheet(gen(), total, wb.close)


def _open_csv(data: bytes | Path) -> Sheet:
    if isinstance(data, Path):
        fh: Any = data.open("r", encoding="utf-8-sig", newline="")
        size = data.stat().st_size
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1258", errors="strict")
        fh = io.StringIO(text, newline="")
        size = len(data)
    sample = fh.read(4096)
    fh.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(fh, dialect)

    def gen() -> Iterator[tuple[int, list[Any]]]:
        for n, row in enumerate(reader, start=1):
            yield n, list(row)

    # ~80 bytes a row is a fair guess for a progress bar; the bar corrects itself at the end.
    return Sheet(gen(), max(1, size // 80), fh.close)


def _norm_header(value: Any) -> str:
    return " ".join(fold(str(value)).replace("*", " ").replace(":", " ").split()) if value is not None else ""


def find_header(head: list[tuple[int, list[Any]]], profile: Profile) -> tuple[int, dict[str, int]]:
    """(header row number, field → column index) from the first rows; merged cells tolerated."""
    best: tuple[int, int, dict[str, int]] | None = None
    for idx, (n, cells) in enumerate(head):
        # A header merged vertically leaves its label in the row above: fall back to it.
        above = head[idx - 1][1] if idx > 0 else []
        labels = []
        for c, value in enumerate(cells):
            label = _norm_header(value)
            if not label and c < len(above):
                label = _norm_header(above[c])
            labels.append(label)
        mapping: dict[str, int] = {}
        for f, aliases in profile.columns.items():
            for c, label in enumerate(labels):
                if label and label in aliases and c not in mapping.values():
                    mapping[f] = c
                    break
        score = sum(1 for f in REQUIRED if f in mapping) * 100 + len(mapping)
        if mapping and (best is None or score > best[1]):
            best = (n, score, mapping)
    if best is None:
        raise ImportStructureError("nhap.errors.no_header", rows=HEADER_SEARCH_ROWS)
    missing = [f for f in REQUIRED if f not in best[2]]
    if missing:
        names = ", ".join(f"«{profile.labels.get(f, f)}»" for f in missing)
        raise ImportStructureError("nhap.errors.missing_columns", columns=names)
    return best[0], best[2]


# --- row parsing ---------------------------------------------------------------------------


class RowError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def parse_when(value: Any, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime | None:
    """An Excel date, an Excel serial number, or 'dd/mm/yyyy[ HH:MM[:SS]]' / 'yyyy-mm-dd' text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        if end_of_day and local.time() == time(0, 0):
            local = local.replace(hour=23, minute=59, second=59)
        return local
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59) if end_of_day else time(8, 0), tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise RowError("nhap.row.bad_date", value=str(value))
        naive = _EXCEL_EPOCH + timedelta(days=float(value))
        return parse_when(naive, tz, end_of_day=end_of_day)
    text = str(value).strip()
    day_part, _, time_part = text.partition(" ")
    try:
        if "-" in day_part and len(day_part.split("-")[0]) == 4:
            y, m, d = (int(x) for x in day_part.split("-"))
        else:
            d, m, y = (int(x) for x in day_part.replace("-", "/").replace(".", "/").split("/"))
        if y < 100:
            y += 2000
        day = date(y, m, d)
        if time_part.strip():
            hms = [int(x) for x in time_part.strip().split(":")]
            hms += [0] * (3 - len(hms))
            clock = time(hms[0], hms[1], hms[2])
            if not (end_of_day and clock == time(0, 0)):
                return datetime.combine(day, clock, tz)
    except (ValueError, TypeError):
        raise RowError("nhap.row.bad_date", value=text[:20]) from None
    return datetime.combine(day, time(23, 59, 59) if end_of_day else time(8, 0), tz)


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    code: str
    unit_code: str | None
    values: dict[str, Any]


def parse_row(n: int, cells: list[Any], mapping: dict[str, int], profile: Profile, tz: ZoneInfo) -> ParsedRow:
    def cell(f: str) -> Any:
        c = mapping.get(f)
        if c is None or c >= len(cells):
            return None
        v = cells[c]
        return v.strip() if isinstance(v, str) else v

    raw_code = cell("code")
    if raw_code in (None, ""):
        raise RowError("nhap.row.no_code")
    code = parse_code(str(raw_code))
    if code is None:
        raise RowError("nhap.row.bad_code", value=str(raw_code)[:40])
    name = cell("procedure_name")
    if not name:
        raise RowError("nhap.row.no_procedure")
    received = parse_when(cell("received"), tz)
    if received is None:
        raise RowError("nhap.row.no_received")
    due = parse_when(cell("due"), tz, end_of_day=True)
    finished = parse_when(cell("finished"), tz)
    if due is not None and due < received - timedelta(days=1):
        raise RowError("nhap.row.due_before_received")
    raw_status = cell("status")
    if raw_status not in (None, ""):
        status = profile.statuses.get(" ".join(fold(str(raw_status)).split()))
        if status is None:
            raise RowError("nhap.row.bad_status", value=str(raw_status)[:40])
    else:
        status = Status.RESULT_READY if finished else Status.RECEIVED
    raw_mode = cell("mode")
    if raw_mode not in (None, ""):
        mode = profile.modes.get(" ".join(fold(str(raw_mode)).split()))
        if mode is None:
            raise RowError("nhap.row.bad_mode", value=str(raw_mode)[:40])
    else:
        mode = Mode.COUNTER
    post = cell("post")
    unit = cell("unit")
    values = {
        "procedure_name": str(name)[:300],
        "procedure_code": str(cell("procedure_code"))[:60] if cell("procedure_code") else None,
        "mode": mode.value,
        "received_at": received,
        "due_at": due,
        "finished_at": finished,
        "status": status.value,
        "post_return": post is not None and fold(str(post)) in profile.yes,
    }
    return ParsedRow(n, code, str(unit).strip() if unit not in (None, "") else None, values)


# --- import --------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    rows: int = 0

    def reject(self, row: int, key: str, **params: Any) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((row, key, params))


_COMPARED = (
    "procedure_name",
    "procedure_code",
    "mode",
    "received_at",
    "due_at",
    "finished_at",
    "status",
    "post_return",
)


class _Units:
    """Resolves a row's unit column within the importer's scope (cached)."""

    def __init__(self, session: AsyncSession, actor: Actor, default: Unit) -> None:
        self.session = session
        self.scopes = actor.scope_paths(Action.IMPORT_DOSSIERS)
        self.default = default
        self.cache: dict[str, Unit | None] = {}

    async def resolve(self, code: str | None) -> Unit:
        if code is None:
            return self.default
        if code not in self.cache:
            self.cache[code] = (
                await self.session.execute(select(Unit).where(Unit.code == code))
            ).scalar_one_or_none()
        unit = self.cache[code]
        if unit is None:
            raise RowError("nhap.row.unknown_unit", unit=code[:40])
        if not in_scope(unit.path, self.scopes) or not unit.path.startswith(self.default.path):
            raise RowError("nhap.row.unit_out_of_scope", unit=code[:40])
        return unit


async def import_file(
    session: AsyncSession,
    actor: Actor,
    data: bytes | Path,
    filename: str,
    unit_code: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    profile: str = "generic",
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportSummary:
    """Upsert every valid row by code for `unit_code` (and units under it); one transaction."""
    unit = (await session.execute(select(Unit).where(Unit.code == unit_code))).scalar_one_or_none()
    if unit is None:
        raise NotFound("errors.unit_not_found", code=unit_code)
    actor.require(Action.IMPORT_DOSSIERS, unit.path)
    prof = load_profile(profile)
    sheet = open_sheet(data, filename)
    try:
        head: list[tuple[int, list[Any]]] = []
        for item in sheet.rows:
            head.append(item)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        header_row, mapping = find_header(head, prof)
        units = _Units(session, actor, unit)
        summary = ImportSummary()
        seen: set[str] = set()
        batch: list[ParsedRow] = []

        def rows() -> Iterator[tuple[int, list[Any]]]:
            yield from (r for r in head if r[0] > header_row)
            yield from sheet.rows

        for n, cells in rows():
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            summary.rows += 1
            try:
                parsed = parse_row(n, cells, mapping, prof, tz)
            except RowError as exc:
                summary.reject(n, exc.key, **exc.params)
                continue
            if parsed.code in seen:
                summary.reject(n, "nhap.row.duplicate", code=parsed.code)
                continue
            seen.add(parsed.code)
            batch.append(parsed)
            if len(batch) >= BATCH:
                await _flush(session, actor, units, batch, summary, now)
                batch = []
                if progress:
                    progress(n, sheet.total)
        if batch:
            await _flush(session, actor, units, batch, summary, now)
        if progress:
            progress(summary.rows + header_row, summary.rows + header_row)
        summary.errors.sort(key=lambda e: e[0])
        return summary
    finally:
        sheet.close()


async def _flush(
    session: AsyncSession,
    actor: Actor,
    units: _Units,
    batch: list[ParsedRow],
    summary: ImportSummary,
    now: datetime,
) -> None:
    codes = [p.code for p in batch]
    existing = {
        d.code: d
        for d in (
            await session.execute(
                select(
                    Dossier.id, Dossier.code, Dossier.unit_id, *(getattr(Dossier, c) for c in _COMPARED)
                ).where(Dossier.code.in_(codes))
            )
        ).all()
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    by_id: dict[int, Unit] = {}
    person = actor.person_id or None
    for p in batch:
        try:
            target = await units.resolve(p.unit_code)
        except RowError as exc:
            summary.reject(p.row, exc.key, **exc.params)
            continue
        old = existing.get(p.code)
        if old is None:
            inserts.append(
                {
                    **p.values,
                    "code": p.code,
                    "unit_id": target.id,
                    "source": "import",
                    "recorded_by": person,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        if old.unit_id != target.id:
            owner = by_id.get(old.unit_id) or await session.get(Unit, old.unit_id)
            if owner is None or not owner.path.startswith(units.default.path):
                summary.reject(p.row, "nhap.row.other_unit", code=p.code)
                continue
            by_id[old.unit_id] = owner
        changed = {c: p.values[c] for c in _COMPARED if _differs(getattr(old, c), p.values[c])}
        if not changed and old.unit_id == target.id:
            summary.unchanged += 1
            continue
        updates.append({"id": old.id, **changed, "unit_id": target.id, "updated_at": now})
        if "status" in changed:
            events.append(
                {
                    "dossier_id": old.id,
                    "at": now,
                    "status_from": old.status,
                    "status_to": p.values["status"],
                    "actor_id": person,
                    "note": "import",
                }
            )
    if inserts:
        await session.execute(insert(_table(Dossier)), inserts)
        summary.new += len(inserts)
        new_ids = (
            await session.execute(
                select(Dossier.id, Dossier.status).where(Dossier.code.in_([i["code"] for i in inserts]))
            )
        ).all()
        events.extend(
            {
                "dossier_id": i,
                "at": now,
                "status_from": None,
                "status_to": s,
                "actor_id": person,
                "note": "import",
            }
            for i, s in new_ids
        )
    if updates:
        await session.execute(update(Dossier), updates)
        summary.updated += len(updates)
    if events:
        await session.execute(insert(_table(DossierEvent)), events)


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return abs((old - new).total_seconds()) >= 1
    return bool(old != new)
