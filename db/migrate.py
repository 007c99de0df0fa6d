"""Run Alembic migrations programmatically; the schema is always built this way (tests too).

Alembic is imported only when it is needed: importing it (with Mako and Pygments) was a tenth of
every `tocns` command's start on a slow machine, and the start-up check (`pending`) usually needs
no more than the database's version row and the revision ids written in the migration files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)?=(.*)$", re.M)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revisions(url: str) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    return set(heads)


def _written_heads() -> set[str] | None:
    """The head revisions as the migration files write them (revisions no file names as its
    down_revision); None when a file does not read plainly (then Alembic decides)."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("[!_]*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        downs.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1).split("#", 1)[0]))
    return revisions - downs or None


async def _stored_versions(engine: AsyncEngine) -> set[str] | None:
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {str(r[0]) for r in rows}
    except Exception:  # no version table yet (a new database): Alembic decides
        return None


async def pending(engine: AsyncEngine, url: str) -> bool:
    """True when the database is behind the code's migrations. The usual answer — up to date —
    comes from the version row and the files' revision ids; anything else is Alembic's to say."""
    written = _written_heads()
    if written is not None and await _stored_versions(engine) == written:
        return False
    return await current_revisions(engine) != head_revisions(url)


async def upgrade(engine: AsyncEngine, url: str, revision: str = "heads") -> None:
    """Apply migrations on the given engine's connection (one transaction on PostgreSQL)."""
    from alembic import command

    cfg = alembic_config(url)

    def _do(sync_conn: object) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_do)


async def downgrade(engine: AsyncEngine, url: str, revision: str = "base") -> None:
    from alembic import command

    cfg = alembic_config(url)

    def _do(sync_conn: object) -> None:
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_do)
