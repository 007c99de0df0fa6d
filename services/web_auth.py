"""Sign-in to the web dashboard without passwords: a one-time link sent in chat (valid 10 minutes,
bound to one person) starts a browser session stored in the database; sessions end on sign-out or
after an idle time. Every sign-in, refusal and sign-out is written to the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WebLink, WebSession
from db.repositories import core as core_repo
from services import people
from services.access import Actor, Role
from services.errors import NotFound, PermissionDenied

LINK_TTL = timedelta(minutes=10)
# Touching a session on every page would write on every request; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)
# Who the dashboard is for: the staff roles (a citizen or volunteer gets a polite refusal).
WEB_ROLES = (Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_use(actor: Actor) -> bool:
    return actor.has_role(*WEB_ROLES)


@dataclass(frozen=True, slots=True)
class SignIn:
    token: str  # the session cookie's value
    csrf: str
    person_id: int


@dataclass(frozen=True, slots=True)
class WebIdentity:
    actor: Actor
    csrf: str
    token_hash: str


async def issue_link(session: AsyncSession, actor: Actor, now: datetime) -> str:
    """A one-time sign-in token for this person (staff only); the caller builds the URL."""
    if not may_use(actor):
        raise PermissionDenied("web.not_for_you")
    token = secrets.token_urlsafe(32)
    session.add(
        WebLink(token_hash=_hash(token), person_id=actor.person_id, created_at=now, expires_at=now + LINK_TTL)
    )
    await core_repo.audit(session, actor.person_id, "web.link", None, {})
    return token


async def person_of_account(session: AsyncSession, channel: str, external_id: str) -> Actor:
    """The person behind a channel account (for `tocns web link`)."""
    account = await core_repo.find_account(session, channel, external_id)
    if account is None:
        raise NotFound("web.no_account", channel=channel, user_id=external_id)
    return await people.load_actor(session, account.person_id)


async def redeem(session: AsyncSession, token: str, now: datetime, *, client: str = "") -> SignIn | None:
    """Use a link once: a new session, or None (unknown, used or expired link; audit-logged)."""
    link = await session.get(WebLink, _hash(token), with_for_update=True)
    reason = None
    if link is None:
        reason = "unknown"
    elif link.used_at is not None:
        reason = "used"
    elif link.expires_at <= now:
        reason = "expired"
    if reason is not None or link is None:
        await core_repo.audit(
            session,
            link.person_id if link is not None else None,
            "web.sign_in_refused",
            None,
            {"reason": reason, "client": client[:120]},
        )
        return None
    # Atomic use: a second request racing with this one updates no row.
    result = await session.execute(
        update(WebLink)
        .where(WebLink.token_hash == link.token_hash, WebLink.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(result, "rowcount", 1) != 1:
        await core_repo.audit(session, link.person_id, "web.sign_in_refused", None, {"reason": "used"})
        return None
    actor = await people.load_actor(session, link.person_id)
    if not may_use(actor):  # the role was revoked since the link was sent
        await core_repo.audit(session, actor.person_id, "web.sign_in_refused", None, {"reason": "role"})
        return None
    raw, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        WebSession(
            token_hash=_hash(raw), person_id=link.person_id, csrf=csrf, created_at=now, last_seen_at=now
        )
    )
    await core_repo.audit(session, link.person_id, "web.sign_in", None, {"client": client[:120]})
    return SignIn(raw, csrf, link.person_id)


async def current(session: AsyncSession, token: str, now: datetime, idle: timedelta) -> WebIdentity | None:
    """The signed-in person for a session cookie, with their roles as of now; None when signed
    out or idle too long (the session is then ended)."""
    if not token:
        return None
    row = await session.get(WebSession, _hash(token))
    if row is None or row.ended_at is not None:
        return None
    if row.last_seen_at + idle <= now:
        row.ended_at = now
        await core_repo.audit(session, row.person_id, "web.session_expired", None, {})
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    try:
        actor = await people.load_actor(session, row.person_id)
    except NotFound:
        return None
    return WebIdentity(actor, row.csrf, row.token_hash)


async def sign_out(session: AsyncSession, identity: WebIdentity, now: datetime) -> None:
    await session.execute(
        update(WebSession).where(WebSession.token_hash == identity.token_hash).values(ended_at=now)
    )
    await core_repo.audit(session, identity.actor.person_id, "web.sign_out", None, {})


async def refused(
    session: AsyncSession, actor: Actor | None, path: str, reason: str, details: dict[str, Any] | None = None
) -> None:
    """Audit one refused page or action (out of scope, wrong role, bad CSRF token)."""
    await core_repo.audit(
        session,
        actor.person_id if actor else None,
        "web.refused",
        path[:200],
        {"reason": reason, **(details or {})},
    )


async def active_sessions(session: AsyncSession, person_id: int) -> int:
    stmt = select(WebSession).where(WebSession.person_id == person_id, WebSession.ended_at.is_(None))
    return len(list((await session.execute(stmt)).scalars()))


async def prune(session: AsyncSession, now: datetime, idle: timedelta) -> int:
    """Forget sign-in links a day after they expired and sessions ended or idle for a day past
    `idle`: the table never grows with every /web ever typed. Returns the rows removed."""
    cutoff = now - timedelta(days=1)
    links = await session.execute(delete(WebLink).where(WebLink.expires_at < cutoff))
    sessions = await session.execute(
        delete(WebSession).where(
            or_(WebSession.ended_at.is_not(None), WebSession.last_seen_at < cutoff - idle)
        )
    )
    return int(getattr(links, "rowcount", 0) or 0) + int(getattr(sessions, "rowcount", 0) or 0)
