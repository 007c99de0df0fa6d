"""`tocns import dossiers FILE --unit CODE [--profile NAME]`: the one-stop system's export."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.assemble import build, prepare_database
from bot.cli._messages import current_locale, say
from bot.cli._runtime import console, fail_line, warn
from bot.config import load_settings
from db.base import utcnow
from handlers.i18n import Catalog
from services import spreadsheet_guard
from services.access import Actor, Grant, Role
from services.dossiers import import_ as dossier_import
from services.errors import DomainError

import_cli = typer.Typer(help="Import data exported from other systems.", no_args_is_help=True)
SHOWN_ERRORS = 50


@import_cli.command("dossiers")
def import_dossiers(
    file: Annotated[Path, typer.Argument(help="The export: .xlsx or .csv.", exists=True, dir_okay=False)],
    unit: Annotated[
        str,
        typer.Option(
            help="The commune the rows belong to; or a unit above it, with each new row naming its"
            " commune in the unit column («Mã đơn vị»). A team is refused."
        ),
    ],
    profile: Annotated[str, typer.Option(help="Column profile in data/import_profiles/.")] = "generic",
) -> None:
    """Upsert dossiers by code; bad rows are listed, a structurally broken file imports nothing."""

    catalog = Catalog.load()
    lang = current_locale()
    file = file.resolve()  # the parsing child runs in the project's folder, not the caller's
    settings = load_settings()
    # The command line is the installation's operator: admin rights, no person behind the rows.
    operator = Actor(0, "cli", None, (Grant(Role.ADMIN, None, None, None, None),))

    async def main() -> dossier_import.ImportSummary:

        app = build(settings)
        try:
            await prepare_database(app)
            columns = (
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=False) as bar:
                task = bar.add_task(
                    escape(say("import_progress", name=file.name)), total=None
                )  # markup column

                def progress(done: int, total: int | None) -> None:
                    bar.update(task, completed=done, total=max(total or 0, done) or None)

                # Checked and parsed in a bounded child process: a zip bomb is one line, at once.
                sheet = spreadsheet_guard.open_guarded(
                    file, file.name, spreadsheet_guard.COMMAND_LINE, profile
                )
                async with app.sessions() as session, session.begin():
                    return await dossier_import.import_file(
                        session,
                        operator,
                        sheet,
                        file.name,
                        unit,
                        utcnow(),
                        settings.tz,
                        profile=profile,
                        progress=progress,
                    )
        finally:
            await app.close()

    try:
        summary = asyncio.run(main())
    except DomainError as exc:
        fail_line(catalog.text(lang, exc.key, **exc.params))
        warn(catalog.text(lang, "nhap.nothing_imported"))
        raise typer.Exit(2) from None
    console.print(
        catalog.text(
            lang,
            "nhap.summary",
            name=file.name,
            unit=summary.unit,
            rows=summary.rows,
            new=summary.new,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected=summary.rejected,
        ),
        highlight=False,
    )
    for key, params in summary.notes():
        console.print(catalog.text(lang, key, **params), highlight=False)
    for row, key, params in summary.errors[:SHOWN_ERRORS]:
        console.print(catalog.text(lang, "nhap.row_error", row=row, reason=catalog.text(lang, key, **params)))
    if summary.rejected > SHOWN_ERRORS:
        console.print(catalog.text(lang, "nhap.more_errors", n=summary.rejected - SHOWN_ERRORS))
