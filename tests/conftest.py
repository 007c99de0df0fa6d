"""Fixtures: every database test runs on SQLite, and on PostgreSQL when TOCNS_TEST_DATABASE_URL
is set. The schema is always built by the Alembic migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.assemble import build
from bot.kernel import App
from db.base import utcnow
from tests.support import (
    ChatDriver,
    Clock,
    PgDatabase,
    SqliteTemplate,
    backends,
    demo_driver,
    make_settings,
    seed_demo,
)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    template = SqliteTemplate(tmp_path_factory.mktemp("dbtemplate"))
    asyncio.run(template.create())
    return template


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[PgDatabase | None]:
    if "postgresql" not in backends():
        yield None
        return
    database = PgDatabase()
    asyncio.run(database.create())
    yield database
    asyncio.run(database.drop())


@pytest.fixture(params=backends())
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: SqliteTemplate,
    _pg_database: PgDatabase | None,
) -> str:
    if request.param == "sqlite":
        return _sqlite_template.fresh(tmp_path)
    assert _pg_database is not None
    asyncio.run(_pg_database.truncate())
    return _pg_database.url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[App]:
    application = build(make_settings(db_url))
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
def clock(app: App) -> Clock:
    """The time the app's intake sees; starts now, move it with `clock.set(...)`/`clock.advance(...)`."""
    c = Clock(utcnow())
    app.intake.clock = c
    return c


@pytest.fixture
async def seeded_app(app: App) -> App:
    """The app with the demo data (Thành phố Huế's communes, demo people and their history)."""
    await seed_demo(app)
    return app


@pytest.fixture
def as_user(seeded_app: App) -> Callable[..., ChatDriver]:
    """`as_user("canbo")`: a chat driver speaking as one of the demo people."""

    def make(key: str, **kw: object) -> ChatDriver:
        return demo_driver(seeded_app, key, **kw)

    return make
