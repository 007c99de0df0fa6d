"""Invite codes: who may invite whom to which unit, and what happens when a code is used."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invite, JoinRequest, Membership, Person, Unit
from db.repositories import core as repo
from services import people, units
from services.access import PERMISSIONS, Action, Actor, Role
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.units import UnitView

if TYPE_CHECKING:
    from services.membership_changes import Change

# Uppercase without look-alikes (no 0/O, 1/I): easy to read aloud and to type on a phone.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_USES = 500
MAX_DAYS = 365

# Which of the inviter's roles may hand out each role (on top of the Action in PERMISSIONS).
INVITERS: dict[Role, frozenset[Role]] = {
    Role.VOLUNTEER: frozenset({Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Role.TEAM_LEADER: frozenset({Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Role.OFFICER: frozenset({Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Role.LEADER: frozenset({Role.LEADER, Role.ADMIN}),
    Role.ADMIN: frozenset({Role.ADMIN}),
}
INVITABLE_ROLES = (Role.VOLUNTEER, Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN)
# (uses, days) a person may choose in chat; larger codes are the operator's (`tocns invites`).
VOLUNTEER_PRESETS = ((1, 7), (10, 7), (30, 30))
STAFF_PRESETS = ((1, 3), (1, 7), (5, 7))


def presets(role: Role) -> tuple[tuple[int, int], ...]:
    return VOLUNTEER_PRESETS if role is Role.VOLUNTEER else STAFF_PRESETS


class JoinStatus(StrEnum):
    ADMITTED = "admitted"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class InviteView:
    id: int
    code: str
    role: Role
    unit: UnitView | None
    needs_approval: bool
    max_uses: int
    uses: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenInvite:
    """A code that is not revoked, expired or used up, for `tocns invites list`; `reason` is the
    catalog key of the refusal when it would still be refused (its unit closed, or its creator may
    no longer invite), else None."""

    invite: InviteView
    creator: str | None  # None: made by the operator on the server
    reason: str | None


@dataclass(frozen=True, slots=True)
class Joined:
    status: JoinStatus
    role: Role
    unit: UnitView | None
    request_id: int | None = None
    hand_over: Change | None = None  # a team leader code: the team handed over (who stepped down)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What a person typed → a code: case, spaces and dashes ignored; O→0 and I→1 can't occur."""
    return "".join(c for c in text.upper() if c.isalnum())


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def action_for(role: Role) -> Action:
    if role is Role.ADMIN:
        return Action.ADMINISTER
    return Action.INVITE_VOLUNTEER if role is Role.VOLUNTEER else Action.INVITE_STAFF


def can_invite(actor: Actor, role: Role, unit: UnitView | None) -> bool:
    """True if the actor may create an invite for `role` on `unit` (None: the whole installation)."""
    if role not in INVITERS or not units.role_fits(role, unit.kind if unit else None):
        return False
    allowed = PERMISSIONS[action_for(role)] & INVITERS[role]
    for grant in actor.grants:
        if grant.role not in allowed:
            continue
        if grant.unit_path is None or (unit is not None and unit.path.startswith(grant.unit_path)):
            return True
    return False


def invitable_roles(actor: Actor) -> list[Role]:
    """Roles the actor may invite somewhere (for the /moi menu)."""
    held = {g.role for g in actor.grants}
    return [r for r in INVITABLE_ROLES if held & PERMISSIONS[action_for(r)] & INVITERS[r]]


async def unit_choices(
    session: AsyncSession, actor: Actor, role: Role, query: str = "", limit: int = 8
) -> list[UnitView]:
    """Active units the actor may invite `role` to, filtered by a typed search."""
    allowed = PERMISSIONS[action_for(role)] & INVITERS.get(role, frozenset())
    scopes: list[str] = []
    for grant in actor.grants:
        if grant.role in allowed:
            if grant.unit_path is None:
                return await units.find(
                    session, kinds=units.ROLE_UNIT_KINDS[role], scopes=None, query=query, limit=limit
                )
            scopes.append(grant.unit_path)
    return await units.find(
        session, kinds=units.ROLE_UNIT_KINDS[role], scopes=tuple(scopes), query=query, limit=limit
    )


