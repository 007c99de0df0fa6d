"""The queries every update runs (bot/intake.py): the dedupe mark and who is writing — kept apart
from the other core queries because they are the hot path (docs/benchmarks.md, "Update cost")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from db.base import utcnow
from db.models import ChannelAccount, DialogState, Membership, Person, ProcessedUpdate, Unit
from db.sqlite_fast import FastStatement, inline_sqlite

# Built once per dialect with bound parameters (every update runs it; building it cost a third of
# running it).
_SEEN = {
    name: insert_fn(ProcessedUpdate)
    .values(key=bindparam("key"), processed_at=bindparam("at"))
    .on_conflict_do_nothing(index_elements=["key"])
    for name, insert_fn in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


async def mark_update_seen(session: AsyncSession, key: str) -> bool:
    """Insert the update key; False when it was already there (a duplicate delivery)."""
    conn = await session.connection()  # Core: a dict of parameters is not an ORM bulk insert here
    result = await conn.execute(_SEEN[conn.dialect.name], {"key": key, "at": utcnow()})
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class Sender:
    """The person behind the channel account (plain values: nothing on the hot path needs the ORM
    object, and building one per update cost more than the query's other rows)."""

    person_id: int
    display_name: str
    locale: str | None


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A grant's unit as the inline SQLite path reads it (plain values, not an ORM object)."""

    id: int
    code: str
    name: str
    path: str


@dataclass(frozen=True, slots=True)
class StateRow:
    """The chat's dialog state as it was read (the intake writes it back with `save_state`)."""

    name: str | None
    data: dict[str, Any] | None
    menu: list[Any] | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountBundle:
    """Everything the intake needs about the sender, fetched in one round trip. `person` is None
    when the channel account is unknown (then `state` was not looked at). The units of the
    grants are ORM objects: services ask `session.get(Unit, …)` for them, which the identity map
    then answers without a query."""

    person: Sender | None
    grants: list[tuple[str, Unit | UnitRef | None]]  # (role, unit) of each active membership, in order
    state: StateRow | None


_EMPTY = AccountBundle(None, [], None)

# The bundle's columns: the account's presence, the person, each active role with its unit, the
# state row (its primary key column says whether there is one).
_COLUMNS = (
    ChannelAccount.person_id,
    Person.display_name,
    Person.locale,
    Membership.role,
    Unit,
    DialogState.channel,
    DialogState.name,
    DialogState.data,
    DialogState.menu,
    DialogState.updated_at,
)


def _roles_and_state(stmt: Any) -> Any:
    """The sender's active roles (with their units) and the chat's dialog state, joined to a
    statement that has ChannelAccount and Person."""
    return (
        stmt.outerjoin(Membership, (Membership.person_id == Person.id) & Membership.active.is_(True))
        .outerjoin(Unit, Unit.id == Membership.unit_id)
        .outerjoin(
            DialogState,
            (DialogState.channel == bindparam("channel"))
            & (DialogState.chat_id == bindparam("chat_id"))
            & (DialogState.user_id == bindparam("external_id"))
            & ChannelAccount.id.is_not(None),
        )
        .order_by(Membership.id)
    )


_ACCOUNT = (ChannelAccount.channel == bindparam("channel")) & (
    ChannelAccount.external_id == bindparam("external_id")
)

# Built once with bound parameters: building it anew for every update cost about as much as
# running it.
_BUNDLE = _roles_and_state(
    select(*_COLUMNS).join(Person, Person.id == ChannelAccount.person_id).where(_ACCOUNT)
)


# The same on the inline SQLite connection (db/sqlite_fast.py): the grant's unit as four plain
# columns (services ask the session for a Unit when they need one).
_UNIT_COLUMNS = (Unit.id, Unit.code, Unit.name, Unit.path)
_FAST_SEEN = FastStatement(_SEEN["sqlite"])
_FAST_BUNDLE = FastStatement(
    _roles_and_state(
        select(*_COLUMNS[:4], *_UNIT_COLUMNS, *_COLUMNS[5:])
        .join(Person, Person.id == ChannelAccount.person_id)
        .where(_ACCOUNT)
    )
)


def _bundle(rows: Sequence[Any], at: int = 0, unit_columns: int = 1) -> AccountBundle:
    """Rows whose columns from index `at` on are `_COLUMNS` → the bundle; with `unit_columns=4` the
    grant's unit is `_UNIT_COLUMNS` (the inline SQLite statement) rather than one ORM `Unit`."""
    first = rows[0]
    if first[at] is None:
        return _EMPTY
    role, u = at + 3, at + 4

    def unit(r: Any) -> Unit | UnitRef | None:
        if unit_columns == 1 or r[u] is None:
            return cast("Unit | None", r[u])
        return UnitRef(r[u], r[u + 1], r[u + 2], r[u + 3])

    grants = [(r[role], unit(r)) for r in rows if r[role] is not None]
    s = u + unit_columns
    state = StateRow(first[s + 1], first[s + 2], first[s + 3], first[s + 4]) if first[s] is not None else None
    return AccountBundle(Sender(first[at], first[at + 1], first[at + 2]), grants, state)


def _fast_bundle(rows: Sequence[Any]) -> AccountBundle:
    """`_bundle` for `_FAST_BUNDLE`'s rows (the unit in four columns)."""
    return _bundle(rows, unit_columns=4)


async def account_bundle(
    session: AsyncSession, channel: str, external_id: str, chat_id: str
) -> AccountBundle:
    """Person, active roles and the dialog state of (channel, chat, user) in one query."""
    params = {"channel": channel, "external_id": external_id, "chat_id": chat_id}
    rows = (await session.execute(_BUNDLE, params)).all()
    return _bundle(rows) if rows else _EMPTY


def _seen_and_bundle() -> Any:
    """PostgreSQL: the dedupe mark and the sender bundle in ONE statement (a round trip is the
    dearest part of an update there): the INSERT runs as a data-modifying CTE whose RETURNING row
    says whether the key was new, beside the bundle's rows, outer-joined to one row so that an
    unknown sender still returns the flag."""
    seen = (
        pg_insert(ProcessedUpdate)
        .values(key=bindparam("key"), processed_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ProcessedUpdate.key)
        .cte("seen")
    )
    fresh = select(func.count()).select_from(seen).scalar_subquery().label("fresh")
    one = select(literal(1).label("one")).subquery("one")
    return _roles_and_state(
        select(fresh, *_COLUMNS)
        .select_from(one)
        .outerjoin(ChannelAccount, _ACCOUNT)
        .outerjoin(Person, Person.id == ChannelAccount.person_id)
    )


_SEEN_AND_BUNDLE = _seen_and_bundle()


async def mark_seen_and_bundle(
    session: AsyncSession, key: str, channel: str, external_id: str, chat_id: str
) -> tuple[bool, AccountBundle]:
    """`mark_update_seen` then `account_bundle`: (False, empty) for a duplicate delivery. One round
    trip on PostgreSQL; two statements on SQLite (no data-modifying CTEs there; inline, no cost)."""
    if session.get_bind().dialect.name != "postgresql":
        if (inline := await inline_sqlite(session)) is not None:
            db, dialect = inline
            if not _FAST_SEEN.rowcount(db, dialect, {"key": key, "at": utcnow()}):
                return False, _EMPTY
            who = {"channel": channel, "external_id": external_id, "chat_id": chat_id}
            found = _FAST_BUNDLE.rows(db, dialect, who)
            return True, _fast_bundle(found) if found else _EMPTY
        if not await mark_update_seen(session, key):
            return False, _EMPTY
        return True, await account_bundle(session, channel, external_id, chat_id)
    params = {"key": key, "at": utcnow(), "channel": channel, "external_id": external_id, "chat_id": chat_id}
    rows = (await session.execute(_SEEN_AND_BUNDLE, params)).all()
    if not rows[0][0]:
        return False, _EMPTY
    return True, _bundle(rows, 1)


# `Session.info` key: the (channel, user id) pairs whose dialog states this transaction deleted
# (services.revocation.forget_dialogs); the intake then has no read state row left to update.
FORGOTTEN_DIALOGS = "tocns.forgotten_dialogs"

# The chat's dialog state written back through Core (the ORM's unit of work cost more than the
# statement): built once, with bound parameters.
_STATE = cast(Table, DialogState.__table__)
_STATE_INSERT = insert(_STATE).values(
    channel=bindparam("channel"),
    chat_id=bindparam("chat_id"),
    user_id=bindparam("user_id"),
    name=bindparam("name"),
    data=bindparam("data"),
    menu=bindparam("menu"),
    updated_at=bindparam("at"),
)
_STATE_UPDATE = (
    update(_STATE)
    .where(
        (_STATE.c.channel == bindparam("k_channel"))
        & (_STATE.c.chat_id == bindparam("k_chat_id"))
        & (_STATE.c.user_id == bindparam("k_user_id"))
    )
    .values(
        name=bindparam("name"), data=bindparam("data"), menu=bindparam("menu"), updated_at=bindparam("at")
    )
)
_FAST_STATE = {stmt: FastStatement(stmt) for stmt in (_STATE_INSERT, _STATE_UPDATE)}


async def save_state(
    session: AsyncSession,
    was: StateRow | None,
    channel: str,
    chat_id: str,
    user_id: str,
    name: str | None,
    data: dict[str, Any],
    menu: list[Any],
    now: datetime,
) -> None:
    """Write the dialog state the bundle read as `was` (None: there was no row) — what
    db.repositories.core.save_dialog_state does, without loading the row: nothing open before nor
    after is no write; a row that vanished meanwhile fails like the ORM's flush would (StaleDataError,
    the update is answered with an error and not half-stored); a row that appeared meanwhile is an
    IntegrityError (the intake runs the update once more)."""
    stmt: Executable
    if was is None:
        if name is None and not menu:
            return
        stmt = _STATE_INSERT
        keys = {"channel": channel, "chat_id": chat_id, "user_id": user_id}
    elif name is None and was.name is None and not menu and not was.menu:
        return
    else:
        stmt = _STATE_UPDATE
        keys = {"k_channel": channel, "k_chat_id": chat_id, "k_user_id": user_id}
    params = {**keys, "name": name, "data": data, "menu": menu, "at": now}
    if (inline := await inline_sqlite(session)) is not None:
        count = _FAST_STATE[stmt].rowcount(*inline, params)
    else:
        count = (await (await session.connection()).execute(stmt, params)).rowcount
    if was is not None and count != 1:
        raise StaleDataError(f"dialog state of {channel}:{chat_id}:{user_id} was deleted meanwhile")
