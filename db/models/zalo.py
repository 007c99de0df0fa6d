"""Zalo Official Account OAuth tokens: one row per app. Refresh tokens rotate and are single-use,
so the pair is replaced in one transaction while the row is locked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.crypto import SealedText


class ZaloOAToken(Base):
    __tablename__ = "zalo_oa_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Encrypted at rest (db.crypto): a copy of the database reveals no token.
    access_token: Mapped[str | None] = mapped_column(SealedText)
    refresh_token: Mapped[str | None] = mapped_column(SealedText)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # PKCE verifier of a login started by `tocns zalo oa-login`, until its code is exchanged.
    pkce_verifier: Mapped[str | None] = mapped_column(String(128))
    pkce_state: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
