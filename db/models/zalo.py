"""Zalo Official Account OAuth tokens (one row per app; refresh tokens rotate and are single-use,
so a new pair is saved in its own transaction right after Zalo issued it) and raw webhook events
stored before they are answered, and the files behind short-lived signed download links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.crypto import SealedText

# BigInteger primary keys autoincrement on PostgreSQL; SQLite only does that for INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


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


class ZaloInbound(Base):
    """A webhook event exactly as Zalo sent it, stored in one insert before the 200 answer and
    processed afterwards (Zalo waits 2 s, then redelivers and eventually disables the webhook).
    Once processed, its body is emptied (personal data); the row says who wrote when."""

    __tablename__ = "zalo_inbound"
    __table_args__ = (Index("ix_zalo_inbound_chat", "channel", "chat_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    # The person who wrote (a message or a follow), "" for events that are not an interaction:
    # the latest row per person is their last interaction, which opens Zalo OA's messaging window.
    chat_id: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class FileLink(Base):
    """A file Zalo cannot take as an attachment, served at a signed link until it expires. In the
    database, not a worker's memory: with several workers behind one address, the link is made by
    one and fetched (by the person, or by Zalo's servers for a photo) through any of them."""

    __tablename__ = "file_links"
    __table_args__ = (Index("ix_file_links_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
