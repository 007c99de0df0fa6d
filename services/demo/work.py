"""Demo history for logged work: a quarter of help sessions, dossiers, statuses and weekly reports
for the demo province's communes. Deterministic (seeded random), idempotent, bulk inserts."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Dossier, HelpSession, Membership, Person, Unit
from services.demo.dossiers import PROVINCE, TZ, WEEKS, dossiers_and_reports, table
from services.sessions.values import Activity, Outcome, Place

SEED = 46_2026

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Văn", "Thị", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Hữu")
GIVEN = (
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Khoa",
    "Linh",
    "Nam",
    "Nga",
    "Phúc",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
)
ACTIVITY_WEIGHTS = {
    Activity.DVC: 35,
    Activity.VNEID: 25,
    Activity.PAYMENT: 12,
    Activity.SIGNATURE: 4,
    Activity.APP: 8,
    Activity.SAFETY: 8,
    Activity.SHOPPING: 4,
    Activity.OTHER: 4,
}
PLACE_WEIGHTS = {Place.HOME: 35, Place.COUNTER: 30, Place.PHONE: 12, Place.MOBILE: 15, Place.ONLINE: 8}


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


async def already_seeded(session: AsyncSession) -> bool:
    stmt = select(Dossier.id).where(Dossier.source == "demo").limit(1)
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def seed(session: AsyncSession, now: datetime) -> None:
    """Add the quarter's history once; a second run changes nothing."""
    if await already_seeded(session):
        return
    province = (await session.execute(select(Unit).where(Unit.code == PROVINCE))).scalar_one_or_none()
    if province is None:
        return
    communes = list(
        (
            await session.execute(
                select(Unit)
                .where(Unit.kind == "commune", Unit.path.like(f"{province.path}%"))
                .order_by(Unit.code)
            )
        ).scalars()
    )
    teams = list(
        (
            await session.execute(
                select(Unit)
                .where(Unit.kind == "team", Unit.path.like(f"{province.path}%"))
                .order_by(Unit.code)
            )
        ).scalars()
    )
    rng = random.Random(SEED)
    today = now.astimezone(TZ).date()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=WEEKS)
    # The history below is the members' own work: they were members before it began (a KPI
    # counts a period's members by when they joined and left).
    joined = datetime.combine(first_monday - timedelta(days=1), time(8), TZ)
    # The units existed before it too: a commune owes the weekly reports of the weeks that began
    # after it was created.
    await session.execute(
        update(Unit)
        .where(Unit.path.like(f"{province.path}%"), Unit.created_at > joined)
        .values(created_at=joined)
    )
    volunteers = await _volunteers(session, rng, teams, joined)
    await session.execute(
        update(Membership)
        .where(
            Membership.unit_id.in_([t.id for t in teams]),
            Membership.role.in_(("volunteer", "team_leader")),
            Membership.created_at > joined,
        )
        .values(created_at=joined)
    )
    await _help_sessions(session, rng, volunteers, first_monday, now)
    await dossiers_and_reports(session, rng, communes, first_monday, this_monday, now)


async def _volunteers(
    session: AsyncSession, rng: random.Random, teams: list[Unit], joined: datetime
) -> list[tuple[int, int, float]]:
    """(person id, team id, sessions per week): the demo volunteers plus two generated per team
    (members since `joined`)."""
    existing = (
        await session.execute(
            select(Membership.person_id, Membership.unit_id, Membership.role).where(
                Membership.role.in_(("volunteer", "team_leader")), Membership.active.is_(True)
            )
        )
    ).all()
    team_ids = {t.id for t in teams}
    out = [(pid, uid, 3.0 if role == "volunteer" else 1.5) for pid, uid, role in existing if uid in team_ids]
    names = [
        f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for _team in teams for _k in range(2)
    ]
    if not names:
        return out
    ids = list(
        (
            await session.execute(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [{"display_name": n, "locale": None, "created_at": joined} for n in names],
            )
        ).scalars()
    )
    members: list[dict[str, Any]] = []
    for i, pid in enumerate(ids):
        team = teams[i // 2]
        members.append(
            {"person_id": pid, "unit_id": team.id, "role": "volunteer", "active": True, "created_at": joined}
        )
        # Each team has a busier and a quieter volunteer; some teams are quiet altogether.
        team_level = 0.2 if (team.id % 7 == 0) else 1.0
        out.append((pid, team.id, team_level * (2.5 if i % 2 == 0 else 0.8)))
    await session.execute(insert(table(Membership)), members)
    return out


async def _help_sessions(
    session: AsyncSession,
    rng: random.Random,
    volunteers: list[tuple[int, int, float]],
    first_monday: date,
    now: datetime,
) -> None:
    rows: list[dict[str, Any]] = []
    # Only entries older than a day: today's entries (and /sua's 24-hour window) stay the user's own.
    latest = now - timedelta(days=1)
    for pid, team_id, per_week in volunteers:
        for week in range(WEEKS + 1):
            monday = first_monday + timedelta(weeks=week)
            n = max(0, round(rng.gauss(per_week, per_week / 2)))
            for _ in range(n):
                day = monday + timedelta(days=rng.randrange(7))
                at = datetime.combine(day, time(rng.randrange(7, 20), rng.randrange(60)), TZ)
                if at > latest:
                    continue
                rows.append(
                    {
                        "volunteer_id": pid,
                        "unit_id": team_id,
                        "occurred_at": at,
                        "logged_at": at + timedelta(minutes=rng.randrange(5, 600)),
                        "activity": _pick(rng, ACTIVITY_WEIGHTS).value,
                        "place": _pick(rng, PLACE_WEIGHTS).value,
                        "citizens": rng.choice((1, 1, 1, 2, 2, 3, 5, 8)),
                        "result": rng.choices(list(Outcome), weights=(80, 15, 5))[0].value,
                        "dossier_code": None,
                        "procedure": None,
                        "note": None,
                        "deleted_at": None,
                    }
                )
    for i in range(0, len(rows), 2000):
        await session.execute(insert(table(HelpSession)), rows[i : i + 2000])
