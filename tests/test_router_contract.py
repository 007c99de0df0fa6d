"""The ways of writing a feature (typed payloads, a dialog declared once, permission on the command),
driven through the real intake: a small feature is mounted on the app's router for the test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import AuditLog
from handlers.core import Button, Context
from handlers.dialog import Dialog, State, States, Step, step_button
from handlers.payloads import Payload, PayloadError
from handlers.router import Router
from services.access import Action
from tests.support import ChatDriver


@dataclass(frozen=True)
class Pick(Payload, prefix="t.pick"):
    item_id: int
    again: bool = False


class Ask(States, prefix="t"):
    count = State()
    done = State()


def _ask_count(ctx: Context) -> None:
    ctx.reply("How many?", [[step_button("5", Ask.count, "5"), step_button("7", Ask.count, "7")]])


async def _take_count(ctx: Context, value: str) -> None:
    if not value.isdigit():
        ctx.reply("A number, please")
        return
    ctx.end()
    ctx.reply(f"count={value}")


def _feature() -> Router:
    router = Router(private_only=True)

    @router.command("tcount")
    async def start(ctx: Context) -> None:
        await DIALOG.ask(ctx, Ask.count)

    @router.command("tstaff", action=Action.SUBMIT_WEEKLY_REPORT)
    async def staff_only(ctx: Context) -> None:
        ctx.reply("staff ok")

    @router.command("tpick")
    async def pick_menu(ctx: Context) -> None:
        ctx.reply("Pick", [[Button("one", Pick(1).pack()), Button("two", Pick(2, again=True).pack())]])

    @router.typed(Pick)
    async def picked(ctx: Context, data: Pick) -> None:
        ctx.reply(f"picked={data.item_id} again={data.again}")

    DIALOG = Dialog(Ask, {Ask.count: Step(ask=_ask_count, take=_take_count)})
    router.dialog(DIALOG)
    return router


@pytest.fixture
def mounted(seeded_app: App) -> App:
    seeded_app.router.include(_feature())
    return seeded_app


def test_payload_round_trip_and_limits() -> None:
    assert Pick(3, again=True).pack() == "t.pick:3:1"
    assert Pick.unpack("t.pick:3:0") == Pick(3, False)
    for forged in ("t.pick:x:0", "t.pick:3", "t.pick:3:0:9", "other:3:0", "t.pick:3:maybe"):
        with pytest.raises(PayloadError):
            Pick.unpack(forged)

    @dataclass(frozen=True)
    class Long(Payload, prefix="t.long"):
        text: str

    with pytest.raises(ValueError, match="64 bytes"):
        Long("x" * 80).pack()


def test_a_state_typo_fails_at_once_and_clashing_prefixes_refuse() -> None:
    with pytest.raises(AttributeError):
        _ = Ask.cuont  # type: ignore[attr-defined]
    assert Ask.count == "t.count" and Ask.all == (Ask.count, Ask.done)
    with pytest.raises(ValueError, match="registered twice"):
        app_router = Router()
        app_router.include(_feature())
        app_router.include(_feature())


async def test_button_and_typed_text_reach_the_same_step(
    mounted: App, as_user: Callable[..., ChatDriver]
) -> None:
    dan = as_user("dan")
    await dan.send("/tcount")
    assert "count=7" in (await dan.tap("7")).text
    await dan.send("/tcount")
    assert "A number" in (await dan.send("abc")).text
    assert "count=12" in (await dan.send("12")).text


async def test_an_old_step_button_is_answered_out_of_date(
    mounted: App, as_user: Callable[..., ChatDriver]
) -> None:
    dan = as_user("dan")
    await dan.send("/tcount")
    old = dan.history[-1].button("5")
    await dan.send("9")  # the dialog ended
    said = await dan.press(old)
    assert "count=" not in said.text and said.text  # the one stale-button answer, not a silent drop


async def test_typed_payloads_parse_and_forged_ones_do_not_reach_the_handler(
    mounted: App, as_user: Callable[..., ChatDriver]
) -> None:
    dan = as_user("dan")
    await dan.send("/tpick")
    assert "picked=2 again=True" in (await dan.tap("two")).text
    said = await dan.press("t.pick:2:yes")
    assert "picked" not in said.text and said.text


async def test_permission_on_the_command_refuses_early_and_is_audit_logged(
    mounted: App, as_user: Callable[..., ChatDriver]
) -> None:
    dan, canbo = as_user("dan"), as_user("canbo")
    assert "staff ok" in (await canbo.send("/tstaff")).text
    said = await dan.send("/tstaff")
    assert "staff ok" not in said.text and said.text
    async with mounted.sessions() as session:
        rows = (await session.execute(select(AuditLog).where(AuditLog.action == "access.denied"))).scalars()
        assert any("tstaff" in (r.target or "") for r in rows)
    help_text = (await dan.send("/help")).text
    assert "/baocao" not in help_text  # hidden from people who may not run it
    assert "/baocao" in (await canbo.send("/help")).text


async def test_a_deep_link_is_no_way_around_the_commands_permission(
    seeded_app: App, as_user: Callable[..., ChatDriver]
) -> None:
    """`/start baocao` (the group's "open the private chat" link) as a citizen is refused like
    `/baocao` itself, before the dialog starts."""
    dan = as_user("dan")
    said = await dan.send("/start baocao")
    assert said.text and "/baocao" not in said.text.split("\n")[0]
    async with seeded_app.sessions() as session:
        rows = (await session.execute(select(AuditLog).where(AuditLog.action == "access.denied"))).scalars()
        assert any(r.details.get("action") == "submit_weekly_report" for r in rows)
    assert (await dan.send("hello")).text  # no report dialog was opened
