"""`tocns zalo …`: the first Zalo OA authorization (OAuth v4 with PKCE) and a token check."""

from __future__ import annotations

import os
import secrets
from typing import Annotated
from urllib.parse import parse_qs, urlparse

import aiohttp
import typer
from rich.console import Console

from bot.channels.zalo.oa import ZaloOAConfig, load_config
from bot.channels.zalo.oa_tokens import OAuthError, exchange_code, permission_url, pkce_pair
from bot.cli._runtime import Fail, run_async
from bot.kernel import App, StartupError
from db.repositories import zalo as repo

zalo_cli = typer.Typer(help="Zalo Bot / Zalo Official Account set-up.", no_args_is_help=True)
console = Console()


def _config(app: App) -> ZaloOAConfig:
    config = load_config(app, os.environ)
    if config is None:
        raise StartupError(
            "Zalo OA is not configured: set TOCNS_ZALO_OA_APP_ID, TOCNS_ZALO_OA_SECRET_KEY and "
            "TOCNS_ZALO_OA_OA_SECRET_KEY"
        )
    return config


def parse_code(pasted: str) -> tuple[str, str | None]:
    """(code, state) from a pasted code or the whole redirect URL Zalo sent the browser to."""
    pasted = pasted.strip()
    if "code=" in pasted:
        query = parse_qs(urlparse(pasted).query or pasted.split("?", 1)[-1])
        return query.get("code", [""])[0], query.get("state", [None])[0]
    return pasted, None


async def begin_login(app: App, config: ZaloOAConfig, redirect_uri: str) -> str:
    """Store a fresh PKCE verifier and return the permission URL the OA admin must open."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    async with app.sessions() as session, session.begin():
        await repo.save_pkce(session, config.app_id, verifier, state)
    return permission_url(config.oauth, redirect_uri, challenge, state)


async def finish_login(app: App, config: ZaloOAConfig, code: str, state: str | None) -> None:
    """Exchange the code with the stored verifier and save the token pair."""
    async with app.sessions() as session:
        row = await repo.get_tokens(session, config.app_id)
    if row is None or not row.pkce_verifier:
        raise StartupError("no login in progress: run `tocns zalo oa-login` without --code first")
    if state is not None and row.pkce_state and state != row.pkce_state:
        raise StartupError("the pasted URL belongs to another login attempt (state differs): start again")
    async with aiohttp.ClientSession() as http:
        pair = await exchange_code(http, config.oauth, code, row.pkce_verifier)
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
                raise Fail(
                    "--redirect-uri (or zalo_oa.redirect_uri): the callback URL registered for the app"
                )
            url = await begin_login(app, config, uri)
            console.print("1. Open this link as the OA administrator and grant the permissions:")
            console.print(url, soft_wrap=True)
            console.print(
                "2. Zalo redirects to your callback URL with ?code=…; paste that code (or the URL)."
            )
            pasted = typer.prompt("code")
        value, state = parse_code(pasted)
        try:
            await finish_login(app, config, value, state)
        except OAuthError as exc:
            raise Fail(f"Zalo refused the code ({exc}); run `tocns zalo oa-login` again") from None
        console.print(
            "[green]Zalo OA authorized[/]: tokens stored in the database (refreshed automatically)."
        )
        hook = (settings.webhook_public_url or "https://<your-public-host>").rstrip(
            "/"
        ) + settings.webhook_path
        console.print(f"Webhook URL to enter at developers.zalo.me → your app → Webhook: {hook}")
        console.print("Enable events: user_send_text, user_send_image, user_send_file, follow, unfollow.")

    run_async(go)
