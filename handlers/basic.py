"""/start, /help, /huy, /ngonngu and the polite fallbacks every channel needs."""

from __future__ import annotations

from handlers.core import Button, ChatType, Context, rows
from handlers.i18n import Catalog
from handlers.router import (
    DEEP_LINK_PAYLOAD,
    ROUTER,
    Router,
    cancel_as_typed,
    command_args,
    is_cancel_word,
    say_private_only,
)
from services import people
from services.access import Actor, Role
from services.small_talk import Kind as SmallTalk
from services.small_talk import kind as small_talk_kind
from services.text import fold_words

router = Router()

# The role a greeting speaks to: the most senior one the person holds.
_ROLE_ORDER = (Role.ADMIN, Role.LEADER, Role.OFFICER, Role.TEAM_LEADER, Role.VOLUNTEER, Role.CITIZEN)


def main_role(ctx: Context) -> Role:
    return senior_role(ctx.actor)


def senior_role(actor: Actor) -> Role:
    return next(r for r in _ROLE_ORDER if r in actor.roles)


def refusal_text(catalog: Catalog, lang: str, actor: Actor) -> str:
    """A refusal that says who can do it for *this* person: a citizen is pointed to a team, a
    volunteer to their team leader, a leader to the people who do the work."""
    role = senior_role(actor)
    unit = next((g.unit_name for g in actor.grants if g.role is role and g.unit_name), None)
    who = catalog.text(lang, f"errors.ask.{role.value}", unit=unit or "")
    return catalog.text(lang, "errors.denied") + " " + who


@router.command("start", help_key="basic.cmd.start")
async def start(ctx: Context) -> None:
    args = command_args(ctx)
    if args and ctx.msg.chat_type is ChatType.GROUP:
        # «/start MÃ» in a group ran the whole join there (name, code and all, for the group to read).
        token = args.split()[0]
        say_private_only(ctx, "start", token if DEEP_LINK_PAYLOAD.fullmatch(token) else "start")
        return
    if args:
        # Deep links: /start <command> (from "open in private chat") or /start <payload>.
        app_router: Router | None = ctx.resources.get(ROUTER)
        if app_router is not None:
            cmd = app_router.commands.get(args.lower())
            if cmd is not None:
                if cmd.action is not None and not ctx.actor.can(cmd.action):
                    # A link is no way around the command's permission (refusal audit-logged).
                    raise await cmd.refusal(ctx)
                await cmd.handler(ctx)
                return
            for prefix, handler in app_router.deep_links.items():
                if args.startswith(prefix):
                    await handler(ctx)
                    return
    role = main_role(ctx)
    unit = next((g.unit_name for g in ctx.actor.grants if g.unit_name), None)
    ctx.say(f"basic.greeting.{role.value}", name=ctx.actor.display_name, unit=unit or "")
    ctx.say("basic.start_hint", buttons=[[Button(ctx.t("core.buttons.help"), "core:help")]])


@router.text(priority=3)
async def cancel_word(ctx: Context) -> bool:
    """«huỷ», «thôi», «cancel» typed with no dialog open get what /huy says, not «chưa hiểu». Runs
    after an open hand-off takes the text (to a person, «thôi» is a message) and before the FAQ
    (a question with «huỷ» in it is no cancel word)."""
    if not is_cancel_word(ctx.msg.text or ""):
        return False
    await cancel_as_typed(ctx)
    return True


@router.text(priority=5)
async def small_talk(ctx: Context) -> bool:
    """A message of nothing but greetings, thanks or «ok» is answered like a person would; one
    with a question in it («cảm ơn, cho hỏi thêm…») goes on to the look-up and the FAQ."""
    kind = small_talk_kind(ctx.msg.text or "")
    if kind is SmallTalk.GREETING:
        role = main_role(ctx)
        unit = next((g.unit_name for g in ctx.actor.grants if g.unit_name), None)
        ctx.say(
            f"basic.greeting.{role.value}",
            buttons=[[Button(ctx.t("core.buttons.help"), "core:help")]],
            name=ctx.actor.display_name,
            unit=unit or "",
        )
        return True
    if kind is SmallTalk.THANKS:
        ctx.say("basic.thanks", buttons=[[Button(ctx.t("core.buttons.help"), "core:help")]])
        return True
    if kind is SmallTalk.ACK:
        ctx.say("basic.ack")
        return True
    return False


@router.command("help", "trogiup", help_key="basic.cmd.help")
async def help_command(ctx: Context) -> None:
    topic = command_args(ctx).lstrip("/").lower()
    if topic:
        # Detailed help lives with each feature as `<feature>.help.<command>`.
        suffix = f".help.{topic}"
        key = next((k for k in ctx.catalog.messages["vi"] if k.endswith(suffix)), None)
        if key is not None:
            ctx.say(key)
            return
        ctx.say("basic.help_unknown_topic", topic=topic)
        return
    await _help_list(ctx)


async def _help_list(ctx: Context) -> None:
    app_router: Router | None = ctx.resources.get(ROUTER)
    commands = app_router.visible_commands(ctx.actor.roles) if app_router else []
    lines = [ctx.t("basic.help_title")]
    role = main_role(ctx)
    for cmd in commands:
        assert cmd.help_key is not None
        # A line worded for this person's role where the general one would promise too much
        # (a team leader's /moi invites members, not officers).
        own = f"basic.help_for.{role.value}.{cmd.names[0]}"
        lines.append(f"/{cmd.names[0]} — {ctx.t(own if ctx.catalog.has(own) else cmd.help_key)}")
    lines.append(ctx.t("basic.help_footer"))
    ctx.reply("\n".join(lines))


@router.callback("core")
async def core_buttons(ctx: Context) -> None:
    if ctx.msg.payload == "core:help":
        await _help_list(ctx)
    else:
        ctx.say("core.stale_button", toast=True)


# What people type after /ngonngu: «en», «english», «tiếng Anh», «vi», «tieng viet»…
_LANGUAGES = {
    **dict.fromkeys(("en", "eng", "english", "tieng anh", "anh"), "en"),
    **dict.fromkeys(("vi", "vn", "viet", "tieng viet", "viet nam", "vietnamese"), "vi"),
}


@router.command("ngonngu", "language", help_key="basic.cmd.ngonngu")
async def language(ctx: Context) -> None:
    """«/ngonngu en» switches at once; without a language we know, the two are offered."""
    lang = _LANGUAGES.get(fold_words(command_args(ctx)))
    if lang is not None:
        await _switch(ctx, lang)
        ctx.say("basic.language_set")
        return
    ctx.say(
        "basic.choose_language",
        buttons=rows(Button("Tiếng Việt", "lang:vi"), Button("English", "lang:en")),
    )


@router.callback("lang")
async def set_language(ctx: Context) -> None:
    await _switch(ctx, (ctx.msg.payload or "").split(":", 1)[1])
    ctx.say("basic.language_set", edit=True)


async def _switch(ctx: Context, lang: str) -> None:
    await people.set_locale(ctx.session, ctx.actor.person_id, lang)
    ctx.actor = type(ctx.actor)(
        person_id=ctx.actor.person_id,
        display_name=ctx.actor.display_name,
        locale=lang,
        grants=ctx.actor.grants,
    )
