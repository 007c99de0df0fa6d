"""A photo or file a citizen sends to the Zalo Official Account that does not arrive (over
`zalo_oa.max_file_mb`, a host that does not resolve, a host outside Zalo's) is answered with the
same polite refusal as on Zalo Bot (common.fetch_sent_file) — never «Tin nhắn trống…» — through the
OA's signed webhook and its contract fake (tests/fakes/zalo_oa_api.py), inside an open ticket."""

from __future__ import annotations

from typing import Any

import pytest

from bot.kernel import App
from tests.harness.zalo import ZaloOAHarness, citizen_ticket_texts, oa_text, open_ticket

EMPTY = "Tin nhắn trống"
PHOTO = b"\xff\xd8\xff" + b"J" * 3000  # about 3 KB
TOO_LARGE = "Ảnh/tệp anh/chị gửi quá lớn (tối đa 0.001 MB). Anh/chị vui lòng gửi ảnh/tệp nhỏ hơn."
NOT_RECEIVED = "Chưa nhận được ảnh/tệp anh/chị gửi. Anh/chị vui lòng gửi lại."


async def said_to(h: ZaloOAHarness, user: str, event: dict[str, Any]) -> list[str]:
    """Zalo posts the signed event to the webhook; what the citizen reads back."""
    messages = await h.deliver(event)
    assert h.last_status == 200
    return [oa_text(m) for m in messages]


@pytest.mark.parametrize("kind", ["image", "file"])
async def test_a_file_over_the_limit_in_a_ticket_is_refused_politely(seeded_app: App, kind: str) -> None:
    async with ZaloOAHarness(seeded_app, max_file_mb=0.001) as h:  # 0.001 MB ≈ 1 KB
        await open_ticket(h, "oa-dan")
        before = await citizen_ticket_texts(seeded_app)
        name = "giay-to.jpg" if kind == "image" else "giay-to.pdf"
        said = await said_to(h, "oa-dan", h.fake.file_event("oa-dan", name, PHOTO, kind=kind))
        assert said == [TOO_LARGE]
        assert await citizen_ticket_texts(seeded_app) == before  # nothing empty for the helper

        # A caption travels on: the citizen is told about the photo, the helper gets the words.
        event = h.fake.file_event("oa-dan", "2-" + name, PHOTO, kind=kind)
        event["message"]["text"] = "giấy chứng sinh"
        said = await said_to(h, "oa-dan", event)
        assert said[0] == TOO_LARGE and not any(EMPTY in t for t in said), said
        assert (await citizen_ticket_texts(seeded_app))[len(before) :] == ["giấy chứng sinh"]


async def test_a_photo_whose_host_does_not_resolve_is_asked_again(seeded_app: App) -> None:
    async with ZaloOAHarness(seeded_app, file_hosts=["127.0.0.1", "zdn.invalid"]) as h:
        await open_ticket(h, "oa-dan2")
        before = await citizen_ticket_texts(seeded_app)
        event = h.fake.file_event("oa-dan2", "x.jpg", b"x", kind="image")
        payload = event["message"]["attachments"][0]["payload"]
        payload["url"] = payload["thumbnail"] = "https://photo.zdn.invalid/x.jpg"  # never resolves
        assert await said_to(h, "oa-dan2", event) == [NOT_RECEIVED]
        assert await citizen_ticket_texts(seeded_app) == before

        # A file outside Zalo's hosts is never fetched, and the citizen is asked again too.
        event = h.fake.file_event("oa-dan2", "a.pdf", b"%PDF", url="https://evil.example/a.pdf")
        assert await said_to(h, "oa-dan2", event) == [NOT_RECEIVED]
        assert await citizen_ticket_texts(seeded_app) == before

        # A photo that arrives still goes to the ticket (the limit is the default 20 MB).
        said = await said_to(h, "oa-dan2", h.fake.file_event("oa-dan2", "ok.jpg", PHOTO, kind="image"))
        assert said and not any(EMPTY in t or t == NOT_RECEIVED for t in said), said
        assert len(await citizen_ticket_texts(seeded_app)) == len(before) + 1


async def test_an_attachment_event_without_a_url_is_asked_again(seeded_app: App) -> None:
    async with ZaloOAHarness(seeded_app) as h:
        event = h.fake.file_event("oa-dan3", "x.jpg", PHOTO, kind="image")
        event["message"]["attachments"][0]["payload"] = {}
        said = await said_to(h, "oa-dan3", event)
        assert said == [NOT_RECEIVED]
        assert not any(EMPTY in t for t in h.texts_to("oa-dan3"))


async def test_a_redelivered_file_is_refused_once(seeded_app: App) -> None:
    """Zalo OA redelivers an event it thinks unanswered (30 s, 5 min…): the refusal is said in the
    intake's transaction, after the dedupe mark, so the copy gets nothing, like every other update."""
    async with ZaloOAHarness(seeded_app, max_file_mb=0.001) as h:
        await open_ticket(h, "oa-dan4")
        before = await citizen_ticket_texts(seeded_app)
        event = h.fake.file_event("oa-dan4", "giay-to.pdf", PHOTO)
        event["message"]["text"] = "giấy chứng sinh"
        said = await said_to(h, "oa-dan4", event)
        assert said[0] == TOO_LARGE, said
        assert await said_to(h, "oa-dan4", event) == []  # the very same event again
        assert (await citizen_ticket_texts(seeded_app))[len(before) :] == ["giấy chứng sinh"]

        # Without a url, outside any ticket: asked again once, then silence.
        event = h.fake.file_event("oa-lan", "x.jpg", PHOTO, kind="image")
        event["message"]["attachments"][0]["payload"] = {}
        assert await said_to(h, "oa-lan", event) == [NOT_RECEIVED]
        assert await said_to(h, "oa-lan", event) == []
