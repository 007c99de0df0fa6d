"""`tocns faq gaps|feedback|check`: what the knowledge base misses, what citizens think of it,
and validation of knowledge files before they are deployed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.app import ROOT, App

faq_cli = typer.Typer(
    help="The how-to knowledge base (FAQ): gaps, feedback, validation.", no_args_is_help=True
)


def _cli() -> Any:
    # bot.cli imports this module to register the sub-app: import it lazily, not at load time.
    import bot.cli

    return bot.cli


@faq_cli.command("gaps")
def faq_gaps(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many questions.")] = 20,
) -> None:
    """The most frequent questions the bot could not answer (normalised text)."""
    from services.faq import feedback as faq_feedback

    async def go(app: App) -> Table:
        async with app.sessions() as session:
            found = await faq_feedback.gaps(session, limit)
        table = Table("count", "question (normalised)", "last asked")
        for g in found:
            table.add_row(
                str(g.count), g.normalized, f"{g.last_at.astimezone(app.settings.tz):%Y-%m-%d %H:%M}"
            )
        return table

    _cli().console.print(_cli().run_async(go))


@faq_cli.command("feedback")
def faq_feedback_command() -> None:
    """👍/👎 counts per knowledge-base entry, the most disliked first."""
    from handlers.faq import FAQ_INDEX
    from services.faq import feedback as faq_feedback

    async def go(app: App) -> Table:
        async with app.sessions() as session:
            found = await faq_feedback.votes(session)
        index = app.resources.get(FAQ_INDEX)
        table = Table("entry", "title", "👍", "👎")
        for v in found:
            entry = index.get(v.entry_id) if index is not None else None
            table.add_row(v.entry_id, entry.title if entry else "(removed)", str(v.up), str(v.down))
        return table

    _cli().console.print(_cli().run_async(go))


@faq_cli.command("check")
def faq_check(
    directory: Annotated[
        Path | None, typer.Argument(help="A directory of entries (default: knowledge/ and faq.local_dir).")
    ] = None,
) -> None:
    """Validate knowledge files: one line naming the file and field on the first error."""
    from services.faq.entries import KnowledgeBaseError, load_entries

    dirs: list[Path] = [directory] if directory is not None else [ROOT / "knowledge"]
    if directory is None:
        from handlers.faq import faq_config

        try:
            local = faq_config(_cli().settings().extra).local_dir
        except ValueError as exc:
            raise _cli().Fail(str(exc)) from None
        if local:
            dirs.append(Path(local))
    try:
        entries = load_entries(dirs)
    except KnowledgeBaseError as exc:
        raise _cli().Fail(str(exc)) from None
    _cli().console.print(f"[green]{len(entries)} entries OK[/] in {', '.join(map(str, dirs))}")
