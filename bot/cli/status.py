"""`tocns status`: the picture the watchdog acts on — readiness, schedule, outbox, tokens, incidents."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli._messages import given_locale
from bot.cli._runtime import console, run_async
from bot.health import Readiness
from bot.kernel import App
from bot.watchdog import describe, look
from db.base import utcnow
from services import ops


def status(
    lang: Annotated[str, typer.Option("--lang", help="vi or en (default: app.locale)")] = "",
) -> None:
    """Print what is wrong now (exit code 1 when anything is), like the admins' alerts."""

    async def go(app: App) -> int:
        # `tocns --lang en status` and `status --lang en` alike (main takes --lang off the line)
        language = lang or given_locale() or app.settings.app.locale
        report = await Readiness(app).report()
        console.print(app.catalog.text(language, "ops.status.ready", **report), highlight=False)
        async with app.sessions() as session:
            pic = await look(app, session, utcnow())
            still_open = await ops.open_incidents(session)
        for line in describe(app, pic, language):
            console.print(line, highlight=False)
        console.print(app.catalog.text(language, "ops.status.open", count=len(still_open)), highlight=False)
        return 1 if pic.problems or report["database"] != "ok" else 0

    code = run_async(go, log=False)
    raise typer.Exit(code)
