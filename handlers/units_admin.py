"""/donvi: officers and leaders create, rename and close the teams of their commune."""

from __future__ import annotations

from handlers.core import Button, Context, rows
from handlers.revoke import after_role_loss
from handlers.router import Router
from services import units
from services.access import Action, Role
from services.errors import InvalidInput
from services.units import UnitKind

router = Router()


@router.command("donvi", "units", help_key="units.cmd.donvi", action=Action.MANAGE_UNITS, private_only=True)
async def donvi(ctx: Context) -> None:
    scopes = ctx.actor.scope_paths(Action.MANAGE_UNITS)
    if scopes == ():
        ctx.say("errors.permission_denied")
        return
    communes = await units.find(ctx.session, kinds=(UnitKind.COMMUNE,), scopes=scopes, limit=9)
    if len(communes) == 1:
        await _show_commune(ctx, communes[0].id)
        return
    ctx.goto("units.commune")
    await _list_communes(ctx, "")


async def _list_communes(ctx: Context, query: str) -> None:
    scopes = ctx.actor.scope_paths(Action.MANAGE_UNITS)
    found = await units.find(ctx.session, kinds=(UnitKind.COMMUNE,), scopes=scopes, query=query, limit=8)
    if not found:
        ctx.say("units.no_match", query=query)
        return
    buttons = [Button(f"{u.name} ({u.code})", f"dv:c:{u.id}") for u in found]
    ctx.say("units.choose_commune", buttons=rows(*buttons, per_row=1))


@router.state("units.commune")
async def search_commune(ctx: Context) -> None:
    await _list_communes(ctx, (ctx.msg.text or "").strip())


async def _show_commune(ctx: Context, commune_id: int) -> None:
    commune = await units.by_id(ctx.session, commune_id)
    ctx.actor.require(Action.MANAGE_UNITS, commune.path)
    ctx.end()
    teams = await units.find(ctx.session, kinds=(UnitKind.TEAM,), scopes=(commune.path,), limit=60)
    lines = [ctx.t("units.teams_title", commune=commune.name, count=len(teams))]
    lines += [f"• {t.name} ({t.code})" for t in teams]
    buttons = [Button(t.name, f"dv:t:{t.id}") for t in teams[:20]]
    buttons.append(Button(ctx.t("units.buttons.add"), f"dv:add:{commune.id}"))
    ctx.reply("\n".join(lines))
    ctx.say("units.choose_team", buttons=rows(*buttons, per_row=1))


@router.callback("dv")
async def buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        ctx.say("core.stale_button", edit=True)
        return
    step, unit_id = parts[1], int(parts[2])
    if step == "c":
        await _show_commune(ctx, unit_id)
    elif step == "add":
        commune = await units.by_id(ctx.session, unit_id)
        ctx.actor.require(Action.MANAGE_UNITS, commune.path)
        ctx.goto("units.add", unit_id=unit_id)
        ctx.say("units.ask_new_name", edit=True, commune=commune.name)
    elif step == "t":
        team = await _managed_team(ctx, unit_id)
        ctx.say(
            "units.team_menu",
            buttons=rows(
                Button(ctx.t("units.buttons.rename"), f"dv:rn:{unit_id}"),
                Button(ctx.t("units.buttons.close"), f"dv:cl:{unit_id}"),
            ),
            edit=True,
            team=team.name,
            code=team.code,
        )
    elif step == "rn":
        team = await _managed_team(ctx, unit_id)
        ctx.goto("units.rename", unit_id=unit_id)
        ctx.say("units.ask_rename", edit=True, team=team.name)
    elif step == "cl":
        team = await _managed_team(ctx, unit_id)
        ctx.say(
            "units.confirm_close",
            buttons=rows(
                Button(ctx.t("units.buttons.close_yes"), f"dv:cly:{unit_id}"),
                Button(ctx.t("core.buttons.cancel"), "core:cancel"),
            ),
            edit=True,
            team=team.name,
        )
    elif step == "cly":
        closure = await units.close_unit(ctx.session, ctx.actor, unit_id, ctx.now)
        ctx.say("units.closed", edit=True, team=closure.team.name)
        await _tell_closure(ctx, closure)
    else:
        ctx.say("core.stale_button", edit=True)


async def _tell_closure(ctx: Context, closure: units.Closure) -> None:
    """Each former member loses the role the way a removed member does (dialogs, invite codes,
    claimed tickets) and is told why; each requester hears their request will not be decided.
    Keys name the team and the person: a team closes once, so nobody is told twice."""
    team = closure.team
    for ended in closure.ended:
        await after_role_loss(ctx.session, ctx.catalog, ctx.default_locale, ended.person_id, ctx.now)
        await ctx.notify(
            ended.person_id,
            "units.closed_notice.leader" if ended.role == Role.TEAM_LEADER else "units.closed_notice.member",
            kind="team_closed",
            idempotency=f"team:close:{team.id}:{ended.person_id}",
            team=team.name,
        )
    for request_id, person_id in closure.rejected:
        await ctx.notify(
            person_id,
            "units.closed_request_notice",
            kind="join_decision",
            idempotency=f"join:{request_id}:decision",
            team=team.name,
        )


async def _managed_team(ctx: Context, unit_id: int) -> units.UnitView:
    """A team the actor manages; a copied `dv:` payload naming another unit says nothing about it."""
    team = await units.by_id(ctx.session, unit_id)
    ctx.actor.require(Action.MANAGE_UNITS, team.path)
    if team.kind != UnitKind.TEAM:
        raise InvalidInput("units.errors.only_teams")
    return team


@router.state("units.add")
async def new_team(ctx: Context) -> None:
    team = await units.create_team(ctx.session, ctx.actor, int(ctx.state["unit_id"]), ctx.msg.text or "")
    ctx.end()
    ctx.say("units.created", team=team.name, code=team.code)


@router.state("units.rename")
async def rename(ctx: Context) -> None:
    team = await units.rename_unit(ctx.session, ctx.actor, int(ctx.state["unit_id"]), ctx.msg.text or "")
    ctx.end()
    ctx.say("units.renamed", team=team.name)
