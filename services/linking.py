"""/lienket: link a second channel account (Telegram ↔ Zalo) to the same person, merging two
people into the older one when both already exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, UniqueConstraint, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.models import LinkCode, Person
from db.repositories import core as repo
from services.access import Actor
from services.errors import InvalidInput, NotFound
from services.invites import new_code, normalize_code

CODE_TTL = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Linked:
    person_id: int  # the person kept
    display_name: str
    merged: bool  # two people with their own history became one


async def issue(session: AsyncSession, actor: Actor, now: datetime) -> IssuedCode:
    """A fresh one-time code for this person; older unused codes stop working."""
    await session.execute(
        delete(LinkCode).where(LinkCode.person_id == actor.person_id, LinkCode.used_at.is_(None))
    )
    code = new_code()
    while (await session.execute(select(LinkCode.id).where(LinkCode.code == code))).first() is not None:
        code = new_code()
    session.add(LinkCode(code=code, person_id=actor.person_id, expires_at=now + CODE_TTL, created_at=now))
    await session.flush()
    return IssuedCode(code, now + CODE_TTL)


async def redeem(session: AsyncSession, actor: Actor, code: str, now: datetime) -> Linked:
    normal = normalize_code(code)
    row = (await session.execute(select(LinkCode).where(LinkCode.code == normal))).scalar_one_or_none()
    if row is None:
        raise NotFound("link.errors.unknown_code", code=normal)
    if row.used_at is not None:
        raise InvalidInput("link.errors.used", code=normal)
    if row.expires_at <= now:
        raise InvalidInput("link.errors.expired", code=normal)
    if row.person_id == actor.person_id:
        raise InvalidInput("link.errors.same_person")
    row.used_at = now
    first = await session.get(Person, row.person_id)
    second = await session.get(Person, actor.person_id)
    if first is None or second is None:
        raise NotFound("link.errors.unknown_code", code=normal)
    keep, drop = sorted((first, second), key=lambda p: (p.created_at, p.id))
    keep_id, keep_name, drop_id = keep.id, keep.display_name, drop.id
    had_history = bool(await repo.grants_of(session, drop_id))
    await merge_people(session, keep_id, drop_id)
    await repo.audit(
        session,
        keep_id,  # the other person no longer exists
        "person.link",
        f"person:{keep_id}",
        {"merged_person": drop_id, "had_roles": had_history},
    )
    return Linked(keep_id, keep_name, had_history)


async def merge_people(session: AsyncSession, keep: int, drop: int) -> None:
    """Move everything that points at `drop` to `keep` (every table with a foreign key to
    people, whichever feature owns it), then delete `drop`."""
    await session.flush()
    # The same role on the same unit twice would be noise: end the duplicate first.
    kept_roles = {(m.role, m.unit_id) for m, _u in await repo.grants_of(session, keep)}
    for m, _u in await repo.grants_of(session, drop):
        if (m.role, m.unit_id) in kept_roles:
            m.active = False
    await session.flush()
    people = Base.metadata.tables["people"]
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not people:
                continue
            col = fk.parent
            await _drop_conflicts(session, table, col, keep, drop)
            await session.execute(update(table).where(col == drop).values({col.name: keep}))
    await session.execute(delete(Person).where(Person.id == drop))
    session.expire_all()


async def _drop_conflicts(session: AsyncSession, table: object, col: object, keep: int, drop: int) -> None:
    """Rows of `drop` that would break a unique constraint once moved to `keep` are duplicates."""
    from sqlalchemy import Column, Table

    assert isinstance(table, Table) and isinstance(col, Column)
    groups = [c.columns for c in table.constraints if isinstance(c, UniqueConstraint)]
    groups += [i.columns for i in table.indexes if isinstance(i, Index) and i.unique]
    for columns in groups:
        if col.name not in columns:
            continue
        others = [c for c in columns if c.name != col.name]
        twin = table.alias("twin")
        clash = exists(
            select(twin.c[col.name]).where(twin.c[col.name] == keep, *(twin.c[o.name] == o for o in others))
        )
        await session.execute(delete(table).where(col == drop, clash))
