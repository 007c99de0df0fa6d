"""/thuhoi: a leader (or admin) takes an officer's or a lower leader's role away, effective at
once; and `after_role_loss`, what every removal (team, closing, revocation) does next: the
person's open invite codes they could no longer make are revoked, and their claimed hand-off
tickets go back to whoever a new ticket would reach now (the commune's volunteers, else its
officers) and the citizen is told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Button, Context, notify, rows
from handlers.handoff_push import TicketAction, push
from handlers.i18n import Catalog
from handlers.onboarding import role_label
from handlers.router import Router
from services import handoff, invites, people, revocation
from services.access import Role
from services.errors import PermissionDenied
from services.revocation import StaffLine

router = Router()
REVOKERS = (Role.LEADER, Role.ADMIN)


async def tell_revoked(session: AsyncSession, catalog: Catalog, default_locale: str, done: StaffLine) -> int:
    """The person whose role ended is told, in their own language, whoever ended it: an officer's
    /thuhoi or the operator's `tocns users revoke`. Once per role line (outbox idempotency)."""
    lang = (await people.load_actor(session, done.person_id)).locale or default_locale
    return await notify(
        session,
        catalog,
        default_locale,
        done.person_id,
        "revoke.you_were_revoked",
        kind="role_revoked",
        idempotency=f"revoke:{done.membership_id}",
        role=catalog.text(lang, f"onboarding.roles.{Role(done.role).value}"),
        unit=done.unit_name or "—",
    )


async def after_role_loss(
    session: AsyncSession, catalog: Catalog, default_locale: str, person_id: int, now: datetime
) -> int:
    """End the person's open dialogs, revoke the invite codes they could no longer make, and
    release what they may no longer hold; returns how many tickets went back."""
    await revocation.forget_dialogs(session, person_id)
    await invites.revoke_lapsed(session, person_id, now)
    released = await handoff.release_unheld(session, person_id)
    for ticket in released:
        stamp = int(now.timestamp())
        # Who takes it back is decided as for a new ticket (handoff.new_ticket_audience): the
        # commune's volunteers, its officers when none of them can be reached now; without the
        # person who lost the role. The citizen is told which, or that nobody can be reached.
        audience = await handoff.new_ticket_audience(session, ticket, exclude=(person_id,))
        if audience.officers:
            await handoff.mark_escalated(session, ticket.id, now)
        told = (
            "handoff.push.released_to_nobody"
            if not audience.reachable
            else "handoff.push.released"
            if audience.officers
            else "handoff.push.released_to_helpers"
        )
        await push(
            session,
            catalog,
            default_locale,
            ticket.citizen_id,
            told,
            kind="ticket_released",
            idempotency=f"ticket:{ticket.id}:released:{stamp}",
            id=ticket.id,
        )
        for helper in audience.people:
            await push(
                session,
                catalog,
                default_locale,
                helper,
                "handoff.push.released_staff",
                kind="ticket_escalated",
                idempotency=f"ticket:{ticket.id}:released:{stamp}:{helper}",
                buttons=[[("handoff.buttons.claim_n", TicketAction("k", ticket.id).pack())]],
                id=ticket.id,
                commune=ticket.unit_name,
                question=ticket.question,
            )
    return len(released)


@router.command("thuhoi", "revoke", help_key="revoke.cmd.thuhoi", roles=REVOKERS, private_only=True)
async def thuhoi(ctx: Context) -> None:
    found = await revocation.revocable(ctx.session, ctx.actor)
    if not found:
        ctx.say("revoke.nobody")
        return
    buttons = [
        Button(f"{s.name} — {role_label(ctx, s.role)} ({s.unit_name or '—'})", f"th:x:{s.membership_id}")
        for s in found
    ]
    buttons.append(Button(ctx.t("core.buttons.cancel"), "core:cancel"))
    ctx.say("revoke.pick", buttons=rows(*buttons, per_row=1))


@router.callback("th")
async def buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3 or parts[1] not in ("x", "y") or not parts[2].isdigit():
        ctx.say("core.stale_button", edit=True)
        return
    membership_id = int(parts[2])
    _m, line, path = await revocation.line(ctx.session, membership_id)
    if not revocation.can_revoke(ctx.actor, line.role, path, line.person_id):
        raise PermissionDenied(action="revoke_role")
    if parts[1] == "x":
        ctx.say(
            "revoke.confirm",
            buttons=rows(
                Button(ctx.t("revoke.buttons.yes"), f"th:y:{membership_id}"),
                Button(ctx.t("core.buttons.cancel"), "core:cancel"),
            ),
            edit=True,
            name=line.name,
            role=role_label(ctx, line.role),
            unit=line.unit_name or "—",
        )
        return
    done = await revocation.revoke(ctx.session, ctx.actor, membership_id, ctx.now)
    await after_role_loss(ctx.session, ctx.catalog, ctx.default_locale, done.person_id, ctx.now)
    ctx.say(
        "revoke.done", edit=True, name=done.name, role=role_label(ctx, done.role), unit=done.unit_name or "—"
    )
    await tell_revoked(ctx.session, ctx.catalog, ctx.default_locale, done)
