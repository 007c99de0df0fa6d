"""`tocns web link`: print a one-time sign-in link to the web dashboard for a person."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli._messages import current_locale, say
from bot.cli._runtime import Fail, check_channel, console, run_async
from bot.kernel import App
from db.base import utcnow
from handlers.web import link_url
from services import web_auth
from services.demo import DEMO_CHANNEL, DEMO_USERS
from services.errors import DomainError

web_cli = typer.Typer(help="The web dashboard (docs/dashboard.md).", no_args_is_help=True)


async def demo_link(app: App, key: str) -> str | None:
    """A sign-in link for a demo person (after `tocns demo seed`), or None when not seeded."""
    async with app.sessions() as session, session.begin():
        try:
            actor = await web_auth.person_of_account(session, DEMO_CHANNEL, f"demo-{key}")
            token = await web_auth.issue_link(session, actor, utcnow())
        except DomainError:
            return None
    return link_url(app.settings.web.base_url, token)


@web_cli.command("link")
def link(
    as_user: Annotated[
        str | None, typer.Option("--as", help="Demo person: totruong, canbo, lanhdao, tinh, admin.")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="telegram, zalo_bot, zalo_oa or console.")] = None,
    user_id: Annotated[str | None, typer.Option("--user-id", help="The person's id on that channel.")] = None,
) -> None:
    """Print a one-time sign-in link (valid 10 minutes) to the dashboard."""
    if as_user is not None:
        if as_user not in {u.key for u in DEMO_USERS}:
            raise Fail(say("web_unknown_person", name=as_user, choices=", ".join(u.key for u in DEMO_USERS)))
        channel, user_id = DEMO_CHANNEL, f"demo-{as_user}"
    if not channel or not user_id:
        raise Fail(say("web_link_who"))
    check_channel(channel)

    async def go(app: App) -> str:
        async with app.sessions() as session, session.begin():
            try:
                actor = await web_auth.person_of_account(session, channel, user_id)
                token = await web_auth.issue_link(session, actor, utcnow())
            except DomainError as exc:
                raise Fail(app.catalog.text(current_locale(), exc.key, **exc.params)) from None
        return link_url(app.settings.web.base_url, token)

    url = run_async(go, log=False)
    console.print(url, soft_wrap=True)
