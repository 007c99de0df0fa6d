"""Zalo OA OAuth v4: exchange the first authorization code (PKCE) and refresh the access token.

Refresh tokens rotate and are single-use. Zalo is never called inside a database transaction:
1. take a short lease (`leases` table, its own transaction) so one worker refreshes at a time;
2. re-read the row: if another worker already refreshed, use its token — the spent refresh
   token is never sent again;
3. call Zalo with no transaction open;
4. persist the new pair at once in its own short transaction (retried a few times; the pair is
   kept in memory meanwhile so this worker keeps working), then release the lease.
A failed commit can therefore no longer lose the new single-use refresh token while holding a
lock across a network call."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.leader import worker_id
from db.base import utcnow
from db.repositories import lease as lease_repo
from db.repositories import zalo as repo

log = logging.getLogger("tocns.zalo_oa")
# Renew a little before the access token expires (it lives about 25 hours).
EARLY = timedelta(minutes=5)
LEASE_TTL = timedelta(seconds=60)  # longer than one refresh call (20 s timeout)
WAIT_STEP = 0.2


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


def challenge_of(verifier: str) -> str:
    """S256: base64url(sha256(ASCII verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with S256, as Zalo's v4 permission URL expects."""
    verifier = secrets.token_urlsafe(32)  # 43 characters
    return verifier, challenge_of(verifier)


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
        self,
        sessions: async_sessionmaker[AsyncSession],
        cfg: OAuthConfig,
        http: aiohttp.ClientSession,
        *,
        wait_limit: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.http = http
        self.wait_limit = wait_limit
        self.holder = worker_id()
        self._lock = asyncio.Lock()  # one refresh per process; the lease covers workers
        self._unsaved: TokenPair | None = None  # a fresh pair whose commit failed (kept in memory)
        self.refreshes = 0

    @property
    def lease_name(self) -> str:
        return f"zalo_oa_refresh:{self.cfg.app_id}"[:60]

    async def current(self) -> str:
        if self._unsaved is not None:
            await self._persist(self._unsaved)
            return self._unsaved.access_token
        async with self.sessions() as session:
            row = await repo.get_tokens(session, self.cfg.app_id)
        if row is None or not row.access_token:
            raise NotAuthorized("no Zalo OA token stored: run `tocns zalo oa-login`")
        if row.access_expires_at is not None and row.access_expires_at - EARLY <= utcnow():
            return await self.refresh(row.access_token)
        return row.access_token

    async def _read(self) -> tuple[str | None, str | None]:
        async with self.sessions() as session:
            row = await repo.get_tokens(session, self.cfg.app_id)
        if row is None:
            return None, None
        return row.access_token, row.refresh_token

    async def _acquire(self) -> bool:
        now = utcnow()
        async with self.sessions() as session, session.begin():
            return await lease_repo.try_acquire(session, self.lease_name, self.holder, now, now + LEASE_TTL)

    async def _release(self) -> None:
        with contextlib.suppress(Exception):
            async with self.sessions() as session, session.begin():
                await lease_repo.release(session, self.lease_name, self.holder)

    async def refresh(self, stale: str) -> str:
        """A fresh access token; `stale` is the one that just failed (or is about to expire)."""
        async with self._lock:
            if self._unsaved is not None:
                await self._persist(self._unsaved)
                return self._unsaved.access_token
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.wait_limit
            while True:
                access, refresh_token = await self._read()
                if refresh_token is None:
                    raise NotAuthorized("no Zalo OA refresh token stored: run `tocns zalo oa-login`")
                if access and access != stale:
                    return access  # another worker refreshed meanwhile
                if await self._acquire():
                    break
                if loop.time() > deadline:
                    raise OAuthError("another worker is refreshing the token; try again")
                await asyncio.sleep(WAIT_STEP)
            try:
                access, refresh_token = await self._read()  # under the lease: the latest pair
                if access and access != stale:
                    return access
                if not refresh_token:
                    raise NotAuthorized("no Zalo OA refresh token stored: run `tocns zalo oa-login`")
                # No transaction is open here: the network call cannot hold a lock or be
                # rolled back with one.
                pair = await refresh_pair(self.http, self.cfg, refresh_token)
                self.refreshes += 1
                self._unsaved = pair
                await self._persist(pair)
                log.info("zalo_oa access token refreshed")
                return pair.access_token
            finally:
                await self._release()

    async def _persist(self, pair: TokenPair, attempts: int = 3) -> None:
        """Save the new pair in its own transaction, first thing after Zalo answered."""
        for attempt in range(attempts):
            try:
                async with self.sessions() as session, session.begin():
                    await repo.save_tokens(
                        session, self.cfg.app_id, pair.access_token, pair.refresh_token, pair.expires_at
                    )
            except Exception as exc:
                log.error("zalo_oa: new token pair not saved yet (%s)", type(exc).__name__)
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            self._unsaved = None
            return
