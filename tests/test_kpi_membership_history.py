"""KPIs after members leave and teams close, through the bot: the active-member share stays a
share of the period's members (never over 100 %, a past week unchanged), and the work of a team
closed since stays listed under its name so the rows add up to the unit's total."""

from __future__ import annotations

import re

from bot import scheduler
from bot.kernel import App
from db.base import utcnow
from tests.support import ChatDriver, demo_driver, outbox_rows

SHARE = "Tỷ lệ thành viên tổ hoạt động"
CITIZENS = "Số lượt người dân được hỗ trợ"


def shares(text: str) -> list[str]:
    """The active-member share of each period shown (the week, then the quarter to date)."""
    return re.findall(rf"{SHARE}: ([\d.,]+%)", text)


def percent(shown: str) -> float:
    return float(shown.rstrip("%").replace(".", "").replace(",", "."))


def count_of(text: str, name: str) -> int:
    match = re.search(rf"{name}: ([\d.]+)", text)
    assert match, text
    return int(match.group(1).replace(".", ""))


async def close_team(leader: ChatDriver, name: str) -> None:
    await leader.send("/donvi")
    await leader.tap(name)
    await leader.tap("Đóng tổ")
    said = await leader.tap("Đóng tổ")
    assert "Đã đóng" in said.text, said.text


async def test_removing_a_member_keeps_the_share_of_past_periods(seeded_app: App) -> None:
    leader = demo_driver(seeded_app, "totruong")
    before = shares((await leader.send("/kpi")).text)
    assert len(before) == 2
    await leader.send("/to")
    await leader.tap("Xoá thành viên")
    await leader.tap("Trần Văn Minh")
    assert "Đã xoá Trần Văn Minh" in (await leader.tap("Đồng ý")).text
    # He logged sessions this quarter: he was a member then, and counts as one (it read 116,7 %).
    after = shares((await leader.send("/kpi")).text)
    assert after == before
    assert all(percent(s) <= 100 for s in after), after


async def test_closing_teams_keeps_shares_and_rows_add_up(seeded_app: App) -> None:
    boss = demo_driver(seeded_app, "lanhdao")
    kpi_before = (await boss.send("/kpi")).text
    before = shares(kpi_before)
    total = count_of(kpi_before, CITIZENS)
    await close_team(boss, "Tổ dân phố 3")
    assert shares((await boss.send("/kpi")).text) == before
    await close_team(boss, "Tổ dân phố 2")
    kpi_after = (await boss.send("/kpi")).text
    # Two teams closed: it read 118,2 % then 325 %.
    assert shares(kpi_after) == before and all(percent(s) <= 100 for s in before), before
    assert count_of(kpi_after, CITIZENS) == total

    ranking = (await boss.send("/xephang")).text
    rows = re.findall(r"^\d+\. (.+): ([\d.]+)", ranking, re.M)
    names = [name for name, _value in rows]
    assert "Tổ CNSCĐ Tổ dân phố 1" in names, ranking
    # The closed teams' work of the week is listed under their names, marked closed.
    assert "Tổ CNSCĐ Tổ dân phố 3 (đã đóng)" in names, ranking
    assert sum(int(v.replace(".", "")) for _n, v in rows) == total, ranking

    run = await scheduler.run_job(seeded_app, "weekly_digest", utcnow(), force=True)
    assert run.status == "done"
    digest = next(
        r.payload["text"]
        for r in await outbox_rows(seeded_app)
        if r.kind == "weekly_digest" and r.chat_id == "demo-lanhdao" and "attachment" not in r.payload
    )
    assert "Tổ CNSCĐ Tổ dân phố 3 (đã đóng)" in digest, digest
    assert shares(digest)[0] == before[0], digest
    chart = [
        r
        for r in await outbox_rows(seeded_app)
        if r.kind == "weekly_digest" and r.chat_id == "demo-lanhdao" and "attachment" in r.payload
    ]
    assert chart, "the digest's chart"
