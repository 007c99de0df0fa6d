"""The team: /to (members, pending requests, remove, hand over), /roito (leave), /toi (me)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Button, Context, notify, rows
from handlers.i18n import Catalog
from handlers.link import channel_name
from handlers.onboarding import role_label
from handlers.revoke import after_role_loss
from handlers.router import Router, command_args
from services import linking, membership, membership_changes, sessions, units
from services.access import Action, Role
from services.membership import MemberView
from services.membership_changes import Pick
from services.units import UnitKind

router = Router()
PICK_STATE = "team.pick"
PICK_SHOWN = 10  # a team has 4-10 members; a bigger one types part of the name


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
    leaders = [m.name for m in found if m.role is Role.TEAM_LEADER]
    if len(leaders) > 1:  # data from before the one-leader rule: the next hand-over ends it
        lines.append(ctx.t("team.several_leaders", names=", ".join(leaders)))
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
        await _pick_member(ctx, number, Pick(step), "", edit=True)
    elif step == "rmx":
        # Named: the list may have changed since it was shown (someone joined, left, was removed).
        ctx.end()
        member, team = await membership.member(ctx.session, ctx.actor, number)
        _confirm(ctx, "team.confirm_remove", f"to:rmy:{number}", name=member.name, team=team)
    elif step == "hox":
        ctx.end()
        plan = await membership_changes.hand_over_plan(ctx.session, ctx.actor, number)
        key, params = _hand_over_question(plan)
        _confirm(ctx, key, f"to:hoy:{number}", **params)
    elif step == "rmy":
        await _remove(ctx, number)
    elif step == "hoy":
        await _hand_over(ctx, number)
    else:
        ctx.say("core.stale_button", edit=True)


def _confirm(ctx: Context, key: str, yes: str, **params: Any) -> None:
    buttons = rows(
        Button(ctx.t("team.buttons.yes"), yes), Button(ctx.t("core.buttons.cancel"), "core:cancel")
    )
    ctx.say(key, buttons=buttons, edit=True, **params)


def _hand_over_question(plan: membership_changes.HandOverPlan) -> tuple[str, dict[str, Any]]:
    """The confirmation fits who acts: a leader handing over their own role, or an officer
    appointing (the sitting leader, if any, becomes a member)."""
    params = {"name": plan.member.name, "team": plan.team, "sitting": ", ".join(plan.sitting)}
    if plan.own:
        return ("team.confirm_hand_over_own_others" if plan.sitting else "team.confirm_hand_over"), params
    return ("team.confirm_appoint" if plan.sitting else "team.confirm_appoint_first"), params


async def _remove(ctx: Context, membership_id: int) -> None:
    done = await membership_changes.remove_member(ctx.session, ctx.actor, membership_id, ctx.now)
    member = done.member
    await after_role_loss(ctx.session, ctx.catalog, ctx.default_locale, member.person_id, ctx.now)
    ctx.say("team.removed", edit=True, name=member.name, team=done.team.name)
    await ctx.notify(
        member.person_id,
        "team.you_were_removed",
        kind="team_removed",
        idempotency=f"team:rm:{membership_id}",
        team=done.team.name,
        commune=done.commune,
    )


async def _hand_over(ctx: Context, membership_id: int) -> None:
    done = await membership_changes.hand_over(ctx.session, ctx.actor, membership_id, ctx.now)
    key = "team.handed_over_own" if done.own else "team.handed_over"
    lines = [ctx.t(key, name=done.member.name, team=done.team.name)]
    others, _queued = await tell_hand_over(
        ctx.session, ctx.catalog, ctx.default_locale, done, ctx.actor.person_id
    )
    if others:
        lines.append(ctx.t("team.stepped_down_told", names=", ".join(d.name for d in others)))
    ctx.reply("\n".join(lines), edit=True)


async def tell_hand_over(
    session: AsyncSession,
    catalog: Catalog,
    default_locale: str,
    done: membership_changes.Change,
    acting: int | None = None,
) -> tuple[list[MemberView], int]:
    """Tell the new team leader and every leader who stepped down, each in their own language
    through the outbox, but the one acting (the chat's answer tells them); the chat's «Giao tổ
    trưởng», the operator's `tocns users grant --role team_leader` and a redeemed team leader code
    alike. Returns those stepped down who were told, and the rows queued."""
    others = [d for d in done.stepped_down if d.person_id != acting]
    queued = 0
    if done.member.person_id != acting:  # a newcomer with a team leader code is answered in chat
        queued += await notify(
            session,
            catalog,
            default_locale,
            done.member.person_id,
            "team.you_are_leader",
            kind="team_leader",
            idempotency=f"team:ho:{done.member.membership_id}",
            team=done.team.name,
            commune=done.commune,
        )
    for old in others:
        queued += await notify(
            session,
            catalog,
            default_locale,
            old.person_id,
            "team.you_stepped_down",
            kind="team_leader",
            idempotency=f"team:down:{old.membership_id}",
            name=done.member.name,
            team=done.team.name,
            commune=done.commune,
        )
    return others, queued


async def _pick_member(ctx: Context, unit_id: int, pick: Pick, query: str, *, edit: bool = False) -> None:
    """Up to PICK_SHOWN members as buttons; more are reached by typing part of the name (as /moi
    and /donvi find a unit)."""
    found = await membership_changes.candidates(ctx.session, ctx.actor, unit_id, pick, query)
    if not found:
        ctx.say("team.no_match" if query else "team.nobody_to_pick", edit=edit, query=query)
        if not query:
            ctx.end()
        return
    ctx.goto(PICK_STATE, unit_id=unit_id, pick=pick.value)  # typed text searches the names
    buttons = [Button(m.name, f"to:{pick.value}x:{m.membership_id}") for m in found[:PICK_SHOWN]]
    lines = [ctx.t("team.pick_remove" if pick is Pick.REMOVE else "team.pick_hand_over")]
    if len(found) > PICK_SHOWN:
        lines.append(ctx.t("team.pick_more", count=len(found), shown=PICK_SHOWN))
    ctx.reply("\n".join(lines), rows(*buttons, per_row=1), edit=edit)


@router.state(PICK_STATE)
async def pick_by_name(ctx: Context) -> None:
    unit_id, pick = ctx.state.get("unit_id"), ctx.state.get("pick")
    if not isinstance(unit_id, int) or pick not in ("rm", "ho"):
        ctx.end()
        ctx.say("core.stale_button")
        return
    await _pick_member(ctx, unit_id, Pick(pick), (ctx.msg.text or "").strip())


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
