"""A helper's role is revoked while they hold a ticket: it goes to whoever a new ticket would reach
now (services.handoff.new_ticket_audience) — another volunteer who can be reached; with none,
the commune's officers; with nobody reachable, the citizen is told so. Through the product's ways
of revoking (`tocns users revoke`, /thuhoi), with pushes delivered by the real dispatcher to a
console sender for which some people blocked the bot (that is how they become unreachable)."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel import App, DeliveryError
from db.models import OutboxMessage, Ticket
from handlers.core import Reply
from tests.reliability.test_roles_over_time import membership_id, texts_to, tocns
from tests.support import ChatDriver, demo_driver
from tests.test_handoff import open_ticket

MORE = "Nhà tôi ở tổ dân phố 5, gần chợ"


class Blocking:
    """The console channel, where some chats blocked the bot (Forbidden, as on Telegram)."""

    channel = "console"
    supports_buttons = False

    def __init__(self) -> None:
        self.blocked: set[str] = set()

    async def send(self, chat_id: str, reply: Reply) -> None:
        if chat_id in self.blocked:
            raise DeliveryError("Forbidden: bot was blocked by the user", unreachable=True)


async def deliver(app: App) -> None:
    while await app.dispatcher.drain_once():
        pass


async def announced_to(app: App, ticket: int) -> set[str]:
    """The chats the new ticket was pushed to (the commune's volunteers and team leaders)."""
    async with app.sessions() as s:
        stmt = select(OutboxMessage.chat_id).where(
            OutboxMessage.idempotency_key.like(f"ticket:{ticket}:new:%")
        )
        return set((await s.execute(stmt)).scalars())


async def released_to(app: App, ticket: int) -> set[str]:
    return {
        r.chat_id
        for r in await _rows(app)
        if r.idempotency_key.startswith(f"ticket:{ticket}:released:") and r.kind == "ticket_escalated"
    }


async def _replies(app: App, chat_id: str) -> list[Reply]:
    return [Reply.from_payload(r.payload) for r in await _rows(app) if r.chat_id == chat_id]


async def _rows(app: App) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def ticket_row(app: App, ticket: int) -> Ticket:
    async with app.sessions() as s:
        row = await s.get(Ticket, ticket)
    assert row is not None
    return row


async def revoke_volunteer_by_cli(app: App, key: str) -> None:
    done = await tocns(
        app, "users", "revoke", "--channel", "console", "--user-id", f"demo-{key}",
        "--role", "volunteer", "--unit", "19786-1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "đã trả lại 1 phiếu hỗ trợ đang nhận" in done.stdout, done.stdout


async def claimed_by(app: App, helper: ChatDriver, ticket: int) -> None:
    said = await helper.press(f"hr:k:{ticket}")
    assert "đã nhận phiếu" in said.text, said.text


async def test_revoked_volunteers_ticket_goes_to_another_reachable_volunteer(seeded_app: App) -> None:
    sender = Blocking()
    seeded_app.add_sender(sender)
    dan, tnv, tnv2 = (demo_driver(seeded_app, k) for k in ("dan", "tnv", "tnv2"))
    ticket = await open_ticket(seeded_app, dan, "Tôi cần hỏi về cấp lại căn cước")
    await claimed_by(seeded_app, tnv, ticket)
    await deliver(seeded_app)

    await revoke_volunteer_by_cli(seeded_app, "tnv")
    row = await ticket_row(seeded_app, ticket)
    assert row.status == "open" and row.claimed_by is None and row.escalated_at is None
    told = await texts_to(seeded_app, "demo-dan")
    assert any(f"#{ticket}" in t and "gửi lại cho các tình nguyện viên" in t for t in told), told
    to = await released_to(seeded_app, ticket)
    assert "demo-tnv2" in to and "demo-totruong" in to
    assert "demo-tnv" not in to and "demo-canbo" not in to  # volunteers can be reached: not escalated
    offer = [r for r in await _replies(seeded_app, "demo-tnv2") if "trả lại" in r.text]
    labels = [b.label for row in offer[-1].buttons for b in row]
    assert labels == [f"✋ Nhận phiếu #{ticket}"], labels

    # The revoked volunteer can no longer answer, take it back, or read what the citizen writes.
    before = len(await texts_to(seeded_app, "demo-tnv"))
    assert "không do anh/chị giữ" in (await tnv.press(f"hr:r:{ticket}")).text
    assert "đã nhận phiếu" not in (await tnv.press(f"hr:k:{ticket}")).text
    await dan.send(MORE)
    assert len(await texts_to(seeded_app, "demo-tnv")) == before
    assert not any(MORE in t for t in await texts_to(seeded_app, "demo-tnv"))
    assert (await ticket_row(seeded_app, ticket)).claimed_by is None

    # Another volunteer takes it and gets what the citizen wrote meanwhile.
    said = await tnv2.press(f"hr:k:{ticket}")
    assert "đã nhận phiếu" in said.text and MORE in said.text, said.text


async def test_with_no_volunteer_reachable_the_officers_take_it_back(seeded_app: App) -> None:
    sender = Blocking()
    seeded_app.add_sender(sender)
    dan, tnv, canbo = (demo_driver(seeded_app, k) for k in ("dan", "tnv", "canbo"))
    ticket = await open_ticket(seeded_app, dan, "Tôi cần hỏi về cấp lại căn cước")
    others = await announced_to(seeded_app, ticket) - {"demo-tnv"}
    assert "demo-tnv2" in others
    sender.blocked |= others  # every other volunteer and team leader blocked the bot
    await deliver(seeded_app)
    await claimed_by(seeded_app, tnv, ticket)
    await deliver(seeded_app)

    await revoke_volunteer_by_cli(seeded_app, "tnv")
    row = await ticket_row(seeded_app, ticket)
    assert row.status == "open" and row.claimed_by is None and row.escalated_at is not None
    told = await texts_to(seeded_app, "demo-dan")
    assert any(f"#{ticket}" in t and "chuyển cho cán bộ" in t for t in told), told
    assert not any("gửi lại cho các tình nguyện viên" in t for t in told)
    to = await released_to(seeded_app, ticket)
    assert "demo-canbo" in to and "demo-tnv" not in to
    assert "đã nhận phiếu" not in (await tnv.press(f"hr:k:{ticket}")).text
    await claimed_by(seeded_app, canbo, ticket)


async def test_with_nobody_reachable_the_citizen_is_told(seeded_app: App) -> None:
    """The commune's only officer held the ticket and /thuhoi took the role; every volunteer had
    blocked the bot. The citizen is told nobody can be reached now — not that it was passed on."""
    sender = Blocking()
    seeded_app.add_sender(sender)
    dan, canbo, lanhdao = (demo_driver(seeded_app, k) for k in ("dan", "canbo", "lanhdao"))
    ticket = await open_ticket(seeded_app, dan, "Toi can ho tro lam giay khai sinh")
    helpers = await announced_to(seeded_app, ticket)
    assert {"demo-tnv", "demo-tnv2", "demo-totruong"} <= helpers
    sender.blocked |= helpers
    await deliver(seeded_app)
    await claimed_by(seeded_app, canbo, ticket)
    await deliver(seeded_app)

    await lanhdao.send("/thuhoi")
    await lanhdao.press(f"th:x:{await membership_id(seeded_app, 'canbo', 'officer')}")
    assert "Đã thu hồi" in (await lanhdao.tap("Thu hồi")).text
    row = await ticket_row(seeded_app, ticket)
    assert row.status == "open" and row.claimed_by is None
    told = await texts_to(seeded_app, "demo-dan")
    assert any(f"#{ticket}" in t and "CHƯA liên lạc được" in t for t in told), told
    assert not any("gửi lại cho các tình nguyện viên" in t or "chuyển cho cán bộ" in t for t in told)
    assert "demo-canbo" not in await released_to(seeded_app, ticket)
    assert "đã nhận phiếu" not in (await canbo.press(f"hr:k:{ticket}")).text
    # A volunteer who unblocks the bot and writes gets the kept push, and can take the ticket.
    sender.blocked.discard("demo-tnv")
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/phieu")
    await deliver(seeded_app)
    await claimed_by(seeded_app, tnv, ticket)
