"""The console channel: chat with the same dialogs in a terminal (buttons as numbered options)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TextIO

from bot.intake import DatabaseUnavailable
from bot.kernel import App
from handlers.core import Incoming, Reply
from services.demo import DEMO_CHANNEL, DEMO_USERS, DemoUser

SWITCH_PREFIX = "#as "


def find_demo_user(key: str) -> DemoUser | None:
    return next((u for u in DEMO_USERS if u.key == key), None)


def demo_users_text() -> str:
    return "\n".join(f"  {u.key:<9} {u.display_name} — {u.description}" for u in DEMO_USERS)


class ConsoleSender:
    """Delivers pushes (digests, alerts, hand-off messages) to the terminal, naming the recipient."""

    channel = DEMO_CHANNEL
    supports_buttons = False

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.files_dir = Path(tempfile.gettempdir()) / "tocns-console"

    async def send(self, chat_id: str, reply: Reply) -> None:
        who = next((u.display_name for u in DEMO_USERS if f"demo-{u.key}" == chat_id), chat_id)
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


async def chat(app: App, user: DemoUser, lines: Iterable[str] | None, out: TextIO = sys.stdout) -> int:
    """Run a console conversation; `lines` None means read the terminal interactively."""
    sender = ConsoleSender(out)
    app.add_sender(sender)
    current = user
    interactive = lines is None
    if interactive:
        out.write(
            f"tocns — {current.display_name} ({current.description}). "
            "Gõ /help để xem lệnh, #as <tên> để đổi người dùng, Ctrl-D để thoát.\n"
        )
    async for raw in _source(lines):
        line = raw.rstrip("\n")
        if line.startswith(SWITCH_PREFIX):
            other = find_demo_user(line[len(SWITCH_PREFIX) :].strip())
            if other is None:
                out.write("Người dùng demo:\n" + demo_users_text() + "\n")
            else:
                current = other
                out.write(f"— bây giờ là {current.display_name} ({current.description})\n")
            continue
        if not interactive:
            out.write(f"> {line}\n")
        msg = Incoming(
            channel=DEMO_CHANNEL,
            chat_id=f"demo-{current.key}",
            user_id=f"demo-{current.key}",
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
