"""/lienket: one person, two channels (Telegram and Zalo)."""

from __future__ import annotations

from handlers.core import Context
from handlers.router import Router, command_args
from services import linking

router = Router()


@router.command("lienket", "link", help_key="link.cmd.lienket", private_only=True)
async def lienket(ctx: Context) -> None:
    code = command_args(ctx)
    if code:
        linked = await linking.redeem(ctx.session, ctx.actor, code, ctx.now)
        ctx.say("link.merged" if linked.merged else "link.linked", name=linked.display_name)
        return
    issued = await linking.issue(ctx.session, ctx.actor, ctx.now)
    minutes = int((issued.expires_at - ctx.now).total_seconds() // 60)
    ctx.say("link.code", code=issued.code, minutes=minutes)
