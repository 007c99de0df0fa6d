"""Writing a batch of parsed rows: one SELECT of the existing codes, executemany INSERTs of
new rows and status events, UPDATEs of changed rows only, values in the driver's own form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from services import calendar, reports
from services.access import Action, Actor, in_scope
from services.calendar import Week
from services.dossiers.import_.rows import COMPARED, DATE_POS, STATUS_POS
from services.dossiers.records import FINISHING, REACHABLE, Status
from services.units import UnitKind

SQLITE_CACHE_KIB = 16 * 1024
MAX_ERRORS_KEPT = 1000


def _table(model: type[Base]) -> Table:
    """The Core table: plain executemany inserts, much faster than ORM bulk inserts on SQLite."""
    return Base.metadata.tables[model.__tablename__]


@dataclass
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    rows: int = 0
    footers: int = 0  # total / footer lines skipped (not counted in rows)
    ignored_columns: list[str] = field(default_factory=list)  # date-like headers no field took
    sheet: str | None = None  # the sheet read, when it is not the workbook's first
    unit: str = ""  # the unit imported for, as the summary names it: «Phường Thuận Hóa (mã 19786)»
    # Local days (received or resolved) of the rows stored, per commune: the weeks they fall in
    # are measured on dossiers from now on.
    days: dict[int, set[date]] = field(default_factory=dict)
    # (commune name, week start): weeks whose weekly report the imported dossiers now replace in /kpi
    replaced: list[tuple[str, date]] = field(default_factory=list)

    def notes(self, lang: str = "vi") -> list[tuple[str, dict[str, Any]]]:
        """What the summary says besides the counts: the sheet read, footers, ignored columns, and
        the weeks whose weekly report the dossiers now replace."""
        out: list[tuple[str, dict[str, Any]]] = []
        if self.replaced:
            weeks = ", ".join(
                f"{calendar.label(Week(start), lang)} — {name}" for name, start in self.replaced[:10]
            )
            out.append(("nhap.note.replaces_report", {"weeks": weeks}))
        if self.sheet is not None:
            out.append(("nhap.note.sheet", {"sheet": self.sheet[:60]}))
        if self.footers:
            out.append(("nhap.note.footers", {"n": self.footers}))
        if self.ignored_columns:
            names = ", ".join(f"«{c[:60]}»" for c in self.ignored_columns[:10])
            out.append(("nhap.note.ignored_dates", {"columns": names}))
        return out

    def stored(self, unit_id: int, *when: datetime | None) -> None:
        days = self.days.setdefault(unit_id, set())
        days.update(w.date() for w in when if w is not None)

    async def find_replaced_reports(self, session: AsyncSession) -> None:
        """The weeks with a weekly report (/baocao) that now have imported dossiers: dossier data
        takes precedence in /kpi, and the summary says so (as /baocao does the other way)."""
        for unit_id, days in sorted(self.days.items()):
            weeks = await reports.reported_weeks(session, unit_id, days)
            if weeks:
                unit = await session.get(Unit, unit_id)
                name = f"{unit.name} ({unit.code})" if unit is not None else str(unit_id)
                self.replaced.extend((name, start) for start in weeks)

    def reject(self, row: int, key: str, **params: Any) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((row, key, params))


class _Units:
    """Resolves the unit column within the importer's scope: one query per batch for new codes.
    A dossier belongs to a commune: a row may name only a commune, and when the import's unit
    is above the communes a new row must name one."""

    def __init__(self, session: AsyncSession, actor: Actor, default: Unit) -> None:
        self.session = session
        self.scopes = actor.scope_paths(Action.IMPORT_DOSSIERS)
        self.default = default
        self.default_is_commune = default.kind == UnitKind.COMMUNE
        # unit code → unit id, or (row error key, code) when rows may not name it
        self.known: dict[str, int | tuple[str, str]] = {}
        self.paths: dict[int, str] = {default.id: default.path}
        self.communes: set[int] = {default.id} if self.default_is_commune else set()

    async def prepare(self, codes: set[str]) -> None:
        missing = [c for c in codes if c not in self.known]
        if not missing:
            return
        found = {
            code: (uid, path, kind)
            for uid, code, path, kind in (
                await self.session.execute(
                    select(Unit.id, Unit.code, Unit.path, Unit.kind).where(Unit.code.in_(missing))
                )
            ).all()
        }
        for code in missing:
            hit = found.get(code)
            if hit is None:
                self.known[code] = ("nhap.row.unknown_unit", code[:40])
            elif not in_scope(hit[1], self.scopes) or not hit[1].startswith(self.default.path):
                self.known[code] = ("nhap.row.unit_out_of_scope", code[:40])
            elif hit[2] != UnitKind.COMMUNE:
                self.known[code] = ("nhap.row.not_commune", code[:40])
            else:
                self.known[code] = hit[0]
                self.paths[hit[0]] = hit[1]
                self.communes.add(hit[0])

    async def load_paths(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self.paths]
        if missing:
            rows = await self.session.execute(
                select(Unit.id, Unit.path, Unit.kind).where(Unit.id.in_(missing))
            )
            for i, path, kind in rows:
                self.paths[i] = path
                if kind == UnitKind.COMMUNE:
                    self.communes.add(i)

    def target(self, unit_code: str | None, owner: int | None) -> int | tuple[str, str]:
        """The commune a row goes to, or (row error key, unit code)."""
        if unit_code is not None:
            return self.known[unit_code]
        if self.default_is_commune:
            return self.default.id
        # Above the communes, a known dossier without a unit column stays with its commune.
        if owner in self.communes and self.paths[owner].startswith(self.default.path):
            return owner
        return ("nhap.row.no_commune", self.default.code[:40])

    def may_move(self, owner: int, target: int) -> bool:
        """A dossier changes unit within the import's subtree, or comes down to its commune
        from a unit above it where no dossier belongs (an earlier import put it there)."""
        path = self.paths.get(owner)
        if path is None:
            return False
        if path.startswith(self.default.path):
            return True
        return owner not in self.communes and self.paths[target].startswith(path)


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


_HAS_RESULT = FINISHING | {Status.RETURNED}
_INSERTED = (*COMPARED, "code", "unit_id", "source", "recorded_by", "created_at", "updated_at")
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


Row = tuple[int, str, str | None, tuple[Any, ...]]  # row number, code, unit code, values


@asynccontextmanager
async def sqlite_cache(session: AsyncSession) -> AsyncIterator[None]:
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


class Flusher:
    """Set-based upsert of one batch: one SELECT of the existing codes, one executemany INSERT of
    the new rows, UPDATEs of the changed rows only, one executemany INSERT of the status events."""

    def __init__(self, session: AsyncSession, actor: Actor, unit: Unit, now: datetime) -> None:
        self.session = session
        self.units = _Units(session, actor, unit)
        self.summary = ImportSummary(unit=f"{unit.name} ({unit.code})")
        self.codec = _codec(session)
        self.now = self.codec.when(now)
        self.person = actor.person_id or None

    async def flush(self, batch: list[Row]) -> None:
        session, codec, summary, units = self.session, self.codec, self.summary, self.units
        d = codec.dossiers.c
        await units.prepare({u for _n, _c, u, _v in batch if u is not None})
        existing = {
            r[1]: r
            for r in (
                await session.execute(
                    select(d.id, d.code, d.unit_id, *(d[c] for c in COMPARED)).where(
                        codec.code_in([code for _n, code, _u, _v in batch])
                    )
                )
            ).all()
        }
        await units.load_paths({r[2] for r in existing.values()})
        when, load, now, person = codec.when, codec.load, self.now, self.person
        inserts: list[tuple[Any, ...]] = []
        new_status: dict[str, str] = {}
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        events: list[tuple[Any, ...]] = []
        for n, code, unit_code, values in batch:
            old = existing.get(code)
            target = units.target(unit_code, None if old is None else old[2])
            if isinstance(target, tuple):
                summary.reject(n, target[0], unit=target[1])
                continue
            name, procedure, mode, received, due, finished, status, post = values
            raw = (name, procedure, mode, when(received), when(due), when(finished), status, post)
            if old is None:
                inserts.append((*raw, code, target, "import", person, now, now))
                summary.stored(target, received, finished)
                new_status[code] = status
                continue
            if old[2] != target and not units.may_move(old[2], target):
                summary.reject(n, "nhap.row.other_unit", code=code)
                continue
            stored = Status(old[3 + STATUS_POS])
            if status == Status.WITHDRAWN and stored in _HAS_RESULT:
                # Not an older export: a dossier with a result can no longer be withdrawn.
                summary.reject(n, "nhap.row.withdrawn_after_result", code=code)
                continue
            if status not in REACHABLE[stored]:
                # An older export: its row would undo what happened since.
                summary.reject(n, f"nhap.row.status_back.{stored.value}", code=code)
                continue
            changed = {
                column: raw[i]
                for i, column in enumerate(COMPARED)
                if old[3 + i] != raw[i] and (i not in DATE_POS or _moved(load(old[3 + i]), values[i]))
            }
            summary.stored(target, received, finished)
            if not changed and old[2] == target:
                summary.unchanged += 1
                continue
            changed.update(unit_id=target, updated_at=now)
            updates.setdefault(tuple(changed), []).append(
                {"b_id": old[0], **{"v_" + k: v for k, v in changed.items()}}
            )
            if "status" in changed:
                events.append((old[0], now, old[3 + STATUS_POS], status, person, "import"))
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
