"""Queries built once with bound parameters (the hot path: docs/benchmarks.md, issue 18) answer
for the values of each call, not those of the first: the question counter, the dossier look-up
limit, a volunteer's last session."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel import App
from db.models import FaqQuestion
from tests.support import ChatDriver, demo_driver


async def test_a_question_is_counted_at_each_asking_by_anyone(app: App) -> None:
    first = ChatDriver(app, "3001", "Chị Lan")
    second = ChatDriver(app, "3002", "Anh Minh")
    await first.send("làm giấy khai sinh online thế nào")
    await second.send("làm giấy khai sinh online thế nào")
    await first.send("cách cài vneid mức 2")
    async with app.sessions() as s:
        rows = {q.normalized: q for q in (await s.execute(select(FaqQuestion))).scalars()}
    assert sorted(q.count for q in rows.values()) == [1, 2], rows
    twice = next(q for q in rows.values() if q.count == 2)
    assert twice.last_at >= twice.first_at


async def test_the_look_up_limit_counts_each_person_apart(seeded_app: App) -> None:
    # The limit counts distinct codes (the same code again is free): ten different misses.
    busy = ChatDriver(seeded_app, "3003", "Khách một")
    for n in range(10):
        said = await busy.send(f"/tracuu H99.99-261120-{9990 + n}")
        assert "Chưa tìm thấy" in said.text, said.text
    code = "H99.99-261120-8888"
    said = await busy.send(f"/tracuu {code}")
    assert "thời gian ngắn" in said.text, said.text  # the 11th within 10 minutes
    other = ChatDriver(seeded_app, "3004", "Khách hai")
    said = await other.send(f"/tracuu {code}")
    assert "Chưa tìm thấy" in said.text, said.text  # someone else's look-ups do not count


async def test_each_volunteer_sees_their_own_last_session(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    said = await tnv.send("/ghi dvc nha 17")
    assert "17" in said.text, said.text
    said = await tnv.send("/ghi")
    same = [b.label for r in said.replies for row in r.buttons for b in row if "Như lần trước" in b.label]
    assert same and "17" in same[0], said.replies  # their own last session, just logged
