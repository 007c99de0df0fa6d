"""`tocns zalo …`: the first Zalo OA authorization (OAuth v4 with PKCE), tokens copied from
Zalo's API Explorer, and the messaging-window lines of `tocns outbox status`.

The OA console reportedly builds the permission link from a code challenge saved there; then the
matching verifier must be used for the exchange: put it in TOCNS_ZALO_OA_CODE_VERIFIER (43-128
characters) and `oa-login` prints its challenge to save in the console and uses it."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs, urlparse

import aiohttp
import typer
from rich.table import Table

from bot.channels.zalo import window
from bot.channels.zalo.oa import ZaloOAConfig, load_config
from bot.channels.zalo.oa_send import CHANNEL as OA_CHANNEL
from bot.channels.zalo.oa_tokens import (
    OAuthError,
    challenge_of,
    exchange_code,
    permission_url,
    pkce_pair,
)
from bot.cli._messages import say
from bot.cli._runtime import Fail, console, ok, run_async
from bot.kernel import App, StartupError
from db.base import utcnow
from db.repositories import zalo as repo

zalo_cli = typer.Typer(help="Zalo Bot / Zalo Official Account set-up.", no_args_is_help=True)


def _config(app: App) -> ZaloOAConfig:
    config = load_config(app, os.environ)
    if config is None:
        raise StartupError(say("zalo_not_configured"))
    return config


def parse_code(pasted: str) -> tuple[str, str | None]:
    """(code, state) from a pasted code or the whole redirect URL Zalo sent the browser to."""
    pasted = pasted.strip()
    if "code=" in pasted:
        query = parse_qs(urlparse(pasted).query or pasted.split("?", 1)[-1])
        return query.get("code", [""])[0], query.get("state", [None])[0]
    return pasted, None


VERIFIER_ENV = "TOCNS_ZALO_OA_CODE_VERIFIER"


def fixed_verifier() -> str | None:
    """The verifier whose challenge is saved in the OA console, from the environment."""
    value = os.environ.get(VERIFIER_ENV, "").strip()
    if not value:
        return None
    if not 43 <= len(value) <= 128:
        raise StartupError(say("zalo_bad_verifier", env=VERIFIER_ENV))
    return value


async def begin_login(app: App, config: ZaloOAConfig, redirect_uri: str) -> str:
    """Store the PKCE verifier (fixed from the environment, or fresh) and return the permission
    URL the OA admin must open."""
    fixed = fixed_verifier()
    verifier, challenge = (fixed, challenge_of(fixed)) if fixed else pkce_pair()
    state = secrets.token_urlsafe(12)
    async with app.sessions() as session, session.begin():
        await repo.save_pkce(session, config.app_id, verifier, state)
    return permission_url(config.oauth, redirect_uri, challenge, state)


async def finish_login(app: App, config: ZaloOAConfig, code: str, state: str | None) -> None:
    """Exchange the code with the stored verifier and save the token pair."""
    async with app.sessions() as session:
        row = await repo.get_tokens(session, config.app_id)
    fixed = fixed_verifier()
    stored = row.pkce_verifier if row is not None else None
    if not stored and not fixed:
        raise StartupError(say("zalo_no_login"))
    if stored and state is not None and row is not None and row.pkce_state and state != row.pkce_state:
        raise StartupError(say("zalo_other_login"))
    verifier = fixed or stored
    assert verifier is not None
    async with aiohttp.ClientSession() as http:
        pair = await exchange_code(http, config.oauth, code, verifier)
    async with app.sessions() as session, session.begin():
        await repo.save_tokens(session, config.app_id, pair.access_token, pair.refresh_token, pair.expires_at)


@zalo_cli.command("oa-login")
def oa_login(
    code: Annotated[
        str | None, typer.Option(help="The authorization code (or the whole redirect URL) from Zalo.")
    ] = None,
    redirect_uri: Annotated[
        str | None, typer.Option("--redirect-uri", help="Callback URL registered for the Zalo app.")
    ] = None,
) -> None:
    """Authorize the Zalo OA once: open the printed link, grant access, paste the code back."""

    async def go(app: App) -> None:
        config = _config(app)
        settings = config.settings
        pasted = code
        if pasted is None:
            uri = redirect_uri or settings.redirect_uri
            if not uri:
                raise Fail(say("zalo_redirect_uri"))
            url = await begin_login(app, config, uri)
            fixed = fixed_verifier()
            if fixed:
                line = say("zalo_fixed_verifier", env=VERIFIER_ENV, challenge=challenge_of(fixed))
                console.print(line, markup=False, soft_wrap=True)
            console.print(say("zalo_step_open"), markup=False, soft_wrap=True)
            console.print(url, soft_wrap=True)
            console.print(say("zalo_step_paste"), markup=False, soft_wrap=True)
            pasted = typer.prompt(say("zalo_prompt_code"))
        value, state = parse_code(pasted)
        try:
            await finish_login(app, config, value, state)
        except OAuthError as exc:
            raise Fail(say("zalo_refused", detail=exc)) from None
        except (aiohttp.ClientError, TimeoutError) as exc:  # no answer at all: the network, not the code
            detail = " ".join(str(exc).split()) or type(exc).__name__
            line = say("zalo_unreachable", url=settings.oauth_url, detail=detail)
            raise Fail(line, code=1) from None
        ok(say("zalo_authorized"))
        hook = (settings.webhook_public_url or "https://<your-public-host>").rstrip(
            "/"
        ) + settings.webhook_path
        console.print(say("zalo_webhook", url=hook), markup=False, soft_wrap=True)
        events = "user_send_text, user_send_image, user_send_file, follow, unfollow"
        console.print(say("zalo_events", events=events), markup=False, soft_wrap=True)

    run_async(go)


async def import_tokens(
    app: App, config: ZaloOAConfig, access_token: str, refresh_token: str, expires_in: int
) -> None:
    """Store a token pair copied from Zalo's API Explorer (its own transaction)."""
    if not access_token.strip() or not refresh_token.strip():
        raise StartupError(say("zalo_both_tokens"))
    async with app.sessions() as session, session.begin():
        await repo.save_tokens(
            session,
            config.app_id,
            access_token.strip(),
            refresh_token.strip(),
            utcnow() + timedelta(seconds=expires_in),
        )