def _view(invite: Invite, unit: Unit | None) -> InviteView:
    return InviteView(
        id=invite.id,
        code=invite.code,
        role=Role(invite.role),
        unit=units.view(unit) if unit else None,
        needs_approval=invite.needs_approval,
        max_uses=invite.max_uses,
        uses=invite.uses,
        expires_at=invite.expires_at,
    )


async def create(
    session: AsyncSession,
    actor: Actor | None,
    *,
    role: Role,
    unit_id: int | None,
    now: datetime,
    uses: int = 1,
    days: int = 7,
    needs_approval: bool = False,
) -> InviteView:
    """A new invite; `actor` None is the command line (an operator on the server)."""
    unit = await repo.unit_by_id(session, unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        raise NotFound("units.errors.unknown_unit")
    if role not in INVITABLE_ROLES:  # citizen: asking for help needs no code
        raise InvalidInput("onboarding.errors.role_unit_mismatch", role=role.value)
    view = units.view(unit) if unit else None
    if actor is not None and not can_invite(actor, role, view):
        raise PermissionDenied(action=action_for(role).value)
    units.check_role_unit(role, view)  # its kind of unit, and not a closed one
    if not (1 <= uses <= MAX_USES) or not (1 <= days <= MAX_DAYS):
        raise InvalidInput("onboarding.errors.bad_limits", max_uses=MAX_USES, max_days=MAX_DAYS)
    if actor is not None and (uses, days) not in presets(role):  # a forged `moi:n:500:365`
        top_uses, top_days = max(u for u, _ in presets(role)), max(d for _, d in presets(role))
        raise InvalidInput("onboarding.errors.bad_limits", max_uses=top_uses, max_days=top_days)
    if needs_approval and role is not Role.VOLUNTEER:
        raise InvalidInput("onboarding.errors.approval_only_volunteers")
    code = new_code()
    while (await session.execute(select(Invite.id).where(Invite.code == code))).first() is not None:
        code = new_code()
    invite = Invite(
        code=code,
        unit_id=unit.id if unit else None,
        role=role.value,
        needs_approval=needs_approval,
        max_uses=uses,
        uses=0,
        expires_at=now + timedelta(days=days),
        revoked=False,
        created_by=actor.person_id if actor else None,
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    await repo.audit(
        session,
        actor.person_id if actor else None,
        "invite.create",
        f"invite:{invite.id}",
        {
            "role": role.value,
            "unit": unit.code if unit else None,
            "uses": uses,
            "days": days,
            "needs_approval": needs_approval,
        },
    )
    return _view(invite, unit)


async def _usable(session: AsyncSession, code: str, now: datetime) -> tuple[Invite, Unit | None]:
    normal = normalize_code(code)
    if not normal:
        raise InvalidInput("onboarding.errors.no_code")
    invite = (await session.execute(select(Invite).where(Invite.code == normal))).scalar_one_or_none()
    if invite is None:
        raise NotFound("onboarding.errors.unknown_code", code=normal)
    unit = await repo.unit_by_id(session, invite.unit_id) if invite.unit_id is not None else None
    if unit is not None and not unit.active:  # first: closing a team also revokes its leader's codes
        raise units.UnitClosed(unit=unit.name, code=unit.code)
    lapsed = not await creator_may_still_grant(session, invite, unit)
    if invite.revoked or invite.expires_at <= now:
        # A code revoked when its creator lost the role (revoke_lapsed) says why.
        lost = invite.revoked and lapsed
        raise InvalidInput(
            "onboarding.errors.inviter_lost_role" if lost else "onboarding.errors.expired", code=normal
        )
    if invite.uses >= invite.max_uses:
        raise InvalidInput("onboarding.errors.used_up", code=normal)
    if lapsed:
        raise InvalidInput("onboarding.errors.inviter_lost_role", code=normal)
    return invite, unit


async def creator_may_still_grant(session: AsyncSession, invite: Invite, unit: Unit | None) -> bool:
    """A code is the creator's authority lent out: it is honoured only while the creator could still
    make it (the same rule as `create`). Codes of the operator (no creator) stay valid."""
    if invite.created_by is None:
        return True
    if await session.get(Person, invite.created_by) is None:
        return False
    creator = await people.load_actor(session, invite.created_by)
    return can_invite(creator, Role(invite.role), units.view(unit) if unit else None)


async def _check_not_member(session: AsyncSession, person_id: int, invite: Invite, unit: Unit | None) -> None:
    # A team leader is already in the team: a volunteer code adds nothing for them.
    roles = (
        (Role.VOLUNTEER.value, Role.TEAM_LEADER.value) if invite.role == Role.VOLUNTEER else (invite.role,)
    )
    stmt = select(Membership.id).where(
        Membership.person_id == person_id,
        Membership.active.is_(True),
        Membership.role.in_(roles),
        Membership.unit_id.is_(None) if unit is None else Membership.unit_id == unit.id,
    )
    if (await session.execute(stmt)).first() is not None:
        raise Conflict("onboarding.errors.already_member", unit=unit.name if unit else "—")
    if unit is not None:
        pending = select(JoinRequest.id).where(
            JoinRequest.person_id == person_id,
            JoinRequest.unit_id == unit.id,
            JoinRequest.status == "pending",
        )
        if (await session.execute(pending)).first() is not None:
            raise Conflict("onboarding.errors.already_pending", unit=unit.name)


async def _removed_since(session: AsyncSession, person_id: int, invite: Invite, unit: Unit | None) -> bool:
    """Whether someone above removed (or revoked) the person from this unit after the code was
    made: the old code then asks the team leader again instead of letting them straight back."""
    if unit is None:
        return False
    stmt = select(Membership.id).where(
        Membership.person_id == person_id,
        Membership.unit_id == unit.id,
        Membership.ended_reason.in_(("removed", "revoked")),
        Membership.ended_at >= invite.created_at,
    )
    return (await session.execute(stmt)).first() is not None


async def check(session: AsyncSession, actor: Actor, code: str, now: datetime) -> InviteView:
    """Validate a code before asking the newcomer to confirm their name."""
    invite, unit = await _usable(session, code, now)
    await _check_not_member(session, actor.person_id, invite, unit)
    return _view(invite, unit)


async def redeem(session: AsyncSession, actor: Actor, code: str, now: datetime) -> Joined:
    """Use a code: the role is granted at once, or a join request waits for the team leader."""
    invite, unit = await _usable(session, code, now)
    await _check_not_member(session, actor.person_id, invite, unit)
    # Count the use atomically, so two people can't both take the last one.
    claimed = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.uses < Invite.max_uses)
        .values(uses=Invite.uses + 1)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise InvalidInput("onboarding.errors.used_up", code=invite.code)
    role = Role(invite.role)
    view = units.view(unit) if unit else None
    removed = await _removed_since(session, actor.person_id, invite, unit)
    if removed and role is not Role.VOLUNTEER:
        raise PermissionDenied("onboarding.errors.removed_staff", unit=unit.name if unit else "—")
    if (invite.needs_approval or removed) and unit is not None:
        request = JoinRequest(
            person_id=actor.person_id,
            unit_id=unit.id,
            role=role.value,
            invite_id=invite.id,
            status="pending",
            created_at=now,
        )
        session.add(request)
        await session.flush()
        await repo.audit(session, actor.person_id, "join.request", f"unit:{unit.code}", {"invite": invite.id})
        return Joined(JoinStatus.PENDING, role, view, request.id)
    hand_over = await _admit(session, actor.person_id, invite, unit, now)
    await session.flush()
    await repo.audit(
        session,
        invite.created_by,
        "role.grant",
        f"person:{actor.person_id}",
        {"role": role.value, "unit": unit.code if unit else None, "invite": invite.id},
    )
    return Joined(JoinStatus.ADMITTED, role, view, hand_over=hand_over)


async def _admit(
    session: AsyncSession, person_id: int, invite: Invite, unit: Unit | None, now: datetime
) -> Change | None:
    """The role itself. A team leader code hands the team over, as «Giao tổ trưởng» and the
    operator's grant do (one leader per team): returns who stepped down, to be told."""
    if invite.role == Role.TEAM_LEADER and unit is not None:
        # Imported here: membership_changes builds on this module.
        from services import membership_changes

        return await membership_changes.hand_over_by_invite(session, unit, person_id, invite.created_by, now)
    unit_id = unit.id if unit else None
    session.add(
        Membership(person_id=person_id, unit_id=unit_id, role=invite.role, active=True, created_at=now)
    )
    return None


async def revoke(session: AsyncSession, actor: Actor | None, code: str) -> bool:
    """Stop a code working; False when it had been revoked already (nothing changes, no audit)."""
    invite = (
        await session.execute(select(Invite).where(Invite.code == normalize_code(code)))
    ).scalar_one_or_none()
    if invite is None:
        raise NotFound("onboarding.errors.unknown_code", code=normalize_code(code))
    unit = await repo.unit_by_id(session, invite.unit_id) if invite.unit_id is not None else None
    if actor is not None and not can_invite(actor, Role(invite.role), units.view(unit) if unit else None):
        raise PermissionDenied(action=action_for(Role(invite.role)).value)
    if invite.revoked:
        return False
    invite.revoked = True
    await repo.audit(session, actor.person_id if actor else None, "invite.revoke", f"invite:{invite.id}", {})
    return True


def _open(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Invite.revoked.is_(False), Invite.expires_at > now, Invite.uses < Invite.max_uses)


async def revoke_lapsed(session: AsyncSession, person_id: int, now: datetime) -> int:
    """After a person lost a role: revoke their open codes they could no longer create (audit-logged
    as the person's, reason `creator_lost_role`); returns how many. Redemption checks the creator
    anyway, for roles that end in other ways."""
    await session.flush()
    stmt = select(Invite, Unit).outerjoin(Unit, Unit.id == Invite.unit_id)
    stmt = stmt.where(Invite.created_by == person_id, *_open(now))
    found = (await session.execute(stmt)).all()
    if not found:
        return 0
    creator = await people.load_actor(session, person_id)
    revoked = 0
    for invite, unit in found:
        if can_invite(creator, Role(invite.role), units.view(unit) if unit else None):
            continue
        invite.revoked = True
        revoked += 1
        await repo.audit(
            session,
            person_id,
            "invite.revoke",
            f"invite:{invite.id}",
            {"reason": "creator_lost_role", "role": invite.role, "unit": unit.code if unit else None},
        )
    await session.flush()
    return revoked


async def open_codes(session: AsyncSession, unit_code: str | None, now: datetime) -> list[OpenInvite]:
    """Codes not revoked, expired or used up (of `unit_code` and the units under it), soonest
    expiry first; the operator's view (`tocns invites list`), so no actor."""
    stmt = select(Invite, Unit, Person).outerjoin(Unit, Unit.id == Invite.unit_id)
    stmt = stmt.outerjoin(Person, Person.id == Invite.created_by).where(*_open(now))
    if unit_code is not None:
        under = await units.get(session, unit_code)
        stmt = stmt.where(Unit.path.startswith(under.path, autoescape=True))
    stmt = stmt.order_by(Invite.expires_at, Invite.id)
    out: list[OpenInvite] = []
    for invite, unit, creator in (await session.execute(stmt)).all():
        reason: str | None = None
        if unit is not None and not unit.active:
            reason = "onboarding.errors.unit_closed"
        elif not await creator_may_still_grant(session, invite, unit):
            reason = "onboarding.errors.inviter_lost_role"
        name = None if invite.created_by is None else (creator.display_name if creator else "?")
        out.append(OpenInvite(_view(invite, unit), name, reason))
    return out


async def mine(session: AsyncSession, actor: Actor, now: datetime, limit: int = 10) -> list[InviteView]:
    """The actor's own open codes (not revoked, expired or used up), soonest expiry first (`/moi`)."""
    stmt = select(Invite, Unit).outerjoin(Unit, Unit.id == Invite.unit_id)
    stmt = stmt.where(Invite.created_by == actor.person_id, *_open(now))
    stmt = stmt.order_by(Invite.expires_at, Invite.id).limit(limit)
    return [_view(invite, unit) for invite, unit in (await session.execute(stmt)).all()]


async def cancel_own(session: AsyncSession, actor: Actor, invite_id: int) -> InviteView:
    """The creator stops one of their codes from chat; anyone else's code (a forged payload) is a
    stale button, which tells nothing about it. Cancelling twice is harmless."""
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.created_by != actor.person_id:
        raise NotFound("core.stale_button")
    unit = await repo.unit_by_id(session, invite.unit_id) if invite.unit_id is not None else None
    if not invite.revoked:
        invite.revoked = True
        await repo.audit(session, actor.person_id, "invite.revoke", f"invite:{invite.id}", {"by": "creator"})
    return _view(invite, unit)
