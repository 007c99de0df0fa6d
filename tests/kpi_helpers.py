"""KPI test data: a tiny tree, people, dossiers and help sessions inserted directly (other
features' rows); weekly reports only through `/baocao` (baocao()), as an officer files them."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import App
from db.models import ChannelAccount, Dossier, HelpSession, Membership, Person, Unit
from db.repositories import core as repo
from db.repositories.kpi.base import UnitRow

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = date(2026, 11, 16)  # Monday of 2026-W47
# Monday 2026-11-23 09:00 in Huế: the digest for W47 goes out now.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ).astimezone(UTC)
# Friday 2026-11-20 14:00: officers answer the week's report (due Friday 17:00).
FRIDAY = datetime(2026, 11, 20, 14, 0, tzinfo=TZ).astimezone(UTC)
# When the test people joined their units: before every period the tests look at.
JOINED = datetime(2026, 1, 1, tzinfo=UTC)
_codes = itertools.count(1)


def row(u: Unit) -> UnitRow:
    """The KPI row of a unit built by the test."""
    return UnitRow(u.id, u.code, u.name, u.kind, u.path, u.parent_id)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


async def unit(
    s: AsyncSession, code: str, name: str, kind: str, parent: Unit | None = None, *, since: datetime = JOINED
) -> Unit:
    """A unit created at `since`: by default long before the weeks the tests look at, as a commune
    owes only the weekly reports of the weeks that began after it was created."""
    u = await repo.add_unit(s, code, name, kind, parent)
    u.created_at = since
    await s.flush()
    return u


async def tree(s: AsyncSession) -> dict[str, Unit]:
    """P (province) → C1, C2, C3 (communes) → T1a, T1b under C1, T2a under C2."""
    p = await unit(s, "P", "Tỉnh Thử", "province")
    c1 = await unit(s, "C1", "Xã Một", "commune", p)
    c2 = await unit(s, "C2", "Xã Hai", "commune", p)
    c3 = await unit(s, "C3", "Xã Ba", "commune", p)
    t1a = await unit(s, "C1-1", "Tổ 1", "team", c1)
    t1b = await unit(s, "C1-2", "Tổ 2", "team", c1)
    t2a = await unit(s, "C2-1", "Tổ 1", "team", c2)
    return {"P": p, "C1": c1, "C2": c2, "C3": c3, "T1a": t1a, "T1b": t1b, "T2a": t2a}


async def dossier(
    s: AsyncSession,
    u: Unit,
    mode: str,
    received: datetime,
    *,
    due: datetime | None = None,
    finished: datetime | None = None,
    status: str = "received",
    procedure: str = "Đăng ký khai sinh",
) -> Dossier:
    d = Dossier(
        code=f"H{next(_codes):06d}",
        unit_id=u.id,
        procedure_code=None,
        procedure_name=procedure,
        mode=mode,
        received_at=received,
        due_at=due,
        finished_at=finished,
        post_return=False,
        status=status if finished is None or status != "received" else "result_ready",
        source="bot",
        created_at=received,
        updated_at=received,
    )
    s.add(d)
    await s.flush()
    return d


async def baocao(app: App, officer: int, when: datetime, args: str) -> str:
    """The officer types `/baocao <args>` at `when` (the real dialog, frozen clock); the answer."""
    from tests.support import ChatDriver

    driver = ChatDriver(app, f"k-{officer}", channel="console")
    before = app.intake.clock  # type: ignore[attr-defined]
    app.intake.clock = lambda: when  # type: ignore[attr-defined]
    try:
        said = await driver.send(f"/baocao {args}")
    finally:
        app.intake.clock = before  # type: ignore[attr-defined]
    return said.text


async def person(
    s: AsyncSession,
    name: str,
    role: str | None = None,
    u: Unit | None = None,
    locale: str | None = None,
    *,
    since: datetime = JOINED,
) -> Person:
    """A person with a console account and (role) a membership held since `since`: by default long
    before the weeks the tests look at, as the KPIs count a period's members by when they joined."""
    p = await repo.add_person(s, name, locale)
    s.add(ChannelAccount(person_id=p.id, channel="console", external_id=f"k-{p.id}", chat_id=f"k-{p.id}"))
    if role:
        s.add(Membership(person_id=p.id, unit_id=u.id if u else None, role=role, created_at=since))
    await s.flush()
    return p


async def help_session(
    s: AsyncSession, volunteer: Person, team: Unit, when: datetime, citizens: int = 1
) -> None:
    s.add(
        HelpSession(
            volunteer_id=volunteer.id,
            unit_id=team.id,
            occurred_at=when,
            logged_at=when,
            activity="dvc",
            place="home",
            citizens=citizens,
            result="done",
        )
    )
    await s.flush()
