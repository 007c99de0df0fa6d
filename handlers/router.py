"""Routes commands, button payloads, dialog-state text and free text to feature dialogs."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import Button, ChatType, Context, Incoming, MessageKind, ResourceKey
from handlers.dialog import Dialog, StepAnswer
from handlers.payloads import Payload, PayloadError
from services.access import PERMISSIONS, Action, Role
from services.errors import PermissionDenied
from services.text import fold_words

Handler = Callable[[Context], Awaitable[None]]
# A free-text handler returns True when it answered; the next one is tried otherwise.
TextHandler = Callable[[Context], Awaitable[bool]]
FilePreparer = Callable[[Incoming, async_sessionmaker[AsyncSession]], Awaitable[Incoming]]
P = TypeVar("P", bound=Payload)
TypedHandler = Callable[[Context, P], Awaitable[None]]
# A refusal that depends on the person's history (their team was closed); None: the usual one.
Refusal = Callable[[Context], Awaitable[PermissionDenied | None]]
CANCEL_COMMANDS = ("huy", "cancel")
CANCEL_PAYLOAD = "core:cancel"
# A message that is nothing but a cancel word, folded: «huỷ», «Hủy!», «thôi nhé», «cancel», «huỷ bỏ».
# A sentence with one in it («cách huỷ đăng ký tạm trú») is a question, never this.
CANCEL_WORDS = frozenset({"huy", "thoi", "cancel"})
_CANCEL_TAIL = frozenset({"bo", "di", "nhe", "nha"})


@dataclass(frozen=True, slots=True)
class Command:
    names: tuple[str, ...]
    handler: Handler
    help_key: str | None
    roles: frozenset[Role]
    private_only: bool
    action: Action | None = None  # checked before the handler runs; refusals are audit-logged
    denied_key: str | None = None  # what to tell someone refused, when more helpful than the default
    refuse: Refusal | None = None  # a refusal fitted to the person, tried before `denied_key`

    async def refusal(self, ctx: Context) -> PermissionDenied:
        """What to raise when the person may not run this command."""
        action = self.action.value if self.action is not None else None
        fitted = await self.refuse(ctx) if self.refuse is not None else None
        if fitted is not None:
            fitted.params.setdefault("action", action)
            return fitted
        return PermissionDenied(self.denied_key, action=action)


class Router:
    """Each feature module owns one Router; `include` merges them into the app's router."""

    def __init__(self, *, private_only: bool = False) -> None:
        self.private_only = private_only  # the default for this router's commands
        self.dialogs: dict[str, Dialog] = {}
        self.commands: dict[str, Command] = {}
        self.command_list: list[Command] = []
        self.callbacks: dict[str, Handler] = {}
        self.states: dict[str, Handler] = {}
        self.media_states: set[str] = set()  # states that take photos, files, voice… as answers
        # States that only listen for a possible follow-up: when they expire nobody is told.
        self.quiet_states: set[str] = set()
        self.media: list[TextHandler] = []  # non-text outside any dialog (e.g. an open ticket)
        self.cancel_notes: list[Handler] = []  # after /huy: say what still stands (e.g. a ticket)
        self.texts: list[tuple[int, TextHandler]] = []
        self.files: list[TextHandler] = []
        self.deep_links: dict[str, Handler] = {}
        # Run on an incoming file before its transaction opens (slow, bounded work such as
        # parsing a spreadsheet in a child process): Incoming in, Incoming (file.prepared) out.
        self.file_preparers: list[FilePreparer] = []

    # --- registration ------------------------------------------------------------------------

    def command(
        self,
        *names: str,
        help_key: str | None = None,
        action: Action | None = None,
        roles: tuple[Role, ...] = (Role.CITIZEN,),
        private_only: bool | None = None,
        denied_key: str | None = None,
        refuse: Refusal | None = None,
    ) -> Callable[[Handler], Handler]:
        """A command; with `action`, who sees it in /help and who may run it come from PERMISSIONS."""
        allowed = PERMISSIONS[action] if action is not None else frozenset(roles)
        private = self.private_only if private_only is None else private_only

        def deco(fn: Handler) -> Handler:
            cmd = Command(tuple(names), fn, help_key, allowed, private, action, denied_key, refuse)
            self.command_list.append(cmd)
            for name in names:
                self.commands[name] = cmd
            return fn

        return deco

    def callback(self, prefix: str) -> Callable[[Handler], Handler]:
        """Handle payloads `prefix:…` (untyped; prefer `typed`)."""

        def deco(fn: Handler) -> Handler:
            self._add_callback(prefix, fn)
            return fn

        return deco

    def typed(self, cls: type[P]) -> Callable[[TypedHandler[P]], TypedHandler[P]]:
        """Handle buttons of one Payload class; the handler gets the parsed payload."""

        def deco(fn: TypedHandler[P]) -> TypedHandler[P]:
            async def handler(ctx: Context) -> None:
                try:
                    data = cls.unpack(ctx.msg.payload or "")
                except PayloadError:
                    stale(ctx)
                    return
                await fn(ctx, data)

            self._add_callback(cls.prefix, handler)
            return fn

        return deco

    def dialog(self, dialog: Dialog) -> Dialog:
        """Route typed text in the dialog's states and its step buttons to the dialog's table."""
        if dialog.prefix in self.dialogs or dialog.prefix in self.states:
            raise ValueError(f"dialog state prefix {dialog.prefix!r} registered twice")
        self.dialogs[dialog.prefix] = dialog

        async def typed_text(ctx: Context) -> None:
            if not await dialog.take_text(ctx):
                ctx.end()  # a state the table no longer has (older code): forget it

        self.states[dialog.prefix] = typed_text
        return dialog

    def _add_callback(self, prefix: str, fn: Handler) -> None:
        if prefix in self.callbacks:
            raise ValueError(f"callback prefix {prefix!r} registered twice")
        self.callbacks[prefix] = fn

    def state(self, prefix: str, *, media: bool = False, quiet: bool = False) -> Callable[[Handler], Handler]:
        """Handle text while the dialog state name is `prefix` or starts with `prefix.`; with
        `media=True` photos, files and voice notes go to it too (otherwise they never answer it);
        `quiet=True`: the state only listens for a follow-up, so its expiry is not announced."""

        def deco(fn: Handler) -> Handler:
            self.states[prefix] = fn
            if media:
                self.media_states.add(prefix)
            if quiet:
                self.quiet_states.add(prefix)
            return fn

        return deco

    def on_media(self) -> Callable[[TextHandler], TextHandler]:
        """Non-text messages outside any dialog; returns True when it took the message."""

        def deco(fn: TextHandler) -> TextHandler:
            self.media.append(fn)
            return fn

        return deco

    def after_cancel(self) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.cancel_notes.append(fn)
            return fn

        return deco

    def text(self, priority: int = 50) -> Callable[[TextHandler], TextHandler]:
        """Free text outside any dialog; lower priority runs first."""

        def deco(fn: TextHandler) -> TextHandler:
            self.texts.append((priority, fn))
            self.texts.sort(key=lambda x: x[0])
            return fn

        return deco

    def file(self) -> Callable[[TextHandler], TextHandler]:
        def deco(fn: TextHandler) -> TextHandler:
            self.files.append(fn)
            return fn

        return deco

    def prepare_file(self) -> Callable[[FilePreparer], FilePreparer]:
        def deco(fn: FilePreparer) -> FilePreparer:
            self.file_preparers.append(fn)
            return fn

        return deco

    async def prepare(self, msg: Incoming, sessions: async_sessionmaker[AsyncSession]) -> Incoming:
        """Outside any transaction: let features prepare an incoming file (see prepare_file)."""
        for fn in self.file_preparers:
            if msg.file is None or msg.file.prepared is not None:
                break
            msg = await fn(msg, sessions)
        return msg

    def deep_link(self, prefix: str) -> Callable[[Handler], Handler]:
        """Handle `/start <prefix>…` (a t.me/<bot>?start=<prefix>… link); args via command_args."""

        def deco(fn: Handler) -> Handler:
            self.deep_links[prefix] = fn
            return fn

        return deco

    def include(self, other: Router) -> None:
        for cmd in other.command_list:
            for name in cmd.names:
                if name in self.commands:
                    raise ValueError(f"command /{name} registered twice")
            self.command_list.append(cmd)
            for name in cmd.names:
                self.commands[name] = cmd
        for prefix, fn in other.callbacks.items():
            self._add_callback(prefix, fn)
        for prefix in other.states:
            if prefix in self.states:
                raise ValueError(f"dialog state prefix {prefix!r} registered twice")
        self.states.update(other.states)
        self.media_states |= other.media_states
        self.quiet_states |= other.quiet_states
        self.media.extend(other.media)
        self.cancel_notes.extend(other.cancel_notes)
        self.dialogs.update(other.dialogs)
        self.texts.extend(other.texts)
        self.texts.sort(key=lambda x: x[0])
        self.files.extend(other.files)
        self.file_preparers.extend(other.file_preparers)
        self.deep_links.update(other.deep_links)

    # --- dispatch ----------------------------------------------------------------------------

    def visible_commands(self, roles: frozenset[Role]) -> list[Command]:
        return [c for c in self.command_list if c.help_key and c.roles & roles]

    def _state_prefix(self, name: str) -> str | None:
        best: str | None = None
        for prefix in self.states:
            if (name == prefix or name.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best)
            ):
                best = prefix
        return best

    def is_quiet(self, name: str) -> bool:
        """A state whose expiry is silent (see `state(quiet=True)`)."""
        prefix = self._state_prefix(name)
        return prefix is not None and prefix in self.quiet_states

    def _state_handler(self, name: str) -> Handler | None:
        prefix = self._state_prefix(name)
        return self.states[prefix] if prefix is not None else None

    async def dispatch(self, ctx: Context) -> None:
        msg = ctx.msg
        plain_text = msg.payload is None and msg.command is None and not msg.is_media and not msg.edited
        if ctx.state_name and not plain_text and self.is_quiet(ctx.state_name):
            ctx.end()  # a listening state is no dialog: buttons, commands, files act as without it
        if msg.edited and msg.payload is None:
            # A correction of an earlier message: the earlier one was already acted on; say so
            # at once rather than let the person believe the edit changed anything.
            if msg.chat_type is ChatType.GROUP:
                ctx.silent = True
                return
            ctx.say("core.edit_ignored" if ctx.state_name else "core.edit_ignored_idle")
            ctx.keep_menu = True
            return
        if msg.payload is not None:
            await self._dispatch_payload(ctx, msg.payload)
            return
        command = msg.command  # a caption is text: "/ghi …" under a photo is the command
        if command is not None:
            await self._dispatch_command(ctx, *command)
            return
        if msg.is_media:
            await self._dispatch_media(ctx)
            return
        text = (msg.text or "").strip()
        if not text:
            ctx.say("core.empty_message")
            return
        if ctx.state_name:
            handler = self._state_handler(ctx.state_name)
            if handler is not None:
                await handler(ctx)
                return
            ctx.end()  # a state from an older version of the code: forget it
        if msg.chat_type is ChatType.GROUP:
            ctx.silent = True  # never answer chatter in a group
            return
        for _prio, fn in self.texts:
            if await fn(ctx):
                return
        ctx.say("core.unknown_text", buttons=[[Button(ctx.t("core.buttons.help"), "core:help")]])

    async def _dispatch_media(self, ctx: Context) -> None:
        """A file, photo, voice note, sticker, location…: routed by what it is, never taken as
        the answer to a question about something else."""
        msg = ctx.msg
        state = ctx.state_name
        prefix = self._state_prefix(state) if state else None
        if msg.file is not None:
            for fn in self.files:  # e.g. the one-stop export goes to the import, whatever is open
                if await fn(ctx):
                    if ctx.state_name:
                        ctx.say("core.dialog_kept")
                        ctx.keep_menu = True
                    return
        if prefix is not None and prefix in self.media_states:
            await self.states[prefix](ctx)
            return
        if msg.chat_type is ChatType.GROUP:
            ctx.silent = True
            return
        what = ctx.t(f"core.kinds.{msg.kind.value}")
        if state and prefix is not None:
            ctx.say("core.media_not_an_answer", what=what)
            ctx.keep_menu = True
            return
        if state:
            ctx.end()
        for fn in self.media:
            if await fn(ctx):
                return
        if msg.kind is MessageKind.DOCUMENT:
            ctx.say("core.file_unexpected")
        else:
            ctx.say("core.media_unsupported", what=what)

    async def _dispatch_payload(self, ctx: Context, payload: str) -> None:
        if payload == CANCEL_PAYLOAD:
            await cancel(ctx, edit=True)
            return
        prefix = payload.split(":", 1)[0]
        if prefix == StepAnswer.prefix:
            await self._dispatch_step(ctx, payload)
            return
        handler = self.callbacks.get(prefix)
        if handler is None:
            stale(ctx)
            return
        await handler(ctx)

    async def _dispatch_step(self, ctx: Context, payload: str) -> None:
        try:
            answer = StepAnswer.unpack(payload)
        except PayloadError:
            stale(ctx)
            return
        dialog = self.dialogs.get(answer.state.rsplit(".", 1)[0])
        if dialog is None:
            stale(ctx)
            return
        await dialog.take_button(ctx, answer)

    async def _dispatch_command(self, ctx: Context, name: str, args: str) -> None:
        if name in CANCEL_COMMANDS:
            await cancel(ctx)
            for note in self.cancel_notes:
                await note(ctx)
            return
        if name == "start" and args and args.split()[0].lower() in self.commands:
            await self._deep_link_command(ctx, args.split()[0].lower())
            return
        cmd = self.commands.get(name)
        if cmd is None:
            ctx.say("core.unknown_command", command=name)
            return
        if cmd.private_only and ctx.msg.chat_type is ChatType.GROUP:
            # «/thamgia MÃ»: the link carries the code (an invite code is a /start payload too).
            start = args if name in JOIN_COMMANDS and DEEP_LINK_PAYLOAD.fullmatch(args) else name
            say_private_only(ctx, name, start)
            return
        if cmd.action is not None and not ctx.actor.can(cmd.action):
            # Before the handler and before the open dialog is dropped; the intake audit-logs it.
            raise await cmd.refusal(ctx)
        # A new command leaves whatever dialog was open (cancel is implicit, as in most bots).
        ctx.end()
        await cmd.handler(ctx)

    async def _deep_link_command(self, ctx: Context, name: str) -> None:
        """`/start ghi` from a group's "open the private chat" link runs `/ghi` (no arguments),
        and never silently drops a dialog the person has open here."""
        if name in CANCEL_COMMANDS or name == "start":
            ctx.msg = replace(ctx.msg, text="/start")
            await self._dispatch_command(ctx, "start", "")
            return
        if ctx.state_name and self._state_handler(ctx.state_name) is not None:
            ctx.say("core.deep_link_busy", command=name)
            ctx.keep_menu = True
            return
        ctx.msg = replace(ctx.msg, text=f"/{name}")
        await self._dispatch_command(ctx, name, "")


