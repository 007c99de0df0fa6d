"""The schema comes from Alembic: upgrade builds every mapped table, downgrade removes them,
and the models never drift from the revisions."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

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
            # Which database: an upgrade run without the service's environment migrated another one.
            assert "tocns db upgrade" in str(exc) and make_url(url).database in str(exc), str(exc)
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
    await migrate.downgrade(app.engine, url, "0018@-1")  # only the newest head steps back
    assert await migrate.pending(app.engine, url)
    await migrate.downgrade(app.engine, url, "base")  # the version table is emptied
    assert await migrate.pending(app.engine, url)
    await migrate.upgrade(app.engine, url)
    assert not await migrate.pending(app.engine, url)


async def test_join_requests_of_teams_closed_before_are_rejected(seeded_app: App) -> None:
    """0018: a team closed by the old code left its join requests pending for ever (the officer's
    «Duyệt» refused, the request stayed). The rows are what that code left; the migration rejects
    them, and only them."""
    from sqlalchemy import select

    from db.models import JoinRequest, Person, Unit

    url = seeded_app.settings.database.url
    await migrate.downgrade(seeded_app.engine, url, "0018@-1")
    async with seeded_app.sessions() as s, s.begin():
        closed = (await s.execute(select(Unit).where(Unit.code == "19786-1"))).scalar_one()
        open_team = (await s.execute(select(Unit).where(Unit.code == "19786-2"))).scalar_one()
        closed.active = False
        person = (await s.execute(select(Person).limit(1))).scalar_one()
        s.add_all(
            [
                JoinRequest(person_id=person.id, unit_id=closed.id, role="volunteer"),
                JoinRequest(person_id=person.id, unit_id=open_team.id, role="volunteer"),
            ]
        )
    await migrate.upgrade(seeded_app.engine, url)
    async with seeded_app.sessions() as s:
        rows = (await s.execute(select(JoinRequest.unit_id, JoinRequest.status))).all()
    assert (closed.id, "rejected") in rows and (open_team.id, "pending") in rows, rows
    assert (closed.id, "pending") not in rows
