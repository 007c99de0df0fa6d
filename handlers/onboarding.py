"""Invites and joining: /moi (create a code), /start <code> and /thamgia <code> (join), the name
confirmation, and the team leader's Duyệt / Từ chối buttons on join requests."""

from __future__ import annotations

from handlers.core import Button, Context, rows
from handlers.router import Router, command_args
from services import invites, membership, people
from services.access import Action, Role
from services.errors import DomainError
from services.invites import ALPHABET, JoinStatus

router = Router()
OPEN = "open"  # the /moi choice "open code, needs approval" (volunteers of a team)


def role_label(ctx: Context, role: Role | str) -> str:
    return ctx.t(f"onboarding.roles.{Role(role).value}")


# --- /moi: create an invite -----------------------------------------------------------------


@router.command("moi", help_key="onboarding.cmd.moi", action=Action.INVITE_VOLUNTEER, private_only=True)
async def moi(ctx: Context) -> None:
    roles = invites.invitable_roles(ctx.actor)
    if not roles:
        ctx.say("onboarding.moi.not_allowed")
        return
    buttons = [Button(role_label(ctx, r), f"moi:r:{r.value}") for r in roles]
    if Role.VOLUNTEER in roles:
        buttons.insert(1, Button(ctx.t("onboarding.moi.open_code"), f"moi:r:{OPEN}"))
    buttons.append(Button(ctx.t("onboarding.moi.my_codes"), "moi:l:0"))
    ctx.goto("onboarding.moi.role")
    ctx.say("onboarding.moi.choose_role", buttons=rows(*buttons, per_row=1))


@router.callback("moi")
async def moi_buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    step, arg = (parts[1], parts[2:]) if len(parts) > 2 else ("", [])
    if step == "r":
        await _picked_role(ctx, arg[0])
    elif step == "u" and ctx.state.get("role") and arg[0].isdigit():
        await _picked_unit(ctx, int(arg[0]))
    elif step == "n" and ctx.state.get("unit_id") and len(arg) == 2 and all(a.isdigit() for a in arg):
        await _create(ctx, int(arg[0]), int(arg[1]))
    elif step == "l":
        await _my_codes(ctx)
    elif step == "x" and arg[0].isdigit():
        await _cancel_code(ctx, int(arg[0]))
    else:
        ctx.say("core.stale_button", edit=True)


async def _picked_role(ctx: Context, value: str) -> None:
    is_open = value == OPEN
    try:
        role = Role.VOLUNTEER if is_open else Role(value)
    except ValueError:
        ctx.say("core.stale_button", edit=True)
        return
    ctx.goto("onboarding.moi.unit", role=role.value, open=is_open)
    choices = await invites.unit_choices(ctx.session, ctx.actor, role, limit=9)
    if not choices:
        ctx.end()
        ctx.say("onboarding.moi.no_units", edit=True)
        return
    if len(choices) == 1:
        await _picked_unit(ctx, choices[0].id)
        return
    await _show_units(ctx, role, "")


async def _show_units(ctx: Context, role: Role, query: str) -> None:
    choices = await invites.unit_choices(ctx.session, ctx.actor, role, query, limit=8)
    if not choices:
        ctx.say("onboarding.moi.no_match", query=query)
        return
    buttons = [Button(f"{u.name} ({u.code})", f"moi:u:{u.id}") for u in choices]
    ctx.say("onboarding.moi.choose_unit", buttons=rows(*buttons, per_row=1), role=role_label(ctx, role))


@router.state("onboarding.moi.unit")
async def moi_search(ctx: Context) -> None:
    await _show_units(ctx, Role(ctx.state["role"]), (ctx.msg.text or "").strip())


async def _picked_unit(ctx: Context, unit_id: int) -> None:
    role = Role(ctx.state["role"])
    ctx.goto("onboarding.moi.limits", unit_id=unit_id)
    offered = invites.presets(role)  # the service accepts only these from chat
    buttons = [Button(ctx.t("onboarding.moi.preset", uses=u, days=d), f"moi:n:{u}:{d}") for u, d in offered]
    ctx.say("onboarding.moi.choose_limits", buttons=rows(*buttons, per_row=1))


async def _create(ctx: Context, uses: int, days: int) -> None:
    role = Role(ctx.state["role"])
    invite = await invites.create(
        ctx.session,
        ctx.actor,
        role=role,
        unit_id=int(ctx.state["unit_id"]),
        now=ctx.now,
        uses=uses,
        days=days,
        needs_approval=bool(ctx.state.get("open")),
    )
    ctx.end()
    expires = invite.expires_at.astimezone(ctx.tz).strftime("%d/%m/%Y")
    unit = invite.unit.name if invite.unit else "—"
    ctx.say(
        "onboarding.moi.created",
        code=invite.code,
        role=role_label(ctx, role),
        unit=unit,
        uses=invite.max_uses,
        expires=expires,
    )
    if ctx.msg.bot_username:
        ctx.say("onboarding.moi.link", link=invites.deep_link(ctx.msg.bot_username, invite.code))
    share = "onboarding.moi.share_note" if ctx.msg.bot_username else "onboarding.moi.share_note_code"
    ctx.say("onboarding.moi.approval_note" if invite.needs_approval else share, code=invite.code)


