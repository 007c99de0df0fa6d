"""The console channel: chat with the same dialogs in a terminal (buttons as numbered options)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.intake import DatabaseUnavailable
from bot.kernel import App
from handlers.core import Incoming, Reply
from services.demo import DEMO_CHANNEL, DEMO_USERS, DemoUser

SWITCH_PREFIX = "#as "


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """Who types in the console: a demo user (account demo-<key>) or a console account an operator
    granted (`tocns users grant --channel console --user-id X`), by its external id."""

    external_id: str
    display_name: str
    description: str


def as_console_user(user: DemoUser | ConsoleUser) -> ConsoleUser:
    if isinstance(user, ConsoleUser):
        return user
    return ConsoleUser(f"demo-{user.key}", user.display_name, user.description)


# `#as NAME` inside the console: the user to switch to, or a line saying why not.
Switch = Callable[[str], Awaitable[ConsoleUser | str]]


def find_demo_user(key: str) -> DemoUser | None:
    return next((u for u in DEMO_USERS if u.key == key), None)


def demo_users_text() -> str:
    return "\n".join(f"  {u.key:<9} {u.display_name} — {u.description}" for u in DEMO_USERS)


PUSH_POLL_SECONDS = 2.0


class ConsoleSender:
    """Delivers pushes (digests, alerts, hand-off messages) to the terminal, naming the recipient
    by their name (every console account of the database, not only the demo roles)."""

    channel = DEMO_CHANNEL
    supports_buttons = False

    def __init__(self, out: TextIO, app: App | None = None) -> None:
        self.out = out
        self.app = app
        self.files_dir = Path(tempfile.gettempdir()) / "tocns-console"

    async def _name(self, chat_id: str) -> str:
        known = next((u.display_name for u in DEMO_USERS if f"demo-{u.key}" == chat_id), None)
        if known is not None or self.app is None:
            return known or chat_id
        from db.models import Person
        from db.repositories import core as repo

        async with self.app.sessions() as session:
            account = await repo.find_account(session, DEMO_CHANNEL, chat_id)
            person = await session.get(Person, account.person_id) if account is not None else None
        return person.display_name if person is not None else chat_id

    async def send(self, chat_id: str, reply: Reply) -> None:
        who = await self._name(chat_id)
        self.out.write(f"\n📨 [→ {who}]\n")
        print_reply(reply, self.out, self.files_dir)


def print_reply(reply: Reply, out: TextIO, files_dir: Path) -> None:
    out.write(reply.text + "\n")
    if reply.attachment is not None:
        files_dir.mkdir(parents=True, exist_ok=True)
        path = files_dir / reply.attachment.filename
        path.write_bytes(reply.attachment.data)
        caption = f" — {reply.attachment.caption}" if reply.attachment.caption else ""
        out.write(f"📎 {path}{caption}\n")
    out.flush()


async def chat(
    app: App,
    user: DemoUser | ConsoleUser,
    lines: Iterable[str] | None,
    out: TextIO | None = None,
    switch: Switch | None = None,
) -> int:
    """Run a console conversation; `lines` None means read the terminal interactively. `switch`
    resolves `#as NAME` (default: the demo users)."""
    out = out or sys.stdout  # looked up now: whatever stdout is at call time
    sender = ConsoleSender(out, app)
    app.add_sender(sender)
    current = as_console_user(user)
    interactive = lines is None
    poller: asyncio.Task[None] | None = None
    stop = asyncio.Event()
    if interactive:
        out.write(
            f"tocns — {current.display_name} ({current.description}). "
            "Gõ /help để xem lệnh, #as <tên> để đổi người dùng, Ctrl-D để thoát.\n"
        )
        # Pushes queued by another process (`tocns jobs run`, a second console) show as they
        # arrive, not when someone next types.
        poller = asyncio.create_task(_poll_pushes(app, stop))
    else:
        # A script is one person typing fast on purpose: the flood guard is for phones.
        app.intake.flood.limit = sys.maxsize
    try:
        return await _converse(app, sender, current, lines, out, switch or _demo_switch)
    finally:
        if poller is not None:
            # Asked, not cancelled: a cancel landing inside a database call leaves aiosqlite's
            # thread answering a loop that is already closed when the program ends.
            stop.set()
            await poller


async def _poll_pushes(app: App, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PUSH_POLL_SECONDS)
            return
        try:
            while await app.dispatcher.drain_once():
                pass
        except Exception:  # the database is busy or gone: try again at the next tick
            continue


async def _demo_switch(name: str) -> ConsoleUser | str:
    found = find_demo_user(name)
    return as_console_user(found) if found is not None else "Người dùng demo:\n" + demo_users_text()


async def _converse(
    app: App,
    sender: ConsoleSender,
    current: ConsoleUser,
    lines: Iterable[str] | None,
    out: TextIO,
    switch: Switch,
) -> int:
    interactive = lines is None
    async for raw in _source(lines):
        line = raw.rstrip("\n")
        if line.startswith(SWITCH_PREFIX) or line.strip() == SWITCH_PREFIX.strip():  # "#as": the list
            name = line[len(SWITCH_PREFIX) :].strip()
            other = await switch(name)
            if isinstance(other, str):
                out.write(other + "\n")
            else:
                current = other
                out.write(f"— bây giờ là {current.display_name} ({current.description})\n")
            continue
        if not interactive:
            out.write(f"> {line}\n")
        msg = Incoming(
            channel=DEMO_CHANNEL,
            chat_id=current.external_id,
            user_id=current.external_id,
            display_name=current.display_name,
            update_key=f"console:{uuid.uuid4()}",
            text=line,
            supports_buttons=False,
        )
        try:
            outcome = await app.intake.handle(msg)
        except DatabaseUnavailable:
            out.write(app.catalog.text(app.settings.app.locale, "core.busy") + "\n")
            continue
        for reply in outcome.replies:
            print_reply(reply, out, sender.files_dir)
        # Show pushes this step produced (a hand-off message, a status alert…) right away.
        while await app.dispatcher.drain_once():
            pass
        if interactive:
            out.write("\n")
    return 0


async def _source(lines: Iterable[str] | None) -> AsyncIterator[str]:
    if lines is not None:
        for line in lines:
            yield line
        return
    while True:
        try:
            # In a thread, so the scheduler and dispatcher keep running while we wait.
            yield await asyncio.to_thread(input, "› ")
        except EOFError:
            return
