"""/web: a one-time link (valid 10 minutes, bound to the person who asked) to the web dashboard;
the digest's "Xem trên web" button sends one that opens that unit and week."""

from __future__ import annotations

from urllib.parse import quote

from handlers.core import Button, ChatType, Context, ResourceKey
from handlers.router import Router, command_args
from services import kpi, web_auth
from services.access import Action, Role

router = Router()
# The dashboard's public address (set when the web server mounts the dashboard).
WEB_BASE_URL: ResourceKey[str] = ResourceKey("web_base_url")
PREFIX = "/web"


def link_url(base: str, token: str, next_path: str | None = None) -> str:
    url = f"{base.rstrip('/')}{PREFIX}/login?t={token}"
    if next_path:
        url += "&next=" + quote(next_path, safe="")
    return url


async def _send_link(ctx: Context, next_path: str | None) -> None:
    base = ctx.resources.get(WEB_BASE_URL)
    if not base:
        ctx.say("web.disabled")
        return
    if not web_auth.may_use(ctx.actor):
        ctx.say("web.not_for_you")
        return
    token = await web_auth.issue_link(ctx.session, ctx.actor, ctx.now)
    url = link_url(base, token, next_path)
    ctx.reply(ctx.t("web.link", url=url, minutes=10), [[Button(ctx.t("web.open"), url=url)]])


@router.command(
    "web",
    help_key="web.cmd.web",
    roles=(Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN),
    private_only=True,  # a link posted in a group would sign in whoever opens it first
)
async def web_link(ctx: Context) -> None:
    code = command_args(ctx).split()[0] if command_args(ctx) else None
    next_path = None
    if code:
        unit = await kpi.resolve_unit(ctx.session, ctx.actor, code, Action.VIEW_KPI)
        next_path = f"{PREFIX}/u/{unit.code}"
    await _send_link(ctx, next_path)


@router.callback("web")
async def web_button(ctx: Context) -> None:
    # Payload web:<unit code>:<period key> (the digest's "Xem trên web"); scope checked here and
    # again by every page.
    if ctx.msg.chat_type == ChatType.GROUP:
        ctx.say("web.private_only")
        return
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3:
        ctx.say("core.stale_button")
        return
    unit = await kpi.resolve_unit(ctx.session, ctx.actor, parts[1], Action.VIEW_KPI)
    period = kpi.parse_period(parts[2])
    await _send_link(ctx, f"{PREFIX}/u/{unit.code}?period={period.key}")
