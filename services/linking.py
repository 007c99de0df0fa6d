"""/lienket: link a second channel account (Telegram ↔ Zalo) to the same person, merging two
people into the older one when both already exist.

Typing a code only asks: the code's owner confirms on their own account, seeing both accounts
with their roles; staff roles never reach an account silently (see `_check_roles`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, UniqueConstraint, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.models import ChannelAccount, LinkCode, Person
from db.repositories import core as repo
from services.access import Actor, Role
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.invites import new_code, normalize_code

CODE_TTL = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RoleHeld:
    role: Role
    unit_name: str | None


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    channel: str
    masked_id: str  # the last characters of the account's id, enough to recognise it


@dataclass(frozen=True, slots=True)
class Side:
    """One of the two people a link joins, as the other side is shown it."""

    person_id: int
    display_name: str
    roles: tuple[RoleHeld, ...]
    accounts: tuple[AccountView, ...]


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """A typed code, waiting for the code's owner to confirm on their own account."""

    code_id: int
    owner: Side
    requester: Side


@dataclass(frozen=True, slots=True)
class Linked:
    person_id: int  # the person kept
    display_name: str
    merged: bool  # two people with their own history became one
    other_person_id: int  # the requester (or owner) that no longer exists on its own


@dataclass(frozen=True, slots=True)
class Unlinked:
    account: AccountView
    new_person_id: int


def _mask(external_id: str) -> str:
    return "…" + external_id[-4:] if len(external_id) > 4 else external_id


async def accounts(session: AsyncSession, person_id: int) -> tuple[AccountView, ...]:
    """Every channel account of a person (what /toi lists)."""
    return tuple(
        AccountView(a.id, a.channel, _mask(a.external_id)) for a in await repo.accounts_of(session, person_id)
    )


async def side(session: AsyncSession, person_id: int) -> Side:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("link.errors.unknown_code", code="")
    held = tuple(
        RoleHeld(Role(m.role), u.name if u else None) for m, u in await repo.grants_of(session, person_id)
    )
    return Side(person.id, person.display_name, held, await accounts(session, person_id))


def _staff(s: Side) -> frozenset[tuple[Role, str | None]]:
    return frozenset((r.role, r.unit_name) for r in s.roles if r.role is not Role.CITIZEN)


def _check_roles(owner: Side, requester: Side) -> None:
    """Roles only ever flow from the side that confirms (the code's owner, who sees both
    accounts): a requester holding roles the owner lacks must link the other way round, and two
    different sets of staff roles are an administrator's decision."""
    mine, theirs = _staff(owner), _staff(requester)
    if mine and theirs and mine != theirs:
        raise PermissionDenied("link.errors.roles_differ")
    if theirs - mine:
        raise PermissionDenied("link.errors.roles_on_this_side")


def _check_channels(owner: Side, requester: Side) -> None:
    """A link joins one person's accounts on *different* channels (Telegram ↔ Zalo). Two accounts
    on the same channel are two people — a code passed between colleagues merged one volunteer into
    another, name, sessions and all."""
    if {a.channel for a in owner.accounts} & {a.channel for a in requester.accounts}:
        raise InvalidInput("link.errors.same_channel")


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


async def request(session: AsyncSession, actor: Actor, code: str, now: datetime) -> LinkRequest:
    """The code is typed on the second account: nothing is linked yet, the owner must confirm."""
    normal = normalize_code(code)
    row = (await session.execute(select(LinkCode).where(LinkCode.code == normal))).scalar_one_or_none()
    if row is None:
        raise NotFound("link.errors.unknown_code", code=normal)
    if row.used_at is not None or row.claimed_by is not None:
        raise InvalidInput("link.errors.used", code=normal)
    if row.expires_at <= now:
        raise InvalidInput("link.errors.expired", code=normal)
    if row.person_id == actor.person_id:
        raise InvalidInput("link.errors.same_person")
    owner, requester = await side(session, row.person_id), await side(session, actor.person_id)
    _check_roles(owner, requester)
    _check_channels(owner, requester)
    row.claimed_by, row.claimed_at = actor.person_id, now
    # The owner has the code's remaining lifetime, at least CODE_TTL, to answer.
    row.expires_at = max(row.expires_at, now + CODE_TTL)
    await repo.audit(
        session,
        actor.person_id,
        "person.link_request",
        f"person:{owner.person_id}",
        {"owner": owner.person_id, "requester": actor.person_id, "code_id": row.id},
    )
    await session.flush()
    return LinkRequest(row.id, owner, requester)


