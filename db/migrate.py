"""Run Alembic migrations programmatically; the schema is always built this way (tests too)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    return set(heads)


async def pending(engine: AsyncEngine, url: str) -> bool:
    """True when the database is behind the code's migrations."""
    return await current_revisions(engine) != head_revisions(url)


async def upgrade(engine: AsyncEngine, url: str, revision: str = "heads") -> None:
    """Apply migrations on the given engine's connection (one transaction on PostgreSQL)."""
    cfg = alembic_config(url)

    def _do(sync_conn: object) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_do)


async def downgrade(engine: AsyncEngine, url: str, revision: str = "base") -> None:
    cfg = alembic_config(url)

    def _do(sync_conn: object) -> None:
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_do)
