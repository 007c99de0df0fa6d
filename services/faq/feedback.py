"""What citizens think of the answers: 👍/👎 per entry (one changeable vote per person) and the
log of questions by their normalised text, so `tocns faq gaps` shows what the base is missing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FaqFeedback, FaqQuestion
from db.repositories import core as repo
from services import privacy
from services.access import Action, Actor

MAX_NORMALIZED = 400
# Long digit runs may be ID, phone or dossier numbers: never stored.
_LONG_NUMBER = re.compile(r"\d{6,}")


@dataclass(frozen=True, slots=True)
class EntryVotes:
    entry_id: str
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class Gap:
    normalized: str
    count: int
    last_at: datetime


def scrub(normalized: str) -> str:
    """The normalised question as stored: long numbers masked, length capped."""
    return _LONG_NUMBER.sub("#", privacy.redact(normalized, "#"))[:MAX_NORMALIZED].strip()


async def vote(session: AsyncSession, person_id: int, entry_id: str, up: bool, now: datetime) -> bool:
    """Record or change a person's vote on an entry; True when it changed anything."""
    value = 1 if up else -1
    stmt = select(FaqFeedback).where(FaqFeedback.entry_id == entry_id, FaqFeedback.person_id == person_id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        session.add(FaqFeedback(entry_id=entry_id, person_id=person_id, vote=value, at=now))
        await session.flush()
        return True
    if row.vote == value:
        return False
    row.vote, row.at = value, now
    return True


async def log_question(
    session: AsyncSession, normalized: str, verdict: str, entry_id: str | None, now: datetime
) -> None:
    """Count a question by its normalised text (no person, no raw text)."""
    text = scrub(normalized)
    if not text:
        return
    # One upsert: two people asking the same question at the same moment (updates of different
    # chats run concurrently) both count, neither fails on the unique key.
    await repo.count_question(session, text, verdict, entry_id, now)


async def gaps(session: AsyncSession, limit: int = 20) -> list[Gap]:
    """The most frequent questions the knowledge base could not answer."""
    stmt = (
        select(FaqQuestion)
        .where(FaqQuestion.verdict == "none")
        .order_by(FaqQuestion.count.desc(), FaqQuestion.last_at.desc())
        .limit(limit)
    )
    return [Gap(q.normalized, q.count, q.last_at) for q in (await session.execute(stmt)).scalars()]


async def votes(session: AsyncSession) -> list[EntryVotes]:
    """👍/👎 counts per entry, the most disliked first."""
    up = func.sum(case((FaqFeedback.vote > 0, 1), else_=0))
    down = func.sum(case((FaqFeedback.vote < 0, 1), else_=0))
    stmt = select(FaqFeedback.entry_id, up, down).group_by(FaqFeedback.entry_id)
    rows = [EntryVotes(str(e), int(u or 0), int(d or 0)) for e, u, d in (await session.execute(stmt)).all()]
    return sorted(rows, key=lambda r: (-r.down, -r.up, r.entry_id))


async def report(session: AsyncSession, actor: Actor, limit: int = 10) -> tuple[list[EntryVotes], list[Gap]]:
    """Feedback and gaps for an administrator (in the bot: /phanhoi)."""
    actor.require(Action.ADMINISTER)
    return (await votes(session))[:limit], await gaps(session, limit)
