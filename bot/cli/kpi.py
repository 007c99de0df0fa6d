"""`tocns jobs …`, `tocns targets import`, `tocns kpi show`."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from bot import scheduler
from bot.cli._messages import TEXTS, current_locale, say
from bot.cli._runtime import Fail, console, ok, run_async
from bot.kernel import App
from db.base import utcnow
from db.repositories import kpi as repo
from handlers import job_env
from handlers.i18n import Catalog
from handlers.jobs import JOBS
from services import kpi
from services.kpi import targets

if TYPE_CHECKING:
    from bot.scheduler import RunResult
    from services.kpi.targets import ImportResult

jobs_cli = typer.Typer(help="Scheduled jobs (digest, reminders, alerts).", no_args_is_help=True)
targets_cli = typer.Typer(help="KPI targets.", no_args_is_help=True)
kpi_cli = typer.Typer(help="KPI figures.", no_args_is_help=True)
SHOWN_ERRORS = 20  # lines of a rejected targets file named one by one


@jobs_cli.command("list")
def jobs_list() -> None:
    """Every job with its schedule, next run and last run."""

    async def go(app: App) -> Table:
        async with app.sessions() as session:
            last = await kpi.last_runs(session)
        table = Table(say("jobs.schedule"), say("jobs.next"), say("jobs.period"), say("jobs.finished"))
        # Job names are never cut, whatever the terminal width (they are typed back to `jobs run`).
        table.columns.insert(0, Column(say("jobs.job"), no_wrap=True, min_width=max(len(j) for j in JOBS)))
        for job, expr, nxt in scheduler.next_runs(app, utcnow()):
            period, finished = last.get(job, ("", None))
            table.add_row(
                job,
                expr,
                f"{nxt.astimezone(app.settings.tz):%Y-%m-%d %H:%M}" if nxt else "-",
                period,
                f"{finished.astimezone(app.settings.tz):%Y-%m-%d %H:%M}" if finished else "",
            )
        return table

    console.print(run_async(go))


WHOLE_WEEK_JOBS = ("weekly_digest", "lagging_reminders")
# Jobs about the week under way, sent once at a set time: a run by hand before that time would use
# up the week's idempotency keys, and the scheduled run would then send nothing (a Tuesday try of
# `jobs run report_reminder` left the communes that had not reported by Friday unreminded).
TIMED_WEEK_JOBS = ("report_reminder",)


@jobs_cli.command("run")
def jobs_run(
    name: Annotated[
        str, typer.Argument(help="weekly_digest, lagging_reminders, report_reminder, due_alert, quarter_end")
    ],
    week: Annotated[str | None, typer.Option("--week", help="The week to cover, e.g. 2026-W47.")] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="Allow a labelled preview: a digest or reminders for a week not yet over, or the report"
            " reminder before its scheduled time (the week's real run still sends later).",
        ),
    ] = False,
) -> None:
    """Run one job now (same code path as the scheduler; already-queued messages are not repeated)."""

    if name not in JOBS:
        raise Fail(say("unknown_job", name=name, choices=", ".join(JOBS)))

    async def go(app: App) -> tuple[RunResult, int]:
        period = kpi.parse_period(week, app.features.kpi.week_starts) if week else None
        if period is not None and period.kind != "week":
            raise Fail(say("bad_week"))
        today = kpi.local_day(utcnow(), app.settings.tz)
        if period is not None and period.start > today:
            raise Fail(say("future_week", week=period.key))
        # The digest and the reminders judge a whole week: on a week under way every figure is low
        # («3,2 % thành viên hoạt động ▼75») and real leaders would be told so.
        under_way = period is not None and period.end > today and name in WHOLE_WEEK_JOBS
        if under_way and not partial:
            assert period is not None
            last = period.end - timedelta(days=1)
            raise Fail(say("week_not_over", week=period.key, last=f"{last:%d/%m/%Y}"))
        early = False
        if name in TIMED_WEEK_JOBS:
            own = period or kpi.parse_period(
                job_env.period_for(name, utcnow(), app.features.kpi, app.settings.tz) or "",
                app.features.kpi.week_starts,
            )
            due = scheduler.scheduled_run(app, name, own)
            early = due is not None and utcnow() < due
            if early and not partial:
                assert due is not None
                shown = f"{due.astimezone(app.settings.tz):%H:%M %d/%m/%Y}"
                raise Fail(say("reminder_not_due", week=own.key, due=shown))
        # People who blocked the bot and have written to it since get their kept pushes again.
        revived = await app.dispatcher.requeue_reachable()
        # --partial on a week under way is a labelled preview: the week's own run still sends later.
        preview = under_way or early
        result = await scheduler.run_job(app, name, utcnow(), week=period, force=True, preview=preview)
        return result, revived

    # A batch run beside the bot: let the bot (people waiting for answers) have the CPU first.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)

    result, revived = run_async(go)
    status_key = f"job_status.{result.status}"
    status = say(status_key) if status_key in TEXTS["vi"] else result.status
    period = result.period or "-"
    line = say("job_ran", job=result.job, status=status, period=period, messages=result.messages)
    if result.writes:
        line += say("job_writes", writes=result.writes, ms=f"{result.longest_write_ms:.0f}")
    console.print(line + ".", highlight=False, markup=False, soft_wrap=True)
    if revived:
        console.print(say("job_requeued", n=revived), highlight=False, soft_wrap=True)


@targets_cli.command("import")
def targets_import(
    file: Annotated[Path, typer.Argument(help="CSV: unit_code,indicator,period,target")],
) -> None:
    """Import targets (all rows or none)."""

    if not file.exists():
        raise Fail(say("no_file", path=file))
    data = file.read_text(encoding="utf-8-sig")

    async def go(app: App) -> ImportResult:
        cfg = app.features.kpi
        async with app.sessions() as session, session.begin():
            return await targets.import_csv(session, data, cfg)

    result = run_async(go)
    if result.errors:  # the sentences the dashboard's upload shows, one line each
        lang = current_locale()
        catalog = Catalog.load()
        lines = [
            catalog.text(lang, "web.targets.csv_line", line=line, reason=catalog.text(lang, key, **params))
            for line, key, params in result.errors[:SHOWN_ERRORS]
        ]
        if len(result.errors) > SHOWN_ERRORS:
            lines.append(catalog.text(lang, "nhap.more_errors", n=len(result.errors) - SHOWN_ERRORS))
        raise Fail("\n".join([say("targets_rejected"), *lines]))
    ok(say("targets_imported", rows=result.rows))


@kpi_cli.command("show")
def kpi_show(
    unit: Annotated[str, typer.Option("--unit", help="Unit code.")],
    week: Annotated[
        str | None, typer.Option("--week", help="e.g. 2026-W47 (default: the last complete week)")
    ] = None,
) -> None:
    """One unit's indicators for a week, with target, last week and source."""

    async def go(app: App) -> Table:
        cfg = app.features.kpi
        now = utcnow()
        cal = cfg.calendar(app.settings.tz)
        period = (
            kpi.parse_period(week, cfg.week_starts) if week else kpi.week_period(cal.last_complete_week(now))
        )
        async with app.sessions() as session:
            row = await repo.unit_by_code(session, unit)
            if row is None:
                raise Fail(say("no_unit", code=unit))
            uf = (await kpi.figures_for(session, row, [row], 0, period, now, cfg, app.settings.tz))[0]
        heads = (say(f"kpi.{head}") for head in ("indicator", "value", "previous", "target", "source"))
        table = Table(*heads, title=f"{row.name} — {period.key}")
        for ind in cfg.indicators:
            f = uf.figures[ind.id]

            def show(v: float | None) -> str:
                return "-" if v is None else f"{v:.1f}"

            table.add_row(ind.id, show(f.value), show(f.previous), show(f.target), f.source)
        return table

    console.print(run_async(go))
