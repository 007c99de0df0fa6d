"""What channel adapters, the CLI and the web server may import: the assembled App, the
Channel and Sender protocols, and the errors they raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.metrics import Metrics
from handlers.core import Reply, Resources
from handlers.i18n import Catalog
from handlers.router import Router
from handlers.settings import FeatureSettings

if TYPE_CHECKING:  # the App holds them; they import the kernel's Sender and errors
    from bot.dispatcher import Dispatcher
    from bot.intake import Intake

ROOT = Path(__file__).resolve().parent.parent


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


class StartupError(Exception):
    """Start-up cannot continue; the message is shown as one line."""


class DatabaseUnreachable(StartupError):
    """The database at database.url does not answer: `url` (password hidden) and the driver's own
    words (`detail`); the command line says it in the operator's language."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"database.url: cannot connect to {url} ({detail})")
        self.url, self.detail = url, detail


class WebPortError(StartupError):
    """The web server (webhooks, dashboard) could not listen on its address: `errno` says why
    (EADDRINUSE: another process has the port); the command line names the setting to change."""

    def __init__(self, host: str, port: int, exc: OSError) -> None:
        super().__init__(f"web server not started on {host}:{port}: {exc.strerror or exc} (TOCNS_WEB_PORT)")
        self.host, self.port = host, port
        self.errno, self.strerror = exc.errno, exc.strerror


class Channel(Protocol):
    """A running channel adapter (Telegram, Zalo…): started and stopped with the app."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    router: Router
    resources: Resources
    intake: Intake
    dispatcher: Dispatcher
    metrics: Metrics = field(default_factory=Metrics)
    features: FeatureSettings = field(default_factory=FeatureSettings)
    senders: dict[str, Sender] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    engines: list[AsyncEngine] = field(default_factory=list)  # more engines to dispose at close

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.channel] = sender
        self.dispatcher.senders[sender.channel] = sender

    async def close(self) -> None:
        for extra in self.engines:
            await extra.dispose()
        await self.engine.dispose()