async def _my_codes(ctx: Context) -> None:
    """The person's own open codes, each with a «Huỷ mã» button."""
    ctx.end()
    found = await invites.mine(ctx.session, ctx.actor, ctx.now)
    if not found:
        ctx.say("onboarding.moi.no_codes", edit=True)
        return
    lines = [ctx.t("onboarding.moi.my_codes_title")]
    for invite in found:
        lines.append(
            ctx.t(
                "onboarding.moi.my_code_line",
                code=invite.code,
                role=role_label(ctx, invite.role),
                unit=invite.unit.name if invite.unit else "—",
                left=invite.max_uses - invite.uses,
                uses=invite.max_uses,
                expires=invite.expires_at.astimezone(ctx.tz).strftime("%d/%m/%Y"),
            )
        )
    buttons = [Button(ctx.t("onboarding.moi.cancel_code", code=i.code), f"moi:x:{i.id}") for i in found]
    buttons.append(Button(ctx.t("core.buttons.cancel"), "core:cancel"))
    ctx.reply("\n".join(lines), rows(*buttons, per_row=1), edit=True)


async def _cancel_code(ctx: Context, invite_id: int) -> None:
    invite = await invites.cancel_own(ctx.session, ctx.actor, invite_id)
    ctx.end()
    ctx.say("onboarding.moi.code_cancelled", edit=True, code=invite.code)


# --- joining ---------------------------------------------------------------------------------


async def deep_link_join(ctx: Context) -> None:
    await _begin_join(ctx, command_args(ctx))


# `t.me/<bot>?start=<CODE>`: invite codes use only these characters, so one prefix per
# character routes them here without shadowing other features' lower-case deep links.
for _char in ALPHABET:
    router.deep_link(_char)(deep_link_join)


@router.command("thamgia", "join", help_key="onboarding.cmd.thamgia", private_only=True)
async def thamgia(ctx: Context) -> None:
    code = command_args(ctx)
    if not code:
        ctx.goto("onboarding.code")
        ctx.say("onboarding.join.ask_code")
        return
    await _begin_join(ctx, code)


@router.state("onboarding.code")
async def typed_code(ctx: Context) -> None:
    await _begin_join(ctx, ctx.msg.text or "")


async def _begin_join(ctx: Context, code: str) -> None:
    try:
        invite = await invites.check(ctx.session, ctx.actor, code, ctx.now)
    except DomainError as exc:
        ctx.end()
        ctx.say(exc.key, **exc.params)
        return
    ctx.goto("onboarding.name", code=invite.code)
    ctx.say(
        "onboarding.join.confirm_name",
        buttons=[
            [Button(ctx.t("onboarding.join.yes"), "onb:ok")],
            [Button(ctx.t("core.buttons.cancel"), "core:cancel")],
        ],
        name=ctx.actor.display_name,
        unit=invite.unit.name if invite.unit else "—",
        role=role_label(ctx, invite.role),
    )


@router.callback("onb")
async def confirm_name(ctx: Context) -> None:
    if ctx.state_name != "onboarding.name" or not ctx.state.get("code"):
        ctx.say("core.stale_button", edit=True)
        return
    await _finish_join(ctx, ctx.actor.display_name)


@router.state("onboarding.name")
async def typed_name(ctx: Context) -> None:
    name = " ".join((ctx.msg.text or "").split())
    await people.rename(ctx.session, ctx.actor.person_id, name)
    await _finish_join(ctx, name)


async def _finish_join(ctx: Context, name: str) -> None:
    code = str(ctx.state["code"])
    ctx.end()
    joined = await invites.redeem(ctx.session, ctx.actor, code, ctx.now)
    unit = joined.unit.name if joined.unit else "—"
    if joined.status is JoinStatus.ADMITTED:
        lines = [ctx.t("onboarding.join.admitted", name=name, role=role_label(ctx, joined.role), unit=unit)]
        if joined.hand_over is not None:  # a team leader code on a team that had a leader
            # Imported here: handlers.team builds on this module (role_label).
            from handlers.team import tell_hand_over

            others, _queued = await tell_hand_over(
                ctx.session, ctx.catalog, ctx.default_locale, joined.hand_over, ctx.actor.person_id
            )
            if others:
                lines.append(ctx.t("team.stepped_down_told", names=", ".join(d.name for d in others)))
        ctx.reply("\n".join(lines))
        return
    assert joined.request_id is not None and joined.unit is not None
    ctx.say("onboarding.join.pending", name=name, unit=unit)
    for person_id in await membership.approvers(ctx.session, joined.unit.id):
        lang = (await people.load_actor(ctx.session, person_id)).locale or ctx.default_locale
        buttons = rows(
            Button(ctx.catalog.text(lang, "onboarding.request.approve"), f"jr:a:{joined.request_id}"),
            Button(ctx.catalog.text(lang, "onboarding.request.reject"), f"jr:r:{joined.request_id}"),
        )
        await ctx.notify(
            person_id,
            "onboarding.request.notify",
            kind="join_request",
            idempotency=f"join:{joined.request_id}:ask:{person_id}",
            buttons=buttons,
            name=name,
            unit=unit,
        )


@router.callback("jr")
async def decide(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3 or parts[1] not in ("a", "r") or not parts[2].isdigit():
        ctx.say("core.stale_button", edit=True)
        return
    approve = parts[1] == "a"
    request = await membership.request_view(ctx.session, int(parts[2]))
    decision = await membership.decide(ctx.session, ctx.actor, request.id, approve, ctx.now)
    key = "approved" if approve else "rejected"
    ctx.say(f"onboarding.request.done_{key}", edit=True, name=request.name, unit=decision.unit.name)
    await ctx.notify(
        decision.person_id,
        f"onboarding.request.applicant_{key}",
        kind="join_decision",
        idempotency=f"join:{decision.request_id}:decision",
        unit=decision.unit.name,
    )
