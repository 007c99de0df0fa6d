"""The question log (`faq_questions`, `tocns faq gaps`, /phanhoi) keeps only the knowledge base's own
words: the reviewer's messages, through the dialog core, leave no name, birth date, village or
insurance number typed in groups; rows logged before the filter are shown and rewritten through it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.kernel import App
from db.models import FaqQuestion
from handlers.faq import FAQ_INDEX
from services.faq import feedback as faq_feedback
from services.faq.anonymous import QuestionFilter
from tests.support import ChatDriver

SCAM = "toi ten Nguyen Thi Bich Ngoc sinh 12/03/1985 o thon Phu Luong bi lua mat 50 trieu"
INSURANCE = "le hung thon 3 ma so bao hiem xa hoi 46 12345 678"
PERSONAL = ("nguyen", "thi ", "bich", "ngoc", "phu", "luong", "hung", "le ", "ten")


def known(app: App) -> QuestionFilter:
    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    return index.question_filter


async def logged(app: App) -> dict[str, int]:
    async with app.sessions() as s:
        return {q.normalized: q.count for q in (await s.execute(select(FaqQuestion))).scalars()}


async def test_no_name_date_address_or_number_is_logged(app: App) -> None:
    await ChatDriver(app, "8101").send(SCAM)
    await ChatDriver(app, "8102").send(INSURANCE)
    await ChatDriver(app, "8103").send("Tôi tên Trần Văn Hùng, nhà ở số 12 đường Lê Lợi, hỏi làm căn cước")
    await ChatDriver(app, "8104").send("sđt 0905.123.456, cccd 046-085-012-345, đăng ký tạm trú")
    rows = await logged(app)
    assert "# sinh # lua mat # trieu" in rows and "# ma so bao hiem xahoi #" in rows, rows
    for text in rows:
        assert not re.search(r"\d", text), text
        assert not any(f" {word}" in f" {text} " for word in PERSONAL), text
        assert "# #" not in text  # runs of placeholders fold into one
    async with app.sessions() as s:
        gaps = [g.normalized for g in await faq_feedback.gaps(s, known(app))]
    assert "# sinh # lua mat # trieu" in gaps  # what was asked about is still there


async def test_rows_logged_before_the_filter_are_shown_and_scrubbed_through_it(app: App) -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    async with app.sessions() as s, s.begin():  # what the previous code stored
        for normalized, count, at in (
            ("ten nguyen thi bich ngoc sinh 12 03 1985 thon phu luong lua mat 50 trieu", 1, now),
            ("ten tran van an sinh 01 01 1990 lua mat 20 trieu", 2, now + timedelta(hours=1)),
            ("le hung thon 3 ma so bao hiem xahoi 46 12345 678", 1, now),
            ("qwxz blorf", 4, now),
        ):
            s.add(FaqQuestion(normalized=normalized, count=count, verdict="none", first_at=at, last_at=at))
    async with app.sessions() as s:
        shown = [(g.normalized, g.count) for g in await faq_feedback.gaps(s, known(app))]
    assert shown == [("# sinh # lua mat # trieu", 3), ("# ma so bao hiem xahoi #", 1)]

    async with app.sessions() as s, s.begin():
        assert await faq_feedback.scrub_log(s, known(app)) == (4, 2)
    assert await logged(app) == {"# sinh # lua mat # trieu": 3, "# ma so bao hiem xahoi #": 1}
    async with app.sessions() as s:
        merged = (await s.execute(select(FaqQuestion).where(FaqQuestion.count == 3))).scalar_one()
    assert merged.first_at == now and merged.last_at == now + timedelta(hours=1)

    # Asked again afterwards, the same question adds to the scrubbed row.
    await ChatDriver(app, "8105").send("toi ten Le Van Tam sinh 1980 bi lua mat 30 trieu")
    assert (await logged(app))["# sinh # lua mat # trieu"] == 4
