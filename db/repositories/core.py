"""Queries on the core tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    AuditLog,
    ChannelAccount,
    DialogState,
    FaqQuestion,
    Membership,
    OutboxMessage,
    Person,
    ProcessedUpdate,
    Unit,
)


def _insert(session: AsyncSession, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def _count_question(insert_fn: Any) -> Any:
    return (
        insert_fn(FaqQuestion)
        .values(
            normalized=bindparam("normalized"),
            count=1,
            verdict=bindparam("verdict"),
            answered_entry=bindparam("entry"),
            first_at=bindparam("now"),
            last_at=bindparam("now"),
        )
        .on_conflict_do_update(
            index_elements=["normalized"],
            set_={
                "count": FaqQuestion.count + 1,
                "last_at": bindparam("now"),
                "verdict": bindparam("verdict"),
                "answered_entry": bindparam("entry"),
            },
        )
    )


# Built once per dialect with bound parameters (every question asked runs it).
_COUNT_QUESTION = {"postgresql": _count_question(pg_insert), "sqlite": _count_question(sqlite_insert)}


async def count_question(
    session: AsyncSession, normalized: str, verdict: str, entry_id: str | None, now: datetime
) -> None:
    """Add one to a question's count (a new row at 1) in one statement, safe under concurrency."""
    conn = await session.connection()  # Core: a dict of parameters is not an ORM bulk insert here
    params = {"normalized": normalized, "verdict": verdict, "entry": entry_id, "now": now}
    await conn.execute(_COUNT_QUESTION[conn.dialect.name], params)


async def prune_processed(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- people and accounts -------------------------------------------------------------------


async def find_account(session: AsyncSession, channel: str, external_id: str) -> ChannelAccount | None:
    stmt = select(ChannelAccount).where(
        ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def accounts_of_many(session: AsyncSession, person_ids: list[int]) -> dict[int, list[ChannelAccount]]:
    """Every account of each person, in a few queries (jobs resolve all recipients at once)."""
    out: dict[int, list[ChannelAccount]] = {}
    for i in range(0, len(person_ids), 500):
        stmt = (
            select(ChannelAccount)
            .where(ChannelAccount.person_id.in_(person_ids[i : i + 500]))
            .order_by(ChannelAccount.id)
        )
        for account in (await session.execute(stmt)).scalars():
            out.setdefault(account.person_id, []).append(account)
    return out


async def accounts_of(session: AsyncSession, person_id: int) -> list[ChannelAccount]:
    stmt = select(ChannelAccount).where(ChannelAccount.person_id == person_id).order_by(ChannelAccount.id)
    return list((await session.execute(stmt)).scalars())


async def add_person(session: AsyncSession, display_name: str, locale: str | None = None) -> Person:
    person = Person(display_name=display_name, locale=locale, created_at=utcnow())
    session.add(person)
    await session.flush()
    return person


async def add_account(
    session: AsyncSession, person_id: int, channel: str, external_id: str, chat_id: str
) -> ChannelAccount:
    account = ChannelAccount(
        person_id=person_id, channel=channel, external_id=external_id, chat_id=chat_id, created_at=utcnow()
    )
    session.add(account)
    await session.flush()
    return account


async def grants_of(session: AsyncSession, person_id: int) -> list[tuple[Membership, Unit | None]]:
    stmt = (
        select(Membership, Unit)
        .outerjoin(Unit, Unit.id == Membership.unit_id)
        .where(Membership.person_id == person_id, Membership.active.is_(True))
        .order_by(Membership.id)
    )
    return [(m, u) for m, u in (await session.execute(stmt)).all()]


async def members_with_role(
    session: AsyncSession, unit_id: int, roles: tuple[str, ...]
) -> list[tuple[Person, Membership]]:
    stmt = (
        select(Person, Membership)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.unit_id == unit_id, Membership.role.in_(roles), Membership.active.is_(True))
        .order_by(Person.display_name)
    )
    return [(p, m) for p, m in (await session.execute(stmt)).all()]


# --- units ---------------------------------------------------------------------------------


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    return (await session.execute(select(Unit).where(Unit.code == code))).scalar_one_or_none()


async def units_by_codes(session: AsyncSession, codes: Iterable[str]) -> dict[str, Unit]:
    """The units of these codes that exist, by code (in chunks: SQLite limits bound parameters)."""
    wanted = sorted(set(codes))
    found: dict[str, Unit] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for unit in (await session.execute(select(Unit).where(Unit.code.in_(chunk)))).scalars():
            found[unit.code] = unit
    return found


async def unit_by_id(session: AsyncSession, unit_id: int) -> Unit | None:
    return await session.get(Unit, unit_id)


async def add_unit(session: AsyncSession, code: str, name: str, kind: str, parent: Unit | None) -> Unit:
    unit = Unit(
        code=code,
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        depth=(parent.depth + 1) if parent else 0,
        path="",
        active=True,
        created_at=utcnow(),
    )
    session.add(unit)
    await session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await session.flush()
    return unit


async def children(session: AsyncSession, unit_id: int, *, active_only: bool = True) -> list[Unit]:
    stmt = select(Unit).where(Unit.parent_id == unit_id)
    if active_only:
        stmt = stmt.where(Unit.active.is_(True))
    return list((await session.execute(stmt.order_by(Unit.name))).scalars())


async def count_units(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Unit))).scalar_one())


