"""The queries every update runs (bot/intake.py): the dedupe mark and who is writing — kept apart
from the other core queries because they are the hot path (docs/benchmarks.md, "Update cost")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import ChannelAccount, DialogState, Membership, Person, ProcessedUpdate, Unit

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
class AccountBundle:
    """Everything the intake needs about the sender, fetched in one round trip."""

    account: ChannelAccount | None
    person: Person | None
    grants: list[tuple[Membership, Unit | None]]
    state: DialogState | None


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
    select(ChannelAccount, Person, Membership, Unit, DialogState)
    .join(Person, Person.id == ChannelAccount.person_id)
    .where(_ACCOUNT)
)


async def account_bundle(
    session: AsyncSession, channel: str, external_id: str, chat_id: str
) -> AccountBundle:
    """Account, person, active roles and the dialog state of (channel, chat, user) in one query."""
    params = {"channel": channel, "external_id": external_id, "chat_id": chat_id}
    rows = (await session.execute(_BUNDLE, params)).all()
    if not rows:
        return AccountBundle(None, None, [], None)
    account, person, _m, _u, state = rows[0]
    grants: list[tuple[Membership, Unit | None]] = [(m, u) for _a, _p, m, u, _s in rows if m is not None]
    return AccountBundle(account, person, grants, state)


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
        select(fresh, ChannelAccount, Person, Membership, Unit, DialogState)
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
        if not await mark_update_seen(session, key):
            return False, AccountBundle(None, None, [], None)
        return True, await account_bundle(session, channel, external_id, chat_id)
    params = {"key": key, "at": utcnow(), "channel": channel, "external_id": external_id, "chat_id": chat_id}
    rows = (await session.execute(_SEEN_AND_BUNDLE, params)).all()
    if not rows[0][0]:
        return False, AccountBundle(None, None, [], None)
    _fresh, account, person, _m, _u, state = rows[0]
    if account is None:
        return True, AccountBundle(None, None, [], None)
    grants: list[tuple[Membership, Unit | None]] = [(m, u) for _f, _a, _p, m, u, _s in rows if m is not None]
    return True, AccountBundle(account, person, grants, state)