JOIN_COMMANDS = ("thamgia", "join")
# What Telegram lets a t.me/<bot>?start= link carry (core.telegram.org/bots/features#deep-linking).
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def say_private_only(ctx: Context, command: str, start: str) -> None:
    """In a group: «do this in the private chat», with a button opening it at `/start <start>`."""
    link = f"https://t.me/{ctx.msg.bot_username}?start={start}" if ctx.msg.bot_username else ""
    buttons = [[Button(ctx.t("core.buttons.open_private"), url=link)]] if link else []
    ctx.say("core.private_only", buttons=buttons, command=command)


async def pass_on(ctx: Context) -> None:
    """A state that only listens for something (a follow-up, a «subscribe» press) does not take this
    text: it ends, and the text goes where it would have gone without it (a question, a hand-off…)."""
    ctx.end()
    app_router = ctx.resources.get(ROUTER)
    if app_router is not None:
        await app_router.dispatch(ctx)
    else:
        ctx.say("core.unknown_text")


async def cancel(ctx: Context, *, edit: bool = False) -> None:
    had_state = ctx.state_name is not None
    ctx.end()
    # No button on «nothing to cancel»: where options are numbered, a «1» typed next to an open
    # ticket must stay a message to the person (handoff_outside), not pick «Hướng dẫn».
    ctx.say("core.cancelled" if had_state else "core.nothing_to_cancel", edit=edit)


def is_cancel_word(text: str) -> bool:
    """The whole message is a cancel word (see CANCEL_WORDS), maybe with a particle after it."""
    words = fold_words(text).split()
    return 0 < len(words) <= 2 and words[0] in CANCEL_WORDS and all(w in _CANCEL_TAIL for w in words[1:])


async def cancel_as_typed(ctx: Context) -> None:
    """A cancel word typed is /huy: the same answer, and what still stands (an open ticket) is said too."""
    app_router = ctx.resources.get(ROUTER)
    if app_router is None:
        await cancel(ctx)
        return
    ctx.msg = replace(ctx.msg, text="/huy")
    await app_router.dispatch(ctx)


def stale(ctx: Context, *_: Any) -> None:
    """The one answer to a button that no longer means anything (old message, forged payload): in
    the button's toast, leaving the tapped message as it was."""
    ctx.say("core.stale_button", toast=True)


def command_args(ctx: Context) -> str:
    cmd = ctx.msg.command
    return cmd[1] if cmd else ""


# Set by the app assembly so /start and /help can see every feature's commands.
ROUTER: ResourceKey[Router] = ResourceKey("router")
