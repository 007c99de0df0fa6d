"""What citizens think of the answers: 👍/👎 per entry (one changeable vote per person) and the
log of questions by their normalised text kept to the knowledge base's own words
(`services/faq/anonymous.py`), so `tocns faq gaps` shows what the base is missing and never who
asked or about whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FaqFeedback, FaqQuestion
from db.repositories import core as repo
from services import privacy
from services.access import Action, Actor
from services.faq.anonymous import QuestionFilter

MAX_NORMALIZED = 400


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


def scrub(normalized: str, known: QuestionFilter) -> str:
    """The normalised question as stored: only the base's own words (no digit, no name, no
    address), length capped; "" when no word of the base is left."""
    text = known(privacy.redact(normalized, "#"))[:MAX_NORMALIZED].strip()
    return text if any(c.isalpha() for c in text) else ""


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
    session: AsyncSession,
    normalized: str,
    verdict: str,
    entry_id: str | None,
    now: datetime,
    known: QuestionFilter,
) -> None:
    """Count a question by its normalised text kept to the base's words (no person, no raw text)."""
    text = scrub(normalized, known)
    if not text:
        return
    # One upsert: two people asking the same question at the same moment (updates of different
    # chats run concurrently) both count, neither fails on the unique key.
    await repo.count_question(session, text, verdict, entry_id, now)


async def gaps(session: AsyncSession, known: QuestionFilter, limit: int = 20) -> list[Gap]:
    """The most frequent questions the knowledge base could not answer, read through the filter
    (rows logged before it, until `scrub_log` rewrites them, may hold names: never shown)."""
    stmt = (
        select(FaqQuestion)
        .where(FaqQuestion.verdict == "none")
        .order_by(FaqQuestion.count.desc(), FaqQuestion.last_at.desc())
        .limit(limit * 5)  # rows that read the same once filtered are added up
    )
    merged: dict[str, Gap] = {}
    for q in (await session.execute(stmt)).scalars():
        text = scrub(q.normalized, known)
        if not text:
            continue
        seen = merged.get(text)
        merged[text] = Gap(
            text, q.count + (seen.count if seen else 0), max(q.last_at, seen.last_at) if seen else q.last_at
        )
    return sorted(merged.values(), key=lambda g: (-g.count, -g.last_at.timestamp()))[:limit]


async def scrub_log(session: AsyncSession, known: QuestionFilter) -> tuple[int, int]:
    """Rewrite every logged question through the filter (rows logged before it held names, dates,
    numbers typed in groups); rows that become the same are merged, counts added. (rows before,
    rows after)."""
    rows = list((await session.execute(select(FaqQuestion).order_by(FaqQuestion.last_at))).scalars())
    merged: dict[str, FaqQuestion] = {}
    for row in rows:
        text = scrub(row.normalized, known)
        if not text:
            continue
        seen = merged.get(text)
        if seen is None:
            merged[text] = FaqQuestion(
                normalized=text,
                count=row.count,
                verdict=row.verdict,
                answered_entry=row.answered_entry,
                first_at=row.first_at,
                last_at=row.last_at,
            )
            continue
        # Ordered by last_at: the later row's verdict is the one of "the last time".
        seen.count += row.count
        seen.first_at = min(seen.first_at, row.first_at)
        seen.last_at, seen.verdict, seen.answered_entry = row.last_at, row.verdict, row.answered_entry
    await session.execute(delete(FaqQuestion))
    session.add_all(merged.values())
    await session.flush()
    return len(rows), len(merged)


async def votes(session: AsyncSession) -> list[EntryVotes]:
    """👍/👎 counts per entry, the most disliked first."""
    up = func.sum(case((FaqFeedback.vote > 0, 1), else_=0))
    down = func.sum(case((FaqFeedback.vote < 0, 1), else_=0))
    stmt = select(FaqFeedback.entry_id, up, down).group_by(FaqFeedback.entry_id)
    rows = [EntryVotes(str(e), int(u or 0), int(d or 0)) for e, u, d in (await session.execute(stmt)).all()]
    return sorted(rows, key=lambda r: (-r.down, -r.up, r.entry_id))


async def report(
    session: AsyncSession, actor: Actor, known: QuestionFilter, limit: int = 10
) -> tuple[list[EntryVotes], list[Gap]]:
    """Feedback and gaps for an administrator (in the bot: /phanhoi)."""
    actor.require(Action.ADMINISTER)
    return (await votes(session))[:limit], await gaps(session, known, limit)
