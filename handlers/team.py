"""The team: /to (members, pending requests, remove, hand over), /roito (leave), /toi (me)."""

from __future__ import annotations

from datetime import timedelta

from handlers.core import Button, Context, rows
from handlers.link import channel_name
from handlers.onboarding import role_label
from handlers.revoke import after_role_loss
from handlers.router import Router, command_args
from services import linking, membership, sessions, units
from services.access import Action, Role
from services.units import UnitKind

router = Router()


@router.command("to", "team", help_key="team.cmd.to", action=Action.VIEW_TEAM, private_only=True)
async def to(ctx: Context) -> None:
    code = command_args(ctx)
    if code:
        await _show(ctx, (await units.get(ctx.session, code)).id)
        return
    led = membership.teams_of(ctx.actor, Role.TEAM_LEADER)
    if len(led) == 1:
        await _show(ctx, led[0][0])
        return
    choices = led or [
        (u.id, u.name)
        for u in await units.find(
            ctx.session, kinds=(UnitKind.TEAM,), scopes=ctx.actor.scope_paths(Action.VIEW_TEAM), limit=8
        )
    ]
    if not choices:
        ctx.say("team.no_team")
        return
    ctx.say("team.choose_team", buttons=rows(*(Button(n, f"to:v:{i}") for i, n in choices), per_row=1))


async def _show(ctx: Context, unit_id: int) -> None:
    team = await units.by_id(ctx.session, unit_id)
    found = await membership.members(ctx.session, ctx.actor, unit_id)
    lines = [ctx.t("team.members_title", team=team.name, count=len(found))]
    lines += [f"• {m.name} — {role_label(ctx, m.role)}" for m in found]
    if not found:
        lines.append(ctx.t("team.no_members"))
    ctx.reply("\n".join(lines))
    for request in await membership.pending_requests(ctx.session, ctx.actor, unit_id):
        ctx.say(
            "team.pending_request",
            buttons=rows(
                Button(ctx.t("onboarding.request.approve"), f"jr:a:{request.id}"),
                Button(ctx.t("onboarding.request.reject"), f"jr:r:{request.id}"),
            ),
            name=request.name,
        )
    if ctx.actor.can(Action.MANAGE_TEAM, team.path) and found:
        ctx.say(
            "team.actions",
            buttons=rows(
                Button(ctx.t("team.buttons.remove"), f"to:rm:{unit_id}"),
                Button(ctx.t("team.buttons.hand_over"), f"to:ho:{unit_id}"),
            ),
        )


@router.callback("to")
async def to_buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        ctx.say("core.stale_button", edit=True)
        return
    step, number = parts[1], int(parts[2])
    if step == "v":
        await _show(ctx, number)
    elif step in ("rm", "ho"):
        await _pick_member(ctx, number, step)
    elif step in ("rmx", "hox"):
        # Named: the list may have changed since it was shown (someone joined, left, was removed).
        member, team = await membership.member(ctx.session, ctx.actor, number)
        confirm = "team.confirm_remove" if step == "rmx" else "team.confirm_hand_over"
        yes = f"to:{step[:2]}y:{number}"
        ctx.say(
            confirm,
            buttons=rows(
                Button(ctx.t("team.buttons.yes"), yes), Button(ctx.t("core.buttons.cancel"), "core:cancel")
            ),
            edit=True,
            name=member.name,
            team=team,
        )
    elif step == "rmy":
        member = await membership.remove_member(ctx.session, ctx.actor, number, ctx.now)
        await after_role_loss(ctx.session, ctx.catalog, ctx.default_locale, member.person_id, ctx.now)
        ctx.say("team.removed", edit=True, name=member.name)
        await ctx.notify(
            member.person_id, "team.you_were_removed", kind="team_removed", idempotency=f"team:rm:{number}"
        )
    elif step == "hoy":
        member = await membership.hand_over(ctx.session, ctx.actor, number, ctx.now)
        ctx.say("team.handed_over", edit=True, name=member.name)
        await ctx.notify(
            member.person_id, "team.you_are_leader", kind="team_leader", idempotency=f"team:ho:{number}"
        )
    else:
        ctx.say("core.stale_button", edit=True)


async def _pick_member(ctx: Context, unit_id: int, step: str) -> None:
    found = await membership.members(ctx.session, ctx.actor, unit_id)
    if step == "ho":
        found = [m for m in found if m.role is Role.VOLUNTEER]
    found = [m for m in found if m.person_id != ctx.actor.person_id]
    if not found:
        ctx.say("team.nobody_to_pick", edit=True)
        return
    buttons = [Button(m.name, f"to:{step}x:{m.membership_id}") for m in found[:20]]
    key = "team.pick_remove" if step == "rm" else "team.pick_hand_over"
    ctx.say(key, buttons=rows(*buttons, per_row=1), edit=True)


# --- leaving and me ------------------------------------------------------------------------


@router.command(
    "roito", "leave", help_key="team.cmd.roito", roles=(Role.VOLUNTEER, Role.TEAM_LEADER), private_only=True
)
async def roito(ctx: Context) -> None:
    mine = await membership.own_team_memberships(ctx.session, ctx.actor)
    if not mine:
        ctx.say("team.not_in_team")
        return
    buttons = [Button(f"{unit.name} — {role_label(ctx, role)}", f"roi:y:{mid}") for mid, role, unit in mine]
    buttons.append(Button(ctx.t("core.buttons.cancel"), "core:cancel"))
    ctx.say("team.confirm_leave", buttons=rows(*buttons, per_row=1))


@router.callback("roi")
async def leave(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        ctx.say("core.stale_button", edit=True)
        return
    team = await membership.leave(ctx.session, ctx.actor, int(parts[2]), ctx.now)
    await after_role_loss(ctx.session, ctx.catalog, ctx.default_locale, ctx.actor.person_id, ctx.now)
    ctx.say("team.left", edit=True, team=team.name)


@router.command("toi", "me", help_key="team.cmd.toi", private_only=True)
async def toi(ctx: Context) -> None:
    me = await membership.profile(ctx.session, ctx.actor)
    lines = [ctx.t("team.profile_title", name=me.display_name)]
    for line in me.roles:
        where = f"{line.unit_name} ({line.unit_code})" if line.unit_code else ctx.t("team.everywhere")
        lines.append(f"• {role_label(ctx, line.role)} — {where}")
    if not me.roles:
        lines.append(ctx.t("team.citizen_only"))
    for name in me.pending:
        lines.append(ctx.t("team.profile_pending", team=name))
    if ctx.actor.has_role(Role.VOLUNTEER, Role.TEAM_LEADER):
        today = ctx.local_now.date()
        monday = today - timedelta(days=today.weekday())
        tally = await sessions.week_tally(ctx.session, ctx.actor.person_id, monday, ctx.tz)
        lines.append(ctx.t("team.profile_tally", sessions=tally.sessions, citizens=tally.citizens))
    mine = await linking.accounts(ctx.session, ctx.actor.person_id)
    listed = ", ".join(f"{channel_name(a.channel)} {a.masked_id}" for a in mine)
    lines.append(ctx.t("team.profile_channels", channels=listed or ", ".join(me.channels)))
    ctx.reply("\n".join(lines))
