"""The one place that builds everything from settings: engine, catalog, router, intake,
dispatcher, channels. Nothing is created at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import Sender
from bot.config import KNOWN_SECTIONS, ConfigError, Settings
from bot.dispatcher import Dispatcher
from bot.intake import Intake
from db import migrate
from db.engine import create_engine, session_factory
from handlers.core import Resources
from handlers.faq import FAQ_INDEX
from handlers.faq import build_index as build_faq_index
from handlers.i18n import Catalog
from handlers.registry import build_router
from handlers.router import ROUTER, Router

log = logging.getLogger("tocns")
ROOT = Path(__file__).resolve().parent.parent


class StartupError(Exception):
    """Start-up cannot continue; the message is shown as one line."""


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
    senders: dict[str, Sender] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.channel] = sender
        self.dispatcher.senders[sender.channel] = sender

    async def close(self) -> None:
        await self.engine.dispose()


def _section_validators() -> dict[str, Callable[[dict[str, Any]], object]]:
    """Feature sections of config.yaml and the model that validates each (imported lazily)."""
    from bot.zalo_bot import ZaloBotSettings
    from bot.zalo_oa import ZaloOASettings
    from handlers.faq import FaqConfig
    from services import kpi
    from services.handoff.hours import HandoffSettings
    from services.sessions.values import LoggingConfig

    return {
        "kpi": lambda extra: kpi.settings_from(extra),
        "logging": lambda extra: LoggingConfig.model_validate(extra.get("logging") or {}),
        "faq": lambda extra: FaqConfig.model_validate(extra.get("faq") or {}),
        "handoff": lambda extra: HandoffSettings.model_validate(extra.get("handoff") or {}),
        "zalo_bot": lambda extra: ZaloBotSettings.model_validate(extra.get("zalo_bot") or {}),
        "zalo_oa": lambda extra: ZaloOASettings.model_validate(extra.get("zalo_oa") or {}),
    }


def validate_feature_sections(settings: Settings) -> None:
    """Stop start-up on an unknown section or a wrong value, naming the key (like the core ones)."""
    validators = _section_validators()
    for section in settings.extra:
        if section not in validators:
            known = ", ".join(sorted([*KNOWN_SECTIONS, *validators]))
            raise ConfigError(f"{section}: unknown section (known: {known})")
    for section, validate in validators.items():
        try:
            validate(settings.extra)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"{section}.{loc}: {err['msg']}") from None
        except ValueError as exc:
            raise ConfigError(f"{section}: {exc}") from None


def build(settings: Settings) -> App:
    validate_feature_sections(settings)
    engine = create_engine(
        settings.database.url, echo=settings.database.echo, busy_timeout=settings.database.sqlite_busy_timeout
    )
    sessions = session_factory(engine)
    catalog = Catalog.load()
    router = build_router()
    resources = Resources()
    resources[ROUTER] = router
    try:  # the FAQ knowledge base (shipped + faq.local_dir); a bad entry stops start-up
        resources[FAQ_INDEX] = build_faq_index(settings.extra, ROOT / "knowledge", base=Path.cwd())
    except ValueError as exc:
        raise StartupError(str(exc).splitlines()[0]) from None
    intake = Intake(
        sessions,
        router,
        catalog,
        resources,
        default_locale=settings.app.locale,
        tz=settings.tz,
        idle=timedelta(minutes=settings.app.dialog_idle_minutes),
        flood_limit=settings.app.flood_limit_per_10s,
        feature_config=settings.extra,
    )
    dispatcher = Dispatcher(sessions, {}, settings.outbox)
    return App(settings, engine, sessions, catalog, router, resources, intake, dispatcher)


async def prepare_database(app: App) -> None:
    """Check the database answers; apply migrations or refuse to start when they are behind."""
    url = app.settings.database.url
    try:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StartupError(f"database.url: cannot connect ({type(exc).__name__}: {str(exc)[:120]})") from None
    if await migrate.pending(app.engine, url):
        if app.settings.database.auto_migrate:
            log.info("applying database migrations")
            await migrate.upgrade(app.engine, url)
        else:
            raise StartupError(
                "database schema is behind the code and database.auto_migrate is false: "
                "run `tocns db upgrade` first"
            )
