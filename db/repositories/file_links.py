"""Files behind Zalo's signed download links (table file_links), shared by every worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FileLink


async def store(
    session: AsyncSession,
    file_id: str,
    filename: str,
    content_type: str,
    data: bytes,
    expires_at: datetime,
    now: datetime,
) -> None:
    """Keep a file until `expires_at`; files already expired are dropped on the way."""
    await session.execute(delete(FileLink).where(FileLink.expires_at < now))
    session.add(
        FileLink(id=file_id, filename=filename, content_type=content_type, data=data, expires_at=expires_at)
    )


async def get(session: AsyncSession, file_id: str) -> FileLink | None:
    return await session.get(FileLink, file_id)
