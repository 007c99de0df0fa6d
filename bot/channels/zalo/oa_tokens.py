"""Zalo OA OAuth v4: exchange the first authorization code (PKCE) and refresh the access token.

Refresh tokens rotate and are single-use: a refresh happens under a database lock (row lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite), re-reads the row after acquiring it and uses the token
another worker already obtained instead of spending the (then already used) refresh token."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.repositories import zalo as repo

log = logging.getLogger("tocns.zalo_oa")
# Renew a little before the access token expires (it lives about 25 hours).
EARLY = timedelta(minutes=5)


class OAuthError(Exception):
    """The OAuth server refused (bad code, used or expired refresh token, wrong secret…)."""


class NotAuthorized(Exception):
    """No tokens stored yet: run `tocns zalo oa-login`."""


@dataclass(frozen=True, slots=True)
class OAuthConfig:
    oauth_url: str
    app_id: str
    secret_key: str


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with S256, as Zalo's v4 permission URL expects."""
    verifier = secrets.token_urlsafe(32)  # 43 characters
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def permission_url(cfg: OAuthConfig, redirect_uri: str, challenge: str, state: str) -> str:
    query = urlencode(
        {"app_id": cfg.app_id, "redirect_uri": redirect_uri, "code_challenge": challenge, "state": state}
    )
    return f"{cfg.oauth_url.rstrip('/')}/v4/oa/permission?{query}"


async def _token_call(http: aiohttp.ClientSession, cfg: OAuthConfig, form: dict[str, str]) -> TokenPair:
    url = f"{cfg.oauth_url.rstrip('/')}/v4/oa/access_token"
    async with http.post(
        url, data=form, headers={"secret_key": cfg.secret_key}, timeout=aiohttp.ClientTimeout(total=20)
    ) as resp:
        body: Any = await resp.json(content_type=None)
        status = resp.status
    if status >= 400 or not isinstance(body, dict) or not body.get("access_token"):
        error = body.get("error") if isinstance(body, dict) else None
        name = body.get("error_name") if isinstance(body, dict) else None
        raise OAuthError(f"HTTP {status} error={error} {name or ''}".strip())
    expires_in = int(body.get("expires_in") or 3600)
    return TokenPair(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]),
        expires_at=utcnow() + timedelta(seconds=expires_in),
    )


async def exchange_code(http: aiohttp.ClientSession, cfg: OAuthConfig, code: str, verifier: str) -> TokenPair:
    form = {"app_id": cfg.app_id, "grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    return await _token_call(http, cfg, form)


async def refresh_pair(http: aiohttp.ClientSession, cfg: OAuthConfig, refresh_token: str) -> TokenPair:
    form = {"app_id": cfg.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
    return await _token_call(http, cfg, form)


class TokenStore:
    """The OA access token, read from the database and refreshed when expired."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cfg: OAuthConfig, http: aiohttp.ClientSession
    ) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.http = http
        self._lock = asyncio.Lock()  # one refresh per process; the database lock covers workers
        self.refreshes = 0

    async def current(self) -> str:
        async with self.sessions() as session:
            row = await repo.get_tokens(session, self.cfg.app_id)
        if row is None or not row.access_token:
            raise NotAuthorized("no Zalo OA token stored: run `tocns zalo oa-login`")
        if row.access_expires_at is not None and row.access_expires_at - EARLY <= utcnow():
            return await self.refresh(row.access_token)
        return row.access_token

    async def refresh(self, stale: str) -> str:
        """A fresh access token; `stale` is the one that just failed (or is about to expire)."""
        async with self._lock, self.sessions() as session, session.begin():
            row = await repo.get_tokens(session, self.cfg.app_id, lock=True)
            if row is None or not row.refresh_token:
                raise NotAuthorized("no Zalo OA refresh token stored: run `tocns zalo oa-login`")
            if row.access_token and row.access_token != stale:
                return row.access_token  # another worker refreshed while we waited for the lock
            pair = await refresh_pair(self.http, self.cfg, row.refresh_token)
            # Saved in the same transaction that holds the lock: the old refresh token is spent.
            await repo.save_tokens(
                session, self.cfg.app_id, pair.access_token, pair.refresh_token, pair.expires_at
            )
            self.refreshes += 1
            log.info("zalo_oa access token refreshed")
            return pair.access_token
