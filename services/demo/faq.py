"""Demo history for Q&A and hand-off: a quarter of closed, rated tickets for commune 19786 and its
neighbours (so the satisfaction indicator has data), some 👍/👎 votes and some logged gaps.
Deterministic and idempotent; no personal data (demo citizens are anonymous console accounts)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FaqFeedback, FaqQuestion, Ticket, Unit
from db.repositories import core as repo
from services import handoff

DEMO_COMMUNE = "19786"
NEIGHBOURS = 4  # communes of the same province after the demo one, by code
CITIZENS = 6
WEEKS = 13
SEED = 7_19786
CHANNEL = "console"
QUESTIONS = (
    "Em muốn làm lại căn cước vì đổi địa chỉ thì làm online được không?",
    "Nhà em mới sinh cháu, làm khai sinh trên VNeID bị lỗi ở bước tải ảnh.",
    "Tôi quên mật khẩu VNeID, lấy lại thế nào?",
    "Xin hướng dẫn nộp hồ sơ đăng ký tạm trú cho người thuê trọ.",
    "Thanh toán lệ phí trên Cổng dịch vụ công bị trừ tiền mà hồ sơ chưa nhận.",
    "Gia hạn thẻ BHYT hộ gia đình làm ở đâu?",
)
VOTES = (("dang-ky-khai-sinh", 1), ("dang-ky-khai-sinh", 1), ("cap-doi-can-cuoc", 1),
         ("cap-doi-can-cuoc", -1), ("dang-ky-tam-tru", -1), ("kich-hoat-vneid-muc-2", 1))  # fmt: skip
GAPS = (("tien dien thang nay bao nhieu", 7), ("xin giay xac nhan ho ngheo", 5),
        ("dang ky hoc lai xe may o dau", 3), ("tro cap that nghiep", 2))  # fmt: skip


async def _citizens(session: AsyncSession) -> list[int]:
    out = []
    for n in range(1, CITIZENS + 1):
        external = f"demo-nd-{n}"
        account = await repo.find_account(session, CHANNEL, external)
        if account is None:
            person = await repo.add_person(session, f"Người dân {n}")
            account = await repo.add_account(session, person.id, CHANNEL, external, external)
        out.append(account.person_id)
    return out


async def seed(session: AsyncSession, now: datetime) -> None:
    """Add the quarter's tickets, votes and gaps once; a second run changes nothing."""
    first = await repo.find_account(session, CHANNEL, "demo-nd-1")
    if first is not None:
        return
    demo = await repo.unit_by_code(session, DEMO_COMMUNE)
    if demo is None or demo.parent_id is None:
        return
    stmt = (
        select(Unit)
        .where(Unit.parent_id == demo.parent_id, Unit.kind == "commune", Unit.code >= DEMO_COMMUNE)
        .order_by(Unit.code)
        .limit(NEIGHBOURS + 1)
    )
    communes = list((await session.execute(stmt)).scalars())
    citizens = await _citizens(session)
    rng = random.Random(SEED)
    for commune in communes:
        helpers = await handoff.helpers_of(session, commune.path)
        if not helpers:
            continue
        # One or two rated tickets a week, so every week of the quarter has a satisfaction figure.
        for week, _ in ((w, n) for w in range(WEEKS) for n in range(rng.randint(1, 2))):
            created = now - timedelta(days=7 * week + rng.uniform(0.3, 6.5))
            claimed = created + timedelta(minutes=rng.randint(3, 45))
            closed = claimed + timedelta(minutes=rng.randint(10, 240))
            rating = rng.choices((5, 4, 3, 2, 1), weights=(45, 30, 13, 7, 5))[0]
            session.add(
                Ticket(
                    citizen_id=rng.choice(citizens),
                    unit_id=commune.id,
                    question=rng.choice(QUESTIONS),
                    status=handoff.Status.CLOSED.value,
                    claimed_by=rng.choice(helpers),
                    created_at=created,
                    claimed_at=claimed,
                    closed_at=closed,
                    rating=rating,
                    rated_at=closed + timedelta(minutes=rng.randint(1, 30)),
                )
            )
    for i, (entry_id, vote) in enumerate(VOTES):
        session.add(
            FaqFeedback(
                entry_id=entry_id,
                person_id=citizens[i % len(citizens)],
                vote=vote,
                at=now - timedelta(days=i),
            )
        )
    for text, count in GAPS:
        session.add(
            FaqQuestion(
                normalized=text,
                count=count,
                verdict="none",
                answered_entry=None,
                first_at=now - timedelta(days=60),
                last_at=now - timedelta(days=count),
            )
        )
    await session.flush()
