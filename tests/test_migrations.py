"""The schema comes from Alembic: upgrade builds every mapped table, downgrade removes them,
and the models never drift from the revisions."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.assemble import build, prepare_database
from bot.kernel import App, StartupError
from db import migrate
from db.base import Base
from tests.support import make_settings


async def test_migrated_schema_matches_models(app: App) -> None:
    def diff(sync_conn: object) -> list[object]:
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": False})  # type: ignore[arg-type]
        return list(compare_metadata(ctx, Base.metadata))

    async with app.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        changes = await conn.run_sync(diff)
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert changes == [], f"models differ from migrations: {changes}"
    assert not await migrate.pending(app.engine, app.settings.database.url)


async def test_downgrade_and_upgrade_again(app: App) -> None:
    url = app.settings.database.url
    await migrate.downgrade(app.engine, url, "base")
    async with app.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert not ({t.name for t in Base.metadata.sorted_tables} & tables)
    await migrate.upgrade(app.engine, url)
    assert not await migrate.pending(app.engine, url)


async def test_refuses_to_start_behind_without_auto_migrate(app: App, tmp_path: object) -> None:
    url = app.settings.database.url
    await migrate.downgrade(app.engine, url, "base")
    cfg = make_settings(url)
    cfg = cfg.model_copy(update={"database": cfg.database.model_copy(update={"auto_migrate": False})})
    other = build(cfg)
    try:
        try:
            await prepare_database(other)
        except StartupError as exc:
            assert "tocns db upgrade" in str(exc)
        else:
            raise AssertionError("start-up should have been refused")
    finally:
        await other.close()
    await migrate.upgrade(app.engine, url)


def test_the_quick_start_up_check_reads_the_same_heads_as_alembic() -> None:
    """`pending` answers "up to date" from the migration files' revision ids without importing
    Alembic; they must name the heads Alembic computes (else every start takes the slow path)."""
    assert migrate._written_heads() == migrate.head_revisions("sqlite://")


async def test_pending_after_one_step_down_and_on_an_empty_database(app: App) -> None:
    url = app.settings.database.url
    assert not await migrate.pending(app.engine, url)
    await migrate.downgrade(app.engine, url, "0017@-1")  # only the newest head steps back
    assert await migrate.pending(app.engine, url)
    await migrate.downgrade(app.engine, url, "base")  # the version table is emptied
    assert await migrate.pending(app.engine, url)
    await migrate.upgrade(app.engine, url)
    assert not await migrate.pending(app.engine, url)
