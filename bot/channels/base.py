"""What the outbox dispatcher needs from a channel: a way to send one Reply to one chat."""

from __future__ import annotations

from typing import Protocol

from handlers.core import Reply


class DeliveryError(Exception):
    """A failed send. `retry_after` (seconds) when the platform said so; `unreachable` when
    the person cannot be messaged now (blocked the bot, outside the messaging window);
    `permanent` when retrying cannot help (bad chat id)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        unreachable: bool = False,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.permanent = permanent


class Sender(Protocol):
    channel: str
    supports_buttons: bool

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one reply; raise DeliveryError on failure."""