@zalo_cli.command("oa-import-tokens")
def oa_import_tokens(
    expires_in: Annotated[
        int, typer.Option(help="Seconds the access token is still valid (Zalo gives 90000 = 25 h).")
    ] = 90000,
) -> None:
    """Store an access/refresh token pair copied from Zalo's API Explorer (developers.zalo.me →
    Tools → API Explorer, "OA Access Token"). Read from TOCNS_ZALO_OA_ACCESS_TOKEN and
    TOCNS_ZALO_OA_REFRESH_TOKEN, or asked for without echo (never as options: shell history)."""

    async def go(app: App) -> None:
        config = _config(app)
        access = os.environ.get("TOCNS_ZALO_OA_ACCESS_TOKEN") or typer.prompt("access token", hide_input=True)
        refresh = os.environ.get("TOCNS_ZALO_OA_REFRESH_TOKEN") or typer.prompt(
            "refresh token", hide_input=True
        )
        await import_tokens(app, config, access, refresh, expires_in)
        ok(say("zalo_tokens_stored"))

    run_async(go)


async def window_status(app: App) -> list[tuple[str, str, int]]:
    """(kind, band, count) of queued Zalo OA pushes in the billable band or outside the window."""
    async with app.sessions() as session:
        return await window.status_rows(session, OA_CHANNEL, utcnow)


def print_window_status(rows: list[tuple[str, str, int]]) -> None:
    if not rows:
        return
    table = Table(say("outbox.kind"), say("outbox.window"), say("outbox.pending"))
    for kind, band, count in rows:
        label = say(f"outbox.{band}") if band in ("billable", "closed") else band
        table.add_row(kind, label, str(count))
    console.print(table)