# --- dialog state --------------------------------------------------------------------------


async def load_dialog_state(
    session: AsyncSession, channel: str, chat_id: str, user_id: str
) -> DialogState | None:
    return await session.get(DialogState, (channel, chat_id, user_id))


async def save_dialog_state(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    user_id: str,
    name: str | None,
    data: dict[str, Any],
    menu: list[Any],
    now: datetime | None = None,
) -> None:
    row = await session.get(DialogState, (channel, chat_id, user_id))
    if row is None:
        if name is None and not menu:
            return
        row = DialogState(channel=channel, chat_id=chat_id, user_id=user_id)
        session.add(row)
    elif name is None and row.name is None and not menu and not row.menu:
        return  # nothing open before or after: no write
    row.name = name
    row.data = data
    row.menu = menu
    row.updated_at = now or utcnow()


async def set_menu(session: AsyncSession, channel: str, chat_id: str, user_id: str, menu: list[Any]) -> None:
    """Remember numbered options shown by a push, keeping whatever dialog the user is in."""
    row = await session.get(DialogState, (channel, chat_id, user_id))
    if row is None:
        row = DialogState(channel=channel, chat_id=chat_id, user_id=user_id, name=None, data={})
        session.add(row)
    row.menu = menu


# --- outbox --------------------------------------------------------------------------------


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Add outbox rows in one statement, skipping idempotency keys already there; rows added.
    Each row: idempotency_key, kind, channel, chat_id, person_id, payload."""
    if not rows:
        return 0
    now = utcnow()
    values = [
        {**r, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now} for r in rows
    ]
    # One cached single-row statement run over all rows ("insertmanyvalues": batched multi-row
    # VALUES on the wire); the returned ids are the rows actually added.
    stmt = (
        _insert(session, OutboxMessage)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    result = await session.execute(stmt, values)
    return len(result.all())


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    channel: str,
    chat_id: str,
    payload: dict[str, Any],
    person_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Add an outbox row unless one with the same idempotency key exists; True if added."""
    now = utcnow()
    stmt = _insert(session, OutboxMessage).values(
        idempotency_key=key,
        kind=kind,
        channel=channel,
        chat_id=chat_id,
        person_id=person_id,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int, channels: tuple[str, ...]
) -> list[OutboxMessage]:
    """Claim due pending rows for this worker; SKIP LOCKED lets several workers share the queue."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(channels),
            (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list((await session.execute(stmt)).scalars())
    for row in rows:
        row.claimed_until = lease_until
    await session.flush()
    return rows


async def unclaim(session: AsyncSession, row_ids: list[int]) -> None:
    """Give claimed rows back (still pending, due as they were): another worker, or this one after
    a restart, takes them at once instead of after the lease."""
    if row_ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "pending")
            .values(claimed_until=None)
        )


async def outbox_row(session: AsyncSession, row_id: int) -> OutboxMessage | None:
    return await session.get(OutboxMessage, row_id)


async def outbox_summary(session: AsyncSession) -> list[tuple[str, str, int]]:
    stmt = (
        select(OutboxMessage.kind, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.kind, OutboxMessage.status)
        .order_by(OutboxMessage.kind, OutboxMessage.status)
    )
    return [(k, s, int(n)) for k, s, n in (await session.execute(stmt)).all()]


async def release_claims(session: AsyncSession) -> None:
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "pending").values(claimed_until=None)
    )


# --- audit ---------------------------------------------------------------------------------


async def audit(
    session: AsyncSession, actor_id: int | None, action: str, target: str | None, details: dict[str, Any]
) -> None:
    session.add(AuditLog(actor_id=actor_id, action=action, target=target, details=details, at=utcnow()))
