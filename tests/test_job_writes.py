"""Jobs never hold the database while they compute: a person is answered while a digest renders,
each unit's chart is drawn once (not once per recipient), and the outbox rows are written in short
batches that, together, hold exactly what one long transaction did. No timing assertions."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from bot import scheduler
from bot.kernel import App
from services import digest
from tests import kpi_helpers as h
from tests.support import ChatDriver, outbox_rows
from tests.test_jobs import NOW, seed


async def test_chart_drawn_once_per_unit_and_language(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await seed(app)
    async with app.sessions() as s, s.begin():  # three more Vietnamese leaders of the province
        for i in range(3):
            await h.person(s, f"Lãnh đạo {i}", "leader", ids["t"]["P"])
    drawn: list[str] = []
    real = digest.chart_png

    def counting(d: Any, settings: Any, lang: str, **kw: Any) -> bytes:
        drawn.append(f"{d.unit.code}:{lang}")
        return real(d, settings, lang, **kw)

    monkeypatch.setattr(digest, "chart_png", counting)
    result = await scheduler.run_job(app, "weekly_digest", NOW)
    assert result.status == "done"
    assert sorted(drawn) == ["P:en", "P:vi"]  # five leaders, one chart per language
    charts = [r for r in await outbox_rows(app) if r.kind == "weekly_digest" and "attachment" in r.payload]
    assert len(charts) == 5
    assert len({r.payload["attachment"]["data"] for r in charts if r.person_id != ids["lead_p_en"]}) == 1


async def test_rows_written_in_batches_same_rows_as_before(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed(app)
    monkeypatch.setattr(scheduler, "WRITE_BATCH", 1)
    result = await scheduler.run_job(app, "weekly_digest", NOW)
    rows = [r for r in await outbox_rows(app) if r.kind == "weekly_digest"]
    assert result.messages == len(rows) == 4  # two leaders × (text + chart), as in one transaction
    assert result.writes == 5  # four one-message batches + the job_runs mark
    assert result.longest_write_ms > 0
    again = await scheduler.run_job(app, "weekly_digest", NOW, force=True)
    assert again.messages == 0  # the idempotency keys skip what is queued


async def test_a_person_is_answered_while_the_digest_renders(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(app)
    rendering = threading.Event()
    release = threading.Event()
    real = digest.chart_png

    def slow(*args: Any, **kw: Any) -> bytes:
        rendering.set()
        release.wait(60)
        return real(*args, **kw)

    monkeypatch.setattr(digest, "chart_png", slow)
    job = asyncio.create_task(scheduler.run_job(app, "weekly_digest", NOW))
    try:
        await asyncio.to_thread(rendering.wait, 60)
        # The job is mid-run (its chart is being drawn): a citizen's update still commits.
        said = await asyncio.wait_for(ChatDriver(app, "citizen-1").send("/help"), 60)
        assert said.replies and not job.done()
    finally:
        release.set()
    result = await job
    assert result.status == "done" and result.messages == 4
