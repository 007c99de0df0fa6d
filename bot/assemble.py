"""The one place that builds everything from settings: engine, catalog, router, intake,
dispatcher. Nothing is created at import time."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from bot.config import Settings, validate_feature_sections
from bot.dispatcher import Dispatcher
from bot.intake import Intake
from bot.kernel import ROOT, App, DatabaseUnreachable, StartupError
from db import migrate
from db.engine import create_engine, create_update_engine, session_factory
from handlers.core import Resources
from handlers.faq import FAQ_INDEX
from handlers.faq import build_index as build_faq_index
from handlers.handoff_desk import undelivered_hook as handoff_undelivered
from handlers.i18n import Catalog
from handlers.registry import build_router
from handlers.router import ROUTER

log = logging.getLogger("tocns")


def build(settings: Settings) -> App:
    features = validate_feature_sections(settings)
    engine = create_engine(
        settings.database.url, echo=settings.database.echo, busy_timeout=settings.database.sqlite_busy_timeout
    )
    sessions = session_factory(engine)
    # People's updates: short transactions on an engine of their own (db/engine.py says why).
    update_engine = create_update_engine(
        settings.database.url,
        echo=settings.database.echo,
        busy_timeout=settings.database.sqlite_busy_timeout,
        sqlite_inline=settings.database.sqlite_inline_updates,
    )
    catalog = Catalog.load()
    router = build_router()
    resources = Resources()
    resources[ROUTER] = router
    try:  # the FAQ knowledge base (shipped + faq.local_dir); a bad entry stops start-up
        cache = Path(settings.app.cache_dir) if settings.app.cache_dir else None
        resources[FAQ_INDEX] = build_faq_index(
            settings.extra, ROOT / "knowledge", base=Path.cwd(), cache_dir=cache
        )
    except ValueError as exc:
        raise StartupError(str(exc).splitlines()[0]) from None
    intake = Intake(
        session_factory(update_engine or engine),
        router,
        catalog,
        resources,
        default_locale=settings.app.locale,
        tz=settings.tz,
        idle=timedelta(minutes=settings.app.dialog_idle_minutes),
        flood_limit=settings.app.flood_limit_per_10s,
        features=features,
    )
    dispatcher = Dispatcher(sessions, {}, settings.outbox)
    dispatcher.on_unreachable = handoff_undelivered(catalog, settings.app.locale)
    dispatcher.unreachable_marked = intake.forget_reachability
    app = App(settings, engine, sessions, catalog, router, resources, intake, dispatcher, features=features)
    if update_engine is not None:
        app.engines.append(update_engine)
    intake.observe = app.metrics.observe_update
    dispatcher.observe = app.metrics.observe_delivery
    return app


async def check_database(app: App) -> None:
    """The database answers, or DatabaseUnreachable (one line, not the driver's traceback)."""
    try:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        cause = getattr(exc, "orig", None) or exc  # the driver's own words, without SQLAlchemy's link
        detail = " ".join(str(cause).split())[:120]
        shown = app.engine.url.render_as_string(hide_password=True)
        raise DatabaseUnreachable(shown, f"{type(cause).__name__}: {detail}") from None


async def prepare_database(app: App) -> None:
    """Check the database answers; apply migrations or refuse to start when they are behind."""
    url = app.settings.database.url
    await check_database(app)
    if await migrate.pending(app.engine, url):
        if app.settings.database.auto_migrate:
            log.info("applying database migrations")
            await migrate.upgrade(app.engine, url)
        else:
            # Named: `tocns db upgrade` run in a shell without the service's environment migrated a
            # SQLite file of its own, and this line then asked for what had just been done.
            shown = app.engine.url.render_as_string(hide_password=True)
            raise StartupError(
                f"database schema of {shown} is behind the code and database.auto_migrate is false: "
                "run `tocns db upgrade` first, with this same TOCNS_DATABASE_URL"
            )
