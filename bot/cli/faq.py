"""`tocns faq gaps|scrub|feedback|check`: what the knowledge base misses (kept to its own words),
what citizens think of it, and validation of knowledge files before they are deployed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bot.cli._messages import say
from bot.cli._runtime import Fail, console, ok, run_async, settings
from bot.kernel import ROOT, App
from handlers.faq import FAQ_INDEX, faq_config
from services.faq import feedback as faq_feedback
from services.faq.anonymous import QuestionFilter
from services.faq.entries import KnowledgeBaseError
from services.faq.legal import check_knowledge

faq_cli = typer.Typer(
    help="The how-to knowledge base (FAQ): gaps, feedback, validation.", no_args_is_help=True
)


@faq_cli.command("gaps")
def faq_gaps(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many questions.")] = 20,
) -> None:
    """The most frequent questions the bot could not answer (normalised, only the base's words)."""

    async def go(app: App) -> Table:
        async with app.sessions() as session:
            found = await faq_feedback.gaps(session, _question_filter(app), limit)
        table = Table(say("faq.count"), say("faq.question"), say("faq.last"))
        for g in found:
            table.add_row(
                str(g.count), g.normalized, f"{g.last_at.astimezone(app.settings.tz):%Y-%m-%d %H:%M}"
            )
        return table

    console.print(run_async(go))


def _question_filter(app: App) -> QuestionFilter:
    index = app.resources.get(FAQ_INDEX)
    if index is None:
        raise Fail(say("faq_no_index"))
    return index.question_filter


@faq_cli.command("scrub")
def faq_scrub() -> None:
    """Rewrite the logged questions through the filter (rows logged before it may hold names,
    dates, ID numbers typed in groups); rows that become the same are merged. Run once."""

    async def go(app: App) -> tuple[int, int]:
        async with app.sessions() as session, session.begin():
            return await faq_feedback.scrub_log(session, _question_filter(app))

    before, after = run_async(go)
    console.print(say("faq_scrubbed", before=before, after=after), highlight=False, soft_wrap=True)


@faq_cli.command("feedback")
def faq_feedback_command() -> None:
    """👍/👎 counts per knowledge-base entry, the most disliked first."""

    async def go(app: App) -> Table:
        async with app.sessions() as session:
            found = await faq_feedback.votes(session)
        index = app.resources.get(FAQ_INDEX)
        table = Table(say("faq.entry"), say("faq.title"), "👍", "👎")
        for v in found:
            entry = index.get(v.entry_id) if index is not None else None
            table.add_row(v.entry_id, entry.title if entry else say("faq.removed"), str(v.up), str(v.down))
        return table

    console.print(run_async(go))


@faq_cli.command("check")
def faq_check(
    directory: Annotated[
        Path | None, typer.Argument(help="A directory of entries (default: knowledge/ and faq.local_dir).")
    ] = None,
) -> None:
    """Validate knowledge files (one line naming the file and field on the first error), fail on a
    citation of a replaced document (knowledge/_legal.yaml), warn on entries due for review."""

    dirs: list[Path] = [directory] if directory is not None else [ROOT / "knowledge"]
    if directory is None:
        try:
            local = faq_config(settings().extra).local_dir
        except ValueError as exc:
            raise Fail(str(exc)) from None
        if local:
            dirs.append(Path(local))
    try:
        report = check_knowledge(dirs, date.today(), registry_dirs=[ROOT / "knowledge"])
    except KnowledgeBaseError as exc:
        raise Fail(str(exc)) from None
    for line in report.warnings:
        console.print(Text.assemble((say("faq_warning"), "yellow"), " ", line), soft_wrap=True)
    if not report.ok:
        raise Fail("\n".join(report.errors))
    done = say("faq_ok", n=len(report.entries), dirs=", ".join(map(str, dirs)))
    ok(done)
