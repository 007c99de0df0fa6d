"""Queries on the Zalo OA token table (used by the bot's Zalo OA adapter and CLI)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models.zalo import ZaloOAToken


async def get_tokens(session: AsyncSession, app_id: str, *, lock: bool = False) -> ZaloOAToken | None:
    """The app's token row; `lock` takes a row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already holds the database write lock for the whole transaction)."""
    stmt = select(ZaloOAToken).where(ZaloOAToken.app_id == app_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def _row(session: AsyncSession, app_id: str) -> ZaloOAToken:
    row = await get_tokens(session, app_id, lock=True)
    if row is None:
        row = ZaloOAToken(app_id=app_id, updated_at=utcnow())
        session.add(row)
    return row


async def save_tokens(
    session: AsyncSession, app_id: str, access_token: str, refresh_token: str, expires_at: datetime
) -> None:
    row = await _row(session, app_id)
    row.access_token = access_token
    row.refresh_token = refresh_token
    row.access_expires_at = expires_at
    row.pkce_verifier = None
    row.pkce_state = None
    row.updated_at = utcnow()
    await session.flush()


async def save_pkce(session: AsyncSession, app_id: str, verifier: str, state: str) -> None:
    row = await _row(session, app_id)
    row.pkce_verifier = verifier
    row.pkce_state = state
    row.updated_at = utcnow()
    await session.flush()
