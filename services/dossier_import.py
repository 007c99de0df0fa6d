"""Import of the one-stop system's export (.xlsx / .csv): header detection, column profiles,
row checks, streaming batch upserts by dossier code, and a summary with row errors."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    DateTime,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UTCDateTime
from db.models import Base, Dossier, DossierEvent, Unit
from services.access import Action, Actor, in_scope
from services.dossiers import _CODE, Mode, Status, fold, parse_code
from services.errors import InvalidInput, NotFound


def _table(model: type[Base]) -> Table:
    """The Core table: plain executemany inserts, much faster than ORM bulk inserts on SQLite."""
    return Base.metadata.tables[model.__tablename__]


PROFILES_DIR = Path(__file__).resolve().parent.parent / "data" / "import_profiles"
BATCH = 2000
SQLITE_CACHE_KIB = 16 * 1024
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

# python-calamine (Rust) reads .xlsx ~15× faster than openpyxl but holds the sheet's values in
# memory (~80 bytes a cell, measured), and a crafted sheet (one cell at XFD1048576) makes it
# abort the whole process. So it reads only files given as a path (the command line, the
# operator's own file) whose size estimate fits; uploads to the bot (bytes) and anything larger
# are streamed by openpyxl.
FAST_XLSX_MAX_BYTES = 256 * 1024 * 1024
_BYTES_PER_CELL = 80
_MIN_XML_PER_CELL = 32  # '<c r="B12345"><v>1</v></c>': a size-based estimate errs on the high side
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


@dataclass
class Sheet:
    """Rows of a file as (row number, cell values); total is a row estimate for progress bars."""

    rows: Iterator[tuple[int, list[Any]]]
    total: int | None
    close: Callable[[], None] = lambda: None
    reader: str = "csv"


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
    if isinstance(data, Path) and _fast_xlsx_fits(data):
        try:
            return _open_xlsx_calamine(data)
        except Exception:  # not installed, or refused the file: openpyxl decides
            pass
    return _open_xlsx_openpyxl(data)


def _open_xlsx_openpyxl(data: bytes | Path) -> Sheet:
    from openpyxl import load_workbook

    source: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    wb = load_workbook(source, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    total = ws.max_row if isinstance(ws.max_row, int) else None

    def gen() -> Iterator[tuple[int, list[Any]]]:
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, list(row)

    return Sheet(gen(), total, wb.close, "openpyxl")


def _open_xlsx_calamine(data: bytes | Path) -> Sheet:
    from python_calamine import CalamineWorkbook

    wb = (
        CalamineWorkbook.from_filelike(io.BytesIO(data))
        if isinstance(data, bytes)
        else CalamineWorkbook.from_path(str(data))
    )
    try:
        ws = wb.get_sheet_by_index(0)
    except Exception:
        wb.close()
        raise
    end = ws.end
    closed = False

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            wb.close()

    def gen() -> Iterator[tuple[int, list[Any]]]:
        # iter_rows starts at the sheet's first row (leading empty rows included), so the row
        # numbers are the sheet's, as with openpyxl; tests/test_import.py checks this.
        yield from enumerate(ws.iter_rows(), start=1)

    return Sheet(gen(), end[0] + 1 if end else 0, close, "calamine")


def _fast_xlsx_fits(data: bytes | Path) -> bool:
    """Whether the first sheet's values fit FAST_XLSX_MAX_BYTES: cells from its <dimension> when
    that is plausible, else from the size of its XML (cheap: the zip directory, workbook.xml and
    the sheet's first bytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as z:
            info = z.getinfo(_first_sheet_part(z))
            with z.open(info) as fh:
                found = _DIMENSION.search(fh.read(4096))
            cells = info.file_size // _MIN_XML_PER_CELL + 1
            if found is not None:
                c1, r1, c2, r2 = found.groups()
                rows = int(r2 or r1) - int(r1) + 1
                cols = _column_number(c2 or c1) - _column_number(c1) + 1
                # Trusted only when no larger than the XML could hold (some writers say "A1").
                if rows * cols * 1024 + 65536 >= info.file_size:
                    cells = rows * cols
            strings = sum(i.file_size for i in z.infolist() if i.filename.endswith("sharedStrings.xml"))
            return cells * _BYTES_PER_CELL + strings <= FAST_XLSX_MAX_BYTES
    except Exception:  # no estimate: take the streaming reader
        return False


def _first_sheet_part(z: zipfile.ZipFile) -> str:
    import xml.etree.ElementTree as ET  # workbook.xml and its rels are small

    book = ET.fromstring(z.read("xl/workbook.xml"))
    rel_id = next(
        v for e in book.iter() if e.tag.endswith("}sheet") for k, v in e.attrib.items() if k.endswith("}id")
    )
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = next(e.attrib["Target"] for e in rels.iter() if e.attrib.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


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

    # ~80 bytes a row is a fair guess for a progress bar; the bar corrects itself at the end.
    return Sheet(enumerate(reader, start=1), max(1, size // 80), fh.close, "csv")


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


_MIDNIGHT = time(0, 0)
_END_OF_DAY = time(23, 59, 59)
_MORNING = time(8, 0)


def parse_when(value: Any, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime | None:
    """An Excel date, an Excel serial number, or 'dd/mm/yyyy[ HH:MM[:SS]]' / 'yyyy-mm-dd' text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        if end_of_day and local.time() == _MIDNIGHT:
            local = local.replace(hour=23, minute=59, second=59)
        return local
    if isinstance(value, date):
        return datetime.combine(value, _END_OF_DAY if end_of_day else _MORNING, tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise RowError("nhap.row.bad_date", value=str(value))
        naive = _EXCEL_EPOCH + timedelta(days=float(value))
        return parse_when(naive, tz, end_of_day=end_of_day)
    text = str(value).strip()
    day_part, _, time_part = text.partition(" ")
    try:
        day = _parse_day(day_part)
        time_part = time_part.strip()
        if time_part:
            clock = _parse_clock(time_part)
            if not (end_of_day and clock == _MIDNIGHT):
                return datetime.combine(day, clock, tz)
    except (ValueError, TypeError):
        raise RowError("nhap.row.bad_date", value=text[:20]) from None
    return datetime.combine(day, _END_OF_DAY if end_of_day else _MORNING, tz)


# An export repeats the same days and clock times: parse each text once.
@lru_cache(maxsize=4096)
def _parse_day(text: str) -> date:
    if "-" in text and len(text.split("-")[0]) == 4:
        y, m, d = (int(x) for x in text.split("-"))
    else:
        d, m, y = (int(x) for x in text.replace("-", "/").replace(".", "/").split("/"))
    if y < 100:
        y += 2000
    return date(y, m, d)


@lru_cache(maxsize=4096)
def _parse_clock(text: str) -> time:
    hms = [int(x) for x in text.split(":")]
    hms += [0] * (3 - len(hms))
    return time(hms[0], hms[1], hms[2])


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    code: str
    unit_code: str | None
    values: dict[str, Any]


# The compared columns, in the order of the values tuple a parsed row carries.
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
_DATE_POS = frozenset({3, 4, 5})
_STATUS_POS = 6
_CACHE_MAX = 4096
_MISSING: Any = object()


def _clean(value: Any) -> Any:
    """Strip text; a whole float is an int (calamine reads 19786 as 19786.0, openpyxl as 19786)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if type(value) is date:  # calamine gives a date-only cell as a date, openpyxl as midnight
        return datetime(value.year, value.month, value.day)
    return value


class _RowParser:
    """parse_row's checks with the column positions and value look-ups prepared once per file."""

    def __init__(self, mapping: dict[str, int], profile: Profile, tz: ZoneInfo) -> None:
        self.positions = [mapping.get(f) for f in FIELDS]
        self.profile = profile
        self.tz = tz
        self.statuses: dict[str, Status | None] = {}
        self.modes: dict[str, Mode | None] = {}
        self.posts: dict[Any, bool] = {}

    def parse(self, cells: list[Any]) -> tuple[str, str | None, tuple[Any, ...]]:
        """(code, unit code or None, values in _COMPARED order); RowError for a bad row."""
        width = len(cells)
        raw = [cells[c] if c is not None and c < width else None for c in self.positions]
        # Text and datetimes (most cells) inline; the rest through _clean.
        code_, name, proc_code, received_, due_, finished_, status_, mode_, unit, post = [
            v.strip() if v.__class__ is str else v if v is None or v.__class__ is datetime else _clean(v)
            for v in raw
        ]
        if code_ is None or code_ == "":
            raise RowError("nhap.row.no_code")
        typed = str(code_)
        # Most codes are already written as stored: skip parse_code's clean-up for them.
        code = typed.upper() if len(typed) <= 80 and _CODE.match(typed.upper()) else parse_code(typed)
        if code is None:
            raise RowError("nhap.row.bad_code", value=str(code_)[:40])
        if not name:
            raise RowError("nhap.row.no_procedure")
        tz = self.tz
        received = parse_when(received_, tz)
        if received is None:
            raise RowError("nhap.row.no_received")
        due = parse_when(due_, tz, end_of_day=True)
        finished = parse_when(finished_, tz)
        if due is not None and due < received - timedelta(days=1):
            raise RowError("nhap.row.due_before_received")
        if status_ is not None and status_ != "":
            status = self._lookup(self.statuses, self.profile.statuses, status_)
            if status is None:
                raise RowError("nhap.row.bad_status", value=str(status_)[:40])
        else:
            status = Status.RESULT_READY if finished else Status.RECEIVED
        if mode_ is not None and mode_ != "":
            mode = self._lookup(self.modes, self.profile.modes, mode_)
            if mode is None:
                raise RowError("nhap.row.bad_mode", value=str(mode_)[:40])
        else:
            mode = Mode.COUNTER
        post_return = self.posts.get(post, _MISSING)
        if post_return is _MISSING:
            post_return = post is not None and fold(str(post)) in self.profile.yes
            if len(self.posts) < _CACHE_MAX:
                self.posts[post] = post_return
        values = (
            str(name)[:300],
            str(proc_code)[:60] if proc_code else None,
            mode.value,
            received,
            due,
            finished,
            status.value,
            post_return,
        )
        return code, str(unit) if unit is not None and unit != "" else None, values

    @staticmethod
    def _lookup(cache: dict[str, Any], table: dict[str, Any], raw: Any) -> Any:
        key = str(raw)
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            found = table.get(" ".join(fold(key).split()))
            if len(cache) < _CACHE_MAX:
                cache[key] = found
        return found


def parse_row(n: int, cells: list[Any], mapping: dict[str, int], profile: Profile, tz: ZoneInfo) -> ParsedRow:
    code, unit, values = _RowParser(mapping, profile, tz).parse(cells)
    return ParsedRow(n, code, unit, dict(zip(_COMPARED, values, strict=True)))


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


class _Units:
    """Resolves the unit column within the importer's scope: one query per batch for new codes."""

    def __init__(self, session: AsyncSession, actor: Actor, default: Unit) -> None:
        self.session = session
        self.scopes = actor.scope_paths(Action.IMPORT_DOSSIERS)
        self.default = default
        # unit code → unit id, or (row error key, code) when rows may not name it
        self.known: dict[str, int | tuple[str, str]] = {}
        self.paths: dict[int, str] = {default.id: default.path}

    async def prepare(self, codes: set[str]) -> None:
        missing = [c for c in codes if c not in self.known]
        if not missing:
            return
        found = {
            code: (uid, path)
            for uid, code, path in (
                await self.session.execute(
                    select(Unit.id, Unit.code, Unit.path).where(Unit.code.in_(missing))
                )
            ).all()
        }
        for code in missing:
            hit = found.get(code)
            if hit is None:
                self.known[code] = ("nhap.row.unknown_unit", code[:40])
            elif not in_scope(hit[1], self.scopes) or not hit[1].startswith(self.default.path):
                self.known[code] = ("nhap.row.unit_out_of_scope", code[:40])
            else:
                self.known[code] = hit[0]
                self.paths[hit[0]] = hit[1]

    async def load_paths(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self.paths]
        if missing:
            rows = await self.session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(missing)))
            self.paths.update((i, p) for i, p in rows)


class _Codec:
    """Values as the driver takes and gives them, exactly as the column types would convert them:
    inserting and comparing 100,000 rows then skips SQLAlchemy's per-value type processing (half
    of the database time). Checked against the real type at start; on a mismatch, the type's own
    conversion is used."""

    def __init__(self, dialect: Dialect) -> None:
        impl = _table(Dossier).c.received_at.type.dialect_impl(dialect)
        bind: Callable[[Any], Any] = impl.bind_processor(dialect) or _same
        self.load: Callable[[Any], Any] = impl.result_processor(dialect, None) or _same
        sqlite = dialect.name == "sqlite"
        fast = _sqlite_when if sqlite else _utc_when
        sample = datetime(2026, 11, 5, 7, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        same = fast(sample) == bind(sample) and type(fast(sample)) is type(bind(sample))
        self.when: Callable[[Any], Any] = fast if same else bind
        self.dossiers = _raw_table(_table(Dossier), sqlite)
        self.events = _raw_table(_table(DossierEvent), sqlite)
        self.postgresql = dialect.name == "postgresql"

    def code_in(self, codes: list[str]) -> ColumnElement[bool]:
        """`code IN (…)`; on PostgreSQL `code = ANY(:array)`: one parameter, planned once, not 2,000."""
        column = self.dossiers.c.code
        if self.postgresql:
            return column == any_(bindparam("codes", codes, type_=ARRAY(String())))
        return column.in_(codes)


def _same(value: Any) -> Any:
    return value


def _sqlite_when(value: datetime | None) -> str | None:
    # "2026-11-05 00:30:15.123456+00:00" less the offset: SQLAlchemy's SQLite storage format.
    return None if value is None else value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _utc_when(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _raw_table(table: Table, sqlite: bool) -> Table:
    """The same table with UTC columns typed as what the driver stores (text on SQLite)."""
    columns = [
        Column(
            c.name,
            (String() if sqlite else DateTime(timezone=True)) if isinstance(c.type, UTCDateTime) else c.type,
            primary_key=c.primary_key,
        )
        for c in table.columns
    ]
    return Table(table.name, MetaData(), *columns)


_INSERTED = (*_COMPARED, "code", "unit_id", "source", "recorded_by", "created_at", "updated_at")
_EVENT_COLUMNS = ("dossier_id", "at", "status_from", "status_to", "actor_id", "note")


async def _insert_many(
    session: AsyncSession, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One driver-level executemany (SQLAlchemy's per-row parameter handling is ~3× the driver's
    own time here); values are already in the driver's form (_Codec)."""
    connection = await session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(table.name),
        ", ".join(quote(c) for c in columns),
        ", ".join(_placeholders(dialect, len(columns))),
    )
    await connection.exec_driver_sql(sql, rows)


def _placeholders(dialect: Dialect, n: int) -> list[str]:
    style = dialect.paramstyle
    if style == "qmark":
        return ["?"] * n
    if style == "numeric_dollar":
        return [f"${i}" for i in range(1, n + 1)]
    if style == "numeric":
        return [f":{i}" for i in range(1, n + 1)]
    if style in ("format", "pyformat"):
        return ["%s"] * n
    raise NotImplementedError(style)


_CODECS: dict[str, _Codec] = {}


def _codec(session: AsyncSession) -> _Codec:
    dialect = session.get_bind().dialect
    codec = _CODECS.get(dialect.name)
    if codec is None:
        codec = _CODECS[dialect.name] = _Codec(dialect)
    return codec


_Row = tuple[int, str, str | None, tuple[Any, ...]]  # row number, code, unit code, values


async def import_file(
    session: AsyncSession,
    actor: Actor,
    data: bytes | Path | Sheet,
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
    prof = load_profile(profile)
    # A Sheet: rows already parsed by services.spreadsheet_guard (bounded child process).
    sheet = data if isinstance(data, Sheet) else open_sheet(data, filename)
    try:
        head: list[tuple[int, list[Any]]] = []
        for item in sheet.rows:
            head.append(item)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        header_row, mapping = find_header(head, prof)
        flusher = _Flusher(session, actor, unit, now)
        summary = flusher.summary
        parse = _RowParser(mapping, prof, tz).parse
        seen: set[str] = set()
        batch: list[_Row] = []

        def rows() -> Iterator[tuple[int, list[Any]]]:
            yield from (r for r in head if r[0] > header_row)
            yield from sheet.rows

        async with _sqlite_cache(session):
            for n, cells in rows():
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
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
        if progress:
            progress(summary.rows + header_row, summary.rows + header_row)
        summary.errors.sort(key=lambda e: e[0])
        return summary
    finally:
        sheet.close()


@asynccontextmanager
async def _sqlite_cache(session: AsyncSession) -> AsyncIterator[None]:
    """On SQLite, a 16 MiB page cache while importing (the default 2 MiB makes the random-order
    index inserts of a large file ~2× slower), then the connection's own setting again."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = (await session.execute(text("PRAGMA cache_size"))).scalar_one()
    await session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # a failed connection keeps its error, not this one
            await session.execute(text(f"PRAGMA cache_size = {int(before)}"))


class _Flusher:
    """Set-based upsert of one batch: one SELECT of the existing codes, one executemany INSERT of
    the new rows, UPDATEs of the changed rows only, one executemany INSERT of the status events."""

    def __init__(self, session: AsyncSession, actor: Actor, unit: Unit, now: datetime) -> None:
        self.session = session
        self.units = _Units(session, actor, unit)
        self.summary = ImportSummary()
        self.codec = _codec(session)
        self.now = self.codec.when(now)
        self.person = actor.person_id or None

    async def flush(self, batch: list[_Row]) -> None:
        session, codec, summary, units = self.session, self.codec, self.summary, self.units
        d = codec.dossiers.c
        await units.prepare({u for _n, _c, u, _v in batch if u is not None})
        existing = {
            r[1]: r
            for r in (
                await session.execute(
                    select(d.id, d.code, d.unit_id, *(d[c] for c in _COMPARED)).where(
                        codec.code_in([code for _n, code, _u, _v in batch])
                    )
                )
            ).all()
        }
        await units.load_paths({r[2] for r in existing.values()})
        when, load, now, person = codec.when, codec.load, self.now, self.person
        default_id, default_path = units.default.id, units.default.path
        inserts: list[tuple[Any, ...]] = []
        new_status: dict[str, str] = {}
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        events: list[tuple[Any, ...]] = []
        for n, code, unit_code, values in batch:
            target = default_id if unit_code is None else units.known[unit_code]
            if isinstance(target, tuple):
                summary.reject(n, target[0], unit=target[1])
                continue
            name, procedure, mode, received, due, finished, status, post = values
            raw = (name, procedure, mode, when(received), when(due), when(finished), status, post)
            old = existing.get(code)
            if old is None:
                inserts.append((*raw, code, target, "import", person, now, now))
                new_status[code] = status
                continue
            if old[2] != target:
                owner = units.paths.get(old[2])
                if owner is None or not owner.startswith(default_path):
                    summary.reject(n, "nhap.row.other_unit", code=code)
                    continue
            changed = {
                column: raw[i]
                for i, column in enumerate(_COMPARED)
                if old[3 + i] != raw[i] and (i not in _DATE_POS or _moved(load(old[3 + i]), values[i]))
            }
            if not changed and old[2] == target:
                summary.unchanged += 1
                continue
            changed.update(unit_id=target, updated_at=now)
            updates.setdefault(tuple(changed), []).append(
                {"b_id": old[0], **{"v_" + k: v for k, v in changed.items()}}
            )
            if "status" in changed:
                events.append((old[0], now, old[3 + _STATUS_POS], status, person, "import"))
        if inserts:
            await _insert_many(session, codec.dossiers, _INSERTED, inserts)
            summary.new += len(inserts)
            new_ids = await session.execute(select(d.id, d.code).where(codec.code_in(list(new_status))))
            events.extend((i, now, None, new_status[code], person, "import") for i, code in new_ids)
        for columns, params in updates.items():
            stmt = (
                update(codec.dossiers)
                .where(d.id == bindparam("b_id"))
                .values({c: bindparam("v_" + c) for c in columns})
            )
            await session.execute(stmt, params)
            summary.updated += len(params)
        if events:
            await _insert_many(session, codec.events, _EVENT_COLUMNS, events)


def _moved(old: datetime | None, new: datetime | None) -> bool:
    """A stored time differs from the file's: by a second or more (the bot keeps microseconds)."""
    return old is None or new is None or _differs(old, new)


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return abs((old - new).total_seconds()) >= 1
    return bool(old != new)
