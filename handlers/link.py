"""/lienket: one person, two channels (Telegram and Zalo).

`/lienket` gives a code; `/lienket CODE` on the other account asks the code's owner, who sees
both accounts with their roles and confirms (`lk:y:<id>`) or refuses (`lk:n:<id>`);
`/lienket huy` detaches another account (`lk:u:<account id>`)."""

from __future__ import annotations

from handlers.core import Button, Context, rows
from handlers.router import Router, command_args
from services import linking, people

router = Router()
UNLINK_WORDS = ("huy", "hủy", "huỷ", "unlink", "cancel")
CHANNEL_NAMES = {"telegram": "Telegram", "zalo_bot": "Zalo", "zalo_oa": "Zalo OA", "console": "console"}


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def describe(ctx: Context, side: linking.Side, lang: str | None = None) -> str:
    """«Name — Telegram …1234; cán bộ xã/phường (Phường X)» for one side of a link."""
    lang = lang or ctx.locale
    accounts = ", ".join(f"{channel_name(a.channel)} {a.masked_id}" for a in side.accounts)
    held = [
        ctx.catalog.text(lang, f"onboarding.roles.{r.role.value}")
        + (f" ({r.unit_name})" if r.unit_name else "")
        for r in side.roles
    ] or [ctx.catalog.text(lang, "onboarding.roles.citizen")]
    return ctx.catalog.text(
        lang, "link.side", name=side.display_name, accounts=accounts, roles="; ".join(held)
    )


@router.command("lienket", "link", help_key="link.cmd.lienket", private_only=True)
async def lienket(ctx: Context) -> None:
    arg = command_args(ctx)
    if arg.lower() in UNLINK_WORDS:
        await _unlink_menu(ctx)
        return
    if arg:
        await _request(ctx, arg)
        return
    issued = await linking.issue(ctx.session, ctx.actor, ctx.now)
    minutes = int((issued.expires_at - ctx.now).total_seconds() // 60)
    ctx.say("link.code", code=issued.code, minutes=minutes)


async def _request(ctx: Context, code: str) -> None:
    asked = await linking.request(ctx.session, ctx.actor, code, ctx.now)
    ctx.say("link.asked", owner=describe(ctx, asked.owner))
    owner = await _locale_of(ctx, asked.owner.person_id)
    await ctx.notify(
        asked.owner.person_id,
        "link.confirm",
        kind="link_confirm",
        idempotency=f"link:{asked.code_id}:ask",
        buttons=rows(
            Button(ctx.catalog.text(owner, "link.buttons.yes"), f"lk:y:{asked.code_id}"),
            Button(ctx.catalog.text(owner, "link.buttons.no"), f"lk:n:{asked.code_id}"),
        ),
        owner=describe(ctx, asked.owner, owner),
        requester=describe(ctx, asked.requester, owner),
    )


async def _locale_of(ctx: Context, person_id: int) -> str:
    return (await people.load_actor(ctx.session, person_id)).locale or ctx.default_locale


async def _unlink_menu(ctx: Context) -> None:
    mine = await linking.accounts(ctx.session, ctx.actor.person_id)
    current = await _current_account_id(ctx)
    others = [a for a in mine if a.id != current]
    if not others:
        ctx.say("link.nothing_to_unlink")
        return
    buttons = [Button(f"{channel_name(a.channel)} {a.masked_id}", f"lk:u:{a.id}") for a in others]
    buttons.append(Button(ctx.t("core.buttons.cancel"), "core:cancel"))
    ctx.say("link.pick_unlink", buttons=rows(*buttons, per_row=1))


async def _current_account_id(ctx: Context) -> int | None:
    return await people.account_id(ctx.session, ctx.msg.channel, ctx.msg.user_id)


@router.callback("lk")
async def buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        ctx.say("core.stale_button", edit=True)
        return
    step, number = parts[1], int(parts[2])
    if step == "y":
        linked = await linking.confirm(ctx.session, ctx.actor, number, ctx.now)
        ctx.say("link.merged" if linked.merged else "link.linked", edit=True, name=linked.display_name)
        await ctx.notify(
            linked.person_id,
            "link.done_notice",
            kind="link_done",
            idempotency=f"link:{number}:done",
            name=linked.display_name,
        )
    elif step == "n":
        requester = await linking.reject(ctx.session, ctx.actor, number, ctx.now)
        ctx.say("link.rejected", edit=True)
        await ctx.notify(requester, "link.rejected_notice", kind="link_done", idempotency=f"link:{number}:no")
    elif step == "u":
        done = await linking.unlink(ctx.session, ctx.actor, number, (ctx.msg.channel, ctx.msg.user_id))
        ctx.say(
            "link.unlinked",
            edit=True,
            account=f"{channel_name(done.account.channel)} {done.account.masked_id}",
        )
    else:
        ctx.say("core.stale_button", edit=True)
