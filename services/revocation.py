"""Taking roles away: officers and leaders lose a role by the hand of someone above them (or the
operator's `tocns users revoke`), at once — open dialogs are forgotten and claimed hand-off
tickets go back to the commune (see services.handoff.release_unheld)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChannelAccount, DialogState, Membership, Person, Unit
from db.repositories import core as repo
from db.repositories.updates import FORGOTTEN_DIALOGS
from services.access import Actor, Role
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.people import check_channel

# Higher outranks lower on the same unit; any rank above revokes below its subtree.
RANK = {Role.VOLUNTEER: 1, Role.TEAM_LEADER: 2, Role.OFFICER: 3, Role.LEADER: 4, Role.ADMIN: 5}
REVOCABLE = (Role.OFFICER, Role.LEADER)
REVOKERS = (Role.LEADER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class StaffLine:
    membership_id: int
    person_id: int
    name: str
    role: Role
    unit_name: str | None


def can_revoke(actor: Actor, role: Role, unit_path: str | None, person_id: int) -> bool:
    """A leader or admin whose unit lies above the role's unit (or is the same unit, held with a
    higher rank); nobody revokes their own role from chat."""
    if role not in REVOCABLE or person_id == actor.person_id:
        return False
    for grant in actor.grants:
        if grant.role not in REVOKERS:
            continue
        if grant.unit_path is None:
            return True
        if unit_path is None or not unit_path.startswith(grant.unit_path):
            continue
        if unit_path != grant.unit_path or RANK[grant.role] > RANK[role]:
            return True
    return False


async def revocable(session: AsyncSession, actor: Actor, limit: int = 20) -> list[StaffLine]:
    """Officers and leaders the actor may revoke, for the /thuhoi menu."""
    stmt = (
        select(Membership, Person, Unit)
        .join(Person, Person.id == Membership.person_id)
        .outerjoin(Unit, Unit.id == Membership.unit_id)
        .where(Membership.active.is_(True), Membership.role.in_([r.value for r in REVOCABLE]))
        .order_by(Unit.path, Membership.id)
    )
    out: list[StaffLine] = []
    for m, p, u in (await session.execute(stmt)).all():
        if can_revoke(actor, Role(m.role), u.path if u else None, p.id):
            out.append(StaffLine(m.id, p.id, p.display_name, Role(m.role), u.name if u else None))
            if len(out) >= limit:
                break
    return out


async def line(session: AsyncSession, membership_id: int) -> tuple[Membership, StaffLine, str | None]:
    m = await session.get(Membership, membership_id)
    if m is None or not m.active:
        raise NotFound("revoke.errors.unknown")
    person = await session.get(Person, m.person_id)
    unit = await session.get(Unit, m.unit_id) if m.unit_id is not None else None
    view = StaffLine(
        m.id, m.person_id, person.display_name if person else "", Role(m.role), unit.name if unit else None
    )
    return m, view, unit.path if unit else None


async def revoke(session: AsyncSession, actor: Actor | None, membership_id: int, now: datetime) -> StaffLine:
    """End one role at once; `actor` None is the operator on the server (any role)."""
    m, view, path = await line(session, membership_id)
    if actor is not None and not can_revoke(actor, view.role, path, view.person_id):
        raise PermissionDenied(action="revoke_role")
    m.active, m.ended_at, m.ended_reason = False, now, "revoked"
    await forget_dialogs(session, view.person_id)
    await repo.audit(
        session,
        actor.person_id if actor else None,
        "role.revoke",
        f"person:{view.person_id}",
        {
            "role": view.role.value,
            "unit": view.unit_name,
            "membership": m.id,
            "by": "cli" if actor is None else "bot",
        },
    )
    await session.flush()
    return view


async def revoke_account_role(
    session: AsyncSession, channel: str, external_id: str, role: Role, unit_code: str | None, now: datetime
) -> list[StaffLine]:
    """`tocns users revoke`: every active `role` of that account's person on that unit."""
    check_channel(channel)
    if unit_code is None and role not in (Role.ADMIN, Role.CITIZEN):  # held on a unit only
        raise InvalidInput("errors.unit_required", role=role.value)
    account = await repo.find_account(session, channel, external_id)
    if account is None:
        raise NotFound("revoke.errors.unknown_account", channel=channel, user=external_id)
    unit = await repo.unit_by_code(session, unit_code) if unit_code else None
    if unit_code and unit is None:
        raise NotFound("errors.unit_not_found", code=unit_code)
    ids = [
        m.id
        for m, _u in await repo.grants_of(session, account.person_id)
        if m.role == role.value and m.unit_id == (unit.id if unit else None)
    ]
    if not ids:
        raise InvalidInput("revoke.errors.not_held", role=role.value, unit=unit_code or "—")
    return [await revoke(session, None, i, now) for i in ids]


async def forget_dialogs(session: AsyncSession, person_id: int) -> None:
    """Every open dialog of the person ends: a step begun with the old role is not finished."""
    accounts = (
        await session.execute(
            select(ChannelAccount.channel, ChannelAccount.external_id).where(
                ChannelAccount.person_id == person_id
            )
        )
    ).all()
    if accounts:
        pairs = [(c, e) for c, e in accounts]
        await session.execute(
            delete(DialogState).where(tuple_(DialogState.channel, DialogState.user_id).in_(pairs))
        )
        # When the person is the one writing (/roito, closing a team they are in), the intake must
        # not write back the state it read before: that row is gone on purpose.
        session.info.setdefault(FORGOTTEN_DIALOGS, set()).update(pairs)
