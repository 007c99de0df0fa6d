"""People and their channel accounts: who is talking, and with which roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Person, Unit
from db.repositories import core as repo
from db.repositories import updates
from services import units
from services.access import Actor, Grant, Role
from services.errors import InvalidInput, NotFound
from services.units import UnitView

# Every channel an account can be on (db.models.ChannelAccount.channel); an account on any other
# name could never be matched by a message, so granting it a role would grant nobody.
CHANNELS = ("telegram", "zalo_bot", "zalo_oa", "console")


def check_channel(channel: str) -> None:
    """Refuse a channel name no account can be on (`tocns users grant --channel zalo`)."""
    if channel not in CHANNELS:
        raise InvalidInput("errors.unknown_channel", channel=channel, choices=", ".join(CHANNELS))


@dataclass(frozen=True, slots=True)
class AccountRef:
    """Where to reach a person on one channel."""

    channel: str
    chat_id: str


def _actor(
    person_id: int,
    display_name: str,
    locale: str | None,
    rows: Sequence[tuple[str, Unit | updates.UnitRef | None]],
) -> Actor:
    """`rows`: (role, unit) of each active membership, in grant order."""
    grants = tuple(
        Grant(
            role=Role(role),
            unit_id=u.id if u else None,
            unit_code=u.code if u else None,
            unit_name=u.name if u else None,
            unit_path=u.path if u else None,
        )
        for role, u in rows
    )
    return Actor(person_id=person_id, display_name=display_name, locale=locale, grants=grants)


async def actor_for(session: AsyncSession, person: Person) -> Actor:
    rows = [(m.role, u) for m, u in await repo.grants_of(session, person.id)]
    return _actor(person.id, person.display_name, person.locale, rows)


async def resolve(
    session: AsyncSession,
    channel: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    *,
    bundle: updates.AccountBundle | None = None,
) -> tuple[Actor, bool]:
    """Find or create the person behind a channel account; returns (actor, created).

    `bundle` (from db.repositories.updates) saves the look-up queries on the hot path."""
    if bundle is not None and (sender := bundle.person) is not None:
        return _actor(sender.person_id, sender.display_name, sender.locale, bundle.grants), False
    account = await repo.find_account(session, channel, external_id)
    if account is not None:
        person = await session.get(Person, account.person_id)
        assert person is not None
        return await actor_for(session, person), False
    name = (display_name or "").strip()[:120] or "Người dùng"
    person = await repo.add_person(session, name)
    # A group chat id is never a push address: private chat of a user is their own id.
    await repo.add_account(
        session, person.id, channel, external_id, external_id if chat_id == "" else chat_id
    )
    return await actor_for(session, person), True


async def load_actor(session: AsyncSession, person_id: int) -> Actor:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(what="person")
    return await actor_for(session, person)


async def set_locale(session: AsyncSession, person_id: int, locale: str) -> None:
    if locale not in ("vi", "en"):
        raise InvalidInput("errors.bad_locale", value=locale)
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(what="person")
    person.locale = locale


async def rename(session: AsyncSession, person_id: int, display_name: str) -> None:
    name = display_name.strip()
    if not (1 <= len(name) <= 120):
        raise InvalidInput("errors.bad_name")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(what="person")
    person.display_name = name


async def reach(session: AsyncSession, person_id: int) -> list[AccountRef]:
    """Every channel address of a person, for pushes."""
    return [AccountRef(a.channel, a.chat_id) for a in await repo.accounts_of(session, person_id)]


async def reach_many(session: AsyncSession, person_ids: list[int]) -> dict[int, list[AccountRef]]:
    """`reach` for many people at once."""
    found = await repo.accounts_of_many(session, person_ids)
    return {p: [AccountRef(a.channel, a.chat_id) for a in accounts] for p, accounts in found.items()}


async def account_person(
    session: AsyncSession, channel: str, external_id: str, display_name: str | None = None
) -> Person:
    """The person behind a channel account, created with it when new; a given name renames them."""
    account = await repo.find_account(session, channel, external_id)
    if account is None:
        person = await repo.add_person(session, display_name or external_id)
        await repo.add_account(session, person.id, channel, external_id, external_id)
        return person
    found = await session.get(Person, account.person_id)
    assert found is not None
    if display_name:
        found.display_name = display_name
    return found


class GrantOutcome(StrEnum):
    GRANTED = "granted"
    LEADS_TEAM = "leads_team"  # volunteer for the team's leader: a leader is in the team already


@dataclass(frozen=True, slots=True)
class Granted:
    """What the operator's grant did (`tocns users grant`), for the line it prints."""

    person: Person
    outcome: GrantOutcome
    unit: UnitView | None