async def _pending(session: AsyncSession, actor: Actor, code_id: int, now: datetime) -> LinkCode:
    row = await session.get(LinkCode, code_id)
    if row is None or row.person_id != actor.person_id or row.claimed_by is None:
        raise PermissionDenied(action="link_confirm")
    if row.used_at is not None:
        raise InvalidInput("link.errors.used", code=row.code)
    if row.expires_at <= now:
        raise InvalidInput("link.errors.expired", code=row.code)
    return row


async def reject(session: AsyncSession, actor: Actor, code_id: int, now: datetime) -> int:
    """The owner says no: the code is burnt; returns the requester's person id."""
    row = await _pending(session, actor, code_id, now)
    row.used_at = now
    requester = row.claimed_by
    assert requester is not None
    await repo.audit(
        session,
        actor.person_id,
        "person.link_rejected",
        f"person:{requester}",
        {"owner": actor.person_id, "requester": requester, "code_id": row.id},
    )
    return requester


async def confirm(session: AsyncSession, actor: Actor, code_id: int, now: datetime) -> Linked:
    """The owner says yes on their own account: the two people become one."""
    row = await _pending(session, actor, code_id, now)
    assert row.claimed_by is not None
    owner, requester = await side(session, row.person_id), await side(session, row.claimed_by)
    _check_roles(owner, requester)  # roles and accounts may have changed since the code was typed
    _check_channels(owner, requester)
    row.used_at = now
    first = await session.get(Person, owner.person_id)
    second = await session.get(Person, requester.person_id)
    assert first is not None and second is not None
    keep, drop = sorted((first, second), key=lambda p: (p.created_at, p.id))
    keep_id, keep_name, drop_id = keep.id, keep.display_name, drop.id
    had_history = bool(await repo.grants_of(session, drop_id))
    await merge_people(session, keep_id, drop_id)
    for who in (owner, requester):
        await repo.audit(
            session,
            keep_id,  # the owner who confirmed, under the id that remains
            "person.link",
            f"person:{who.person_id}",
            {
                "kept": keep_id,
                "merged_person": drop_id,
                "owner": owner.person_id,
                "requester": requester.person_id,
                "owner_accounts": [f"{a.channel}:{a.masked_id}" for a in owner.accounts],
                "requester_accounts": [f"{a.channel}:{a.masked_id}" for a in requester.accounts],
                "roles": sorted(f"{r}@{u}" for r, u in _staff(owner) | _staff(requester)),
                "had_roles": had_history,
            },
        )
    other = requester.person_id if keep_id == owner.person_id else owner.person_id
    return Linked(keep_id, keep_name, had_history, other)


async def unlink(session: AsyncSession, actor: Actor, account_id: int, current: tuple[str, str]) -> Unlinked:
    """`/lienket huy`: detach one of my other accounts; it becomes a new person with no role."""
    account = await session.get(ChannelAccount, account_id)
    if account is None or account.person_id != actor.person_id:
        raise NotFound("link.errors.unknown_account")
    if (account.channel, account.external_id) == current:
        raise InvalidInput("link.errors.unlink_current")
    person = await session.get(Person, actor.person_id)
    assert person is not None
    fresh = await repo.add_person(session, person.display_name, person.locale)
    account.person_id = fresh.id
    view = AccountView(account.id, account.channel, _mask(account.external_id))
    for target in (actor.person_id, fresh.id):
        await repo.audit(
            session,
            actor.person_id,
            "person.unlink",
            f"person:{target}",
            {"from": actor.person_id, "to": fresh.id, "account": f"{view.channel}:{view.masked_id}"},
        )
    await session.flush()
    return Unlinked(view, fresh.id)


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
