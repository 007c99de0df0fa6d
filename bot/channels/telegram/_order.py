"""PTB's update processor for tocns: updates of different chats concurrently, one chat's in order.

`Application.concurrent_updates(ChatOrderedProcessor(...))` makes PTB start a task per update (in
arrival order); the first thing each task does, before any `await` that could suspend, is reserve its
chat's turn in a `ChatSequencer` — so a chat's updates are handled one after another, in the order
Telegram sent them, while other chats go ahead (python-telegram-bot docs, "Concurrency":
BaseUpdateProcessor). PTB's own semaphore is set far above the sequencer's cap so it never makes a
task wait (and if it did, asyncio's semaphore wakes waiters first in, first out).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.sequencer import ChatSequencer

UPDATE_CONCURRENCY = 8  # chats processed at once per worker (≤ the database pool)
PTB_TASKS = 4096  # PTB's semaphore: never the limit


def chat_key(update: object) -> str:
    """The ordering key: the chat, else the user (inline queries, …), else one shared key."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return f"c{update.effective_chat.id}"
        if update.effective_user is not None:
            return f"u{update.effective_user.id}"
    return "-"


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, sequencer: ChatSequencer | None = None) -> None:
        self.sequencer = sequencer or ChatSequencer(UPDATE_CONCURRENCY)
        # PTB runs updates concurrently when this is > 1; the real cap is the sequencer's.
        super().__init__(max_concurrent_updates=PTB_TASKS)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        turn = self.sequencer.reserve(chat_key(update))  # synchronous: arrival order
        async with turn:
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
