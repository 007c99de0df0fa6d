"""A photo a citizen sends on Zalo Bot that does not arrive (over `max_file_mb`, or a host that does
not resolve) is answered with a polite refusal — never «Tin nhắn trống…» — through the adapter and
its contract fake (tests/fakes/zalo_bot_api.py), inside an open ticket as the reviewer found it."""

from __future__ import annotations

import pytest

from bot.kernel import App
from tests.harness.zalo import ZaloBotHarness, citizen_ticket_texts, open_ticket

EMPTY = "Tin nhắn trống"
PHOTO = b"\xff\xd8\xff" + b"J" * 3000  # about 3 KB


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_photo_over_the_limit_in_a_ticket_is_refused_politely(seeded_app: App, mode: str) -> None:
    async with ZaloBotHarness(seeded_app, mode, max_file_mb=0.001) as h:  # 0.001 MB ≈ 1 KB
        await open_ticket(h, "zb-dan")
        before, sent = await citizen_ticket_texts(seeded_app), len(h.fake.sent)
        await h.fake.deliver(h.fake.image_update("zb-dan", "giay-to.jpg", PHOTO))
        await h.settle()
        said = [str(p.get("text")) for p in h.fake.sent[sent:] if p["chat_id"] == "zb-dan"]
        assert said == [
            "Ảnh/tệp anh/chị gửi quá lớn (tối đa 0.001 MB). Anh/chị vui lòng gửi ảnh/tệp nhỏ hơn."
        ]
        assert await citizen_ticket_texts(seeded_app) == before  # nothing empty for the helper

        # A caption travels on: the citizen is told about the photo, the helper gets the words.
        sent = len(h.fake.sent)
        await h.fake.deliver(h.fake.image_update("zb-dan", "giay-to2.jpg", PHOTO, caption="giấy chứng sinh"))
        await h.settle()
        said = [str(p.get("text")) for p in h.fake.sent[sent:] if p["chat_id"] == "zb-dan"]
        assert said[0].startswith("Ảnh/tệp anh/chị gửi quá lớn") and not any(EMPTY in t for t in said)
        assert (await citizen_ticket_texts(seeded_app))[len(before) :] == ["giấy chứng sinh"]


async def test_a_photo_whose_host_does_not_resolve_is_asked_again(seeded_app: App) -> None:
    async with ZaloBotHarness(
        seeded_app, file_hosts=["127.0.0.1", "zdn.invalid"], allow_private_file_hosts=True
    ) as h:
        await open_ticket(h, "zb-dan2")
        before, sent = await citizen_ticket_texts(seeded_app), len(h.fake.sent)
        update = h.fake.image_update("zb-dan2", "x.jpg", b"x")
        update["message"]["photo_url"] = "https://photo.zdn.invalid/x.jpg"  # .invalid never resolves
        await h.fake.deliver(update)
        await h.settle()
        said = [str(p.get("text")) for p in h.fake.sent[sent:] if p["chat_id"] == "zb-dan2"]
        assert said == ["Chưa nhận được ảnh/tệp anh/chị gửi. Anh/chị vui lòng gửi lại."]
        assert await citizen_ticket_texts(seeded_app) == before

        # A photo that arrives still goes to the ticket (the limit is the default 10 MB).
        await h.fake.deliver(h.fake.image_update("zb-dan2", "ok.jpg", PHOTO))
        await h.settle()
        assert not any(EMPTY in t for t in h.texts_to("zb-dan2"))
        assert len(await citizen_ticket_texts(seeded_app)) == len(before) + 1


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_redelivered_photo_is_refused_once(seeded_app: App, mode: str) -> None:
    """Zalo delivers the same event again (its retry, a second worker's sweep): the refusal is said
    in the intake's transaction, after the dedupe mark, so the second copy gets nothing — like every
    other update. With a caption, the helper gets the words once too."""
    async with ZaloBotHarness(seeded_app, mode, max_file_mb=0.001) as h:
        await open_ticket(h, "zb-dan3")
        before, sent = await citizen_ticket_texts(seeded_app), len(h.fake.sent)
        update = h.fake.image_update("zb-dan3", "giay-to.jpg", PHOTO, caption="giấy chứng sinh")
        await h.fake.deliver(update)
        await h.settle()
        first = [str(p.get("text")) for p in h.fake.sent[sent:] if p["chat_id"] == "zb-dan3"]
        assert first[0].startswith("Ảnh/tệp anh/chị gửi quá lớn"), first

        sent = len(h.fake.sent)
        await h.fake.deliver(update)  # the very same event again
        await h.settle()
        assert [p for p in h.fake.sent[sent:] if p["chat_id"] == "zb-dan3"] == []
        assert (await citizen_ticket_texts(seeded_app))[len(before) :] == ["giấy chứng sinh"]

        # Without a caption, and outside any ticket: one refusal, then silence.
        update = h.fake.image_update("zb-lan", "x.jpg", PHOTO)
        for _ in range(2):
            await h.fake.deliver(update)
            await h.settle()
        assert h.texts_to("zb-lan") == [
            "Ảnh/tệp anh/chị gửi quá lớn (tối đa 0.001 MB). Anh/chị vui lòng gửi ảnh/tệp nhỏ hơn."
        ]
