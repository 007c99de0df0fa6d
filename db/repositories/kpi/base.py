"""KPI queries, the common part: the scope of a query (a unit subtree, `units.path LIKE
'prefix%'`), grouping by the ancestor N levels below its root, and the value types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    literal,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Unit,
)

ONLINE_MODES = ("full_online", "partial_online")
Measures = dict[str, float]
ALL = "/"  # base path meaning "every unit of the installation" (one pass over all roots)
TOTAL = "*"  # key of the whole-subtree row when grouped rows are asked `with_total`


@dataclass(frozen=True, slots=True)
class Span:
    """A period in UTC: [start, end); `cap` = min(end, now) for "overdue at the end" counts."""

    start: datetime
    end: datetime
    cap: datetime
    first_week: date  # Monday of the first week whose weekly report belongs to the period
    end_week: date  # exclusive
    # (week_start, deadline) for every week whose report deadline has passed by `now`.
    due_weeks: tuple[tuple[date, datetime], ...]
    # (week_start, deadline) for the period's other weeks (deadline still ahead).
    pending_weeks: tuple[tuple[date, datetime], ...] = ()
    # (week_start, the instant the week begins in UTC) for every week of due_weeks and pending_weeks:
    # a commune owes the report of a week only if it existed when that week began.
    week_begins: tuple[tuple[date, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    path: str
    parent_id: int | None
    closed: bool = False  # a team closed since: kept in a period's table when it had work in it


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def subtree(session: AsyncSession, path: str) -> ColumnElement[bool]:
    """Units in the subtree rooted at `path` (ALL = every unit); on SQLite add a binary range so the
    index is used. The prefix is rendered inline: PostgreSQL plans `LIKE $1` without knowing the
    prefix once it switches a prepared statement to a generic plan, and then reads every unit."""
    if path == ALL:
        return true()
    cond: ColumnElement[bool] = Unit.path.like(bindparam(None, path + "%", literal_execute=True))
    if dialect_name(session) == "sqlite":
        cond = and_(
            cond,
            Unit.path >= bindparam(None, path, literal_execute=True),
            Unit.path < bindparam(None, path[:-1] + "0", literal_execute=True),
        )
    return cond


@asynccontextmanager
async def analytics(session: AsyncSession) -> AsyncIterator[None]:
    """Around the KPI aggregates: PostgreSQL's JIT off for the while (restored after). The per-unit
    plans are costed high enough to trigger JIT compilation, which takes longer than the queries."""
    if dialect_name(session) != "postgresql":
        yield
        return
    get_and_set = text("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    old = (await session.execute(get_and_set)).one()[0]
    yield
    # Not in a `finally`: after a database error the transaction is aborted (and SET LOCAL with it).
    await session.execute(text("SELECT set_config('jit', :old, true)"), {"old": old})


def per_unit(session: AsyncSession, base_path: str) -> bool:
    """Read a subtree's rows unit by unit (LATERAL, per-unit indexes)? On PostgreSQL, for a subtree:
    joined, it costs reading the whole country's period through the time indexes (or every
    membership) as cheaper than ~2,000 index probes, and is many times slower at national scale.
    SQLite already loops over the subtree's units; the whole installation (ALL) reads by time."""
    return dialect_name(session) == "postgresql" and base_path != ALL


def group_key(session: AsyncSession, base_path: str, levels: int) -> ColumnElement[Any]:
    """The id (as text) of the ancestor `levels` below the subtree root, from a unit's path."""
    if levels == 0:
        return literal("")
    rest: ColumnElement[Any] = func.substr(Unit.path, len(base_path) + 1)
    if dialect_name(session) == "postgresql":
        return func.split_part(rest, "/", levels)
    for _ in range(levels - 1):
        rest = func.substr(rest, func.instr(rest, "/") + 1)
    return func.substr(rest, 1, func.instr(rest, "/") - 1)


def as_float(value: Any) -> float:
    return float(value or 0)


async def grouped_rows(
    session: AsyncSession,
    stmt: Any,
    key: ColumnElement[Any],
    levels: int,
    names: list[str],
    total: bool = False,
) -> dict[str, Measures]:
    """Run `select(key, *aggregates)`: one row per group when levels > 0, plus (total=True) the
    same aggregates over the whole subtree under the key TOTAL, in the same statement."""
    if levels:
        grouped = stmt.group_by(key)
        if total:
            whole = stmt.with_only_columns(literal(TOTAL), *list(stmt.selected_columns)[1:])
            grouped = union_all(grouped, whole)
        stmt = grouped
    out: dict[str, Measures] = {}
    for row in (await session.execute(stmt)).all():
        out[str(row[0])] = {n: as_float(v) for n, v in zip(names, row[1:], strict=True)}
    return out