async def grant(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    role: Role,
    unit_code: str | None,
    display_name: str | None = None,
    actor_id: int | None = None,
) -> Granted:
    """Give a role to the person behind a channel account (creating them), on the kind of unit the
    role is held for, as an invite code would (services.units.check_role_unit), and never on a
    closed unit; refused before anything is written. A team leader role is a hand-over
    (services.membership_changes.grant_team_leader): one leader per team. A team's leader is in the
    team already: volunteer for them changes nothing (`LEADS_TEAM`), as their invite would."""
    from db.models import Membership

    check_channel(channel)
    if role is Role.TEAM_LEADER and unit_code:
        # Imported here: membership_changes builds on this module (through invites).
        from services import membership_changes

        done = await membership_changes.grant_team_leader(
            session,
            channel=channel,
            external_id=external_id,
            unit_code=unit_code,
            display_name=display_name,
            now=utcnow(),
        )
        leader = await session.get(Person, done.member.person_id)
        assert leader is not None
        return Granted(leader, GrantOutcome.GRANTED, done.team)
    unit = None
    if unit_code:
        unit = await repo.unit_by_code(session, unit_code)
        if unit is None:
            raise NotFound("errors.unit_not_found", code=unit_code)
    elif role not in (Role.ADMIN, Role.CITIZEN):
        raise InvalidInput("errors.unit_required", role=role.value)
    where = units.view(unit) if unit else None
    units.check_role_unit(role, where)
    person = await account_person(session, channel, external_id, display_name)
    held = [
        m for m, _u in await repo.grants_of(session, person.id) if m.unit_id == (unit.id if unit else None)
    ]
    if role is Role.VOLUNTEER and any(m.role == Role.TEAM_LEADER.value for m in held):
        return Granted(person, GrantOutcome.LEADS_TEAM, where)
    if not any(m.role == role.value for m in held):
        session.add(Membership(person_id=person.id, unit_id=unit.id if unit else None, role=role.value))
        await repo.audit(
            session,
            actor_id,
            "role.grant",
            f"person:{person.id}",
            {"role": role.value, "unit": unit_code, "channel": channel},
        )
    await session.flush()
    return Granted(person, GrantOutcome.GRANTED, where)


async def grant_role(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    role: Role,
    unit_code: str | None,
    display_name: str | None = None,
    actor_id: int | None = None,
) -> Person:
    """`grant`, for who needs only the person (the demo, tests)."""
    done = await grant(
        session,
        channel=channel,
        external_id=external_id,
        role=role,
        unit_code=unit_code,
        display_name=display_name,
        actor_id=actor_id,
    )
    return done.person


async def account_id(session: AsyncSession, channel: str, external_id: str) -> int | None:
    """The id of the channel account a message came from."""
    account = await repo.find_account(session, channel, external_id)
    return account.id if account else None


async def find_actor(session: AsyncSession, channel: str, external_id: str) -> Actor | None:
    """The actor behind a channel account, without creating anyone (read-only)."""
    account = await repo.find_account(session, channel, external_id)
    if account is None:
        return None
    person = await session.get(Person, account.person_id)
    return await actor_for(session, person) if person is not None else None
