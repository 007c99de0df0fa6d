"""The dossier look-up as a rural citizen types it (review of the Zalo pilot): lead-in words with
or without diacritics, dots or spaces for the dashes, a way out of «gõ mã hồ sơ», and a look-up
limit that stops enumeration without locking out someone re-checking their own dossier."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import Dossier
from services import dossiers
from tests.support import ChatDriver, Clock, Said

NOT_A_CODE = "chưa phải mã hồ sơ"
ASKS_CODE = "gõ mã hồ sơ"


@pytest.fixture(params=["buttons", "numbered"])
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def citizen(app: App, shape: str, user_id: str = "zl-7001") -> ChatDriver:
    """A citizen on Telegram (buttons) or on the Zalo Bot (numbered options)."""
    if shape == "buttons":
        return ChatDriver(app, user_id, "Bà Hoa", channel="telegram")
    return ChatDriver(app, user_id, "Bà Hoa", channel="zalo_bot", supports_buttons=False)


async def seeded_codes(app: App, n: int = 1) -> list[str]:
    """Codes of dossiers the demo seed made (the look-up only reads them)."""
    async with app.sessions() as s:
        rows = await s.execute(select(Dossier.code).where(Dossier.code.like("000.%")).order_by(Dossier.id))
        return [c for c in rows.scalars()][:n]


def found(said: Said, code: str) -> bool:
    return f"Hồ sơ {code}" in said.text and "Tình trạng:" in said.text


async def cancel_choice(driver: ChatDriver) -> Said:
    """Choose «Huỷ» as the person would: tap it, or type its number."""
    if driver.supports_buttons:
        return await driver.tap("Huỷ")
    number = re.search(r"^(\d+)\. ✖ Huỷ$", driver.history[-1].text, re.M)
    assert number, driver.history[-1].text
    return await driver.send(number.group(1))


# --- codes as people type them ---------------------------------------------------------------------

CODE = "000.00.19768.H46-260903-0001"


@pytest.mark.parametrize(
    "text",
    [
        f"Tra cứu hồ sơ {CODE}",
        f"tra cuu ho so {CODE}",
        f"TRA CỨU HỒ SƠ {CODE}",
        f"so ho so {CODE}",
        f"số hồ sơ {CODE}",
        f"kiểm tra hồ sơ số {CODE}",
        f"kiem tra ho so so: {CODE}",
        f"mã hồ sơ {CODE}",
        f"hồ sơ của tôi mã {CODE}",
        f"ma ho so cua toi la {CODE}",
        f"hs {CODE}",
        f"hoso{CODE}",
        "000.00.19768.H46.260903.0001",  # dots for the dashes
        "tra cuu ho so 000.00.19768.H46.260903.0001",
        "000.00.19768.H46-260903.0001",
        "000 00 19768 h46 260903 0001",  # spaces for dots and dashes
        "000.00.19768 H46 260903 0001",
        "tra cứu 000 00 19768 h46 260903 0001",
    ],
)
def test_lead_ins_are_stripped_and_separators_read(text: str) -> None:
    assert dossiers.extract_code(text) == CODE


@pytest.mark.parametrize(
    "text",
    [
        f"ho so abc {CODE}",  # a word next to the code is not glued on
        f"thu tuc {CODE}",
        "tra cuu ho so",
        "tra cuu ho so cua toi",
        "0912 345 678",  # a phone number spaced like a code
        "046 123 456 789",
        "hôm nay 20/11/2024 trời mưa",
    ],
)
def test_a_code_never_absorbs_words(text: str) -> None:
    assert dossiers.extract_code(text) is None


def test_spaced_and_run_together_codes_get_the_format_hint_not_the_faq() -> None:
    assert dossiers.looks_like_code_attempt("000 00 19768 h46 260903")  # the number is missing
    assert dossiers.looks_like_code_attempt("00000197680H46260903 0001")
    assert not dossiers.looks_like_code_attempt("0912 345 678")  # no letter: a phone, not a code
    assert not dossiers.looks_like_code_attempt("046 123 456 789")


async def test_every_lead_in_finds_the_seeded_dossier(seeded_app: App, shape: str) -> None:
    (code,) = await seeded_codes(seeded_app)
    agency, day, number = code.rsplit("-", 2)
    hoa = citizen(seeded_app, shape)
    for text in (
        f"Tra cứu hồ sơ {code}",
        f"tra cuu ho so {code}",
        f"so ho so {code}",
        f"hồ sơ của tôi mã {code}",
        f"{agency}.{day}.{number}",
        " ".join([*agency.lower().split("."), day, number]),
    ):
        said = await hoa.send(text)
        assert found(said, code), (text, said.text)
        assert "HOSO" not in said.text


# --- the dialog «gõ mã hồ sơ» ---------------------------------------------------------------------


async def test_the_prompt_offers_a_way_out_and_a_real_receipt_code(seeded_app: App, shape: str) -> None:
    hoa = citizen(seeded_app, shape)
    said = await hoa.send("tra cuu ho so cua toi")
    assert ASKS_CODE in said.text and "000.00.12.H12-241120-0001" in said.text, said.text
    assert "H12.34-241120-0001" not in said.text
    said = await cancel_choice(hoa)
    assert "Đã huỷ" in said.text, said.text
    said = await hoa.send("lam giay khai sinh")
    assert NOT_A_CODE not in said.text and "khai sinh" in said.text.lower(), said.text


@pytest.mark.parametrize("word", ["huy", "hủy", "Huỷ", "thoi khong can nua", "thôi", "bỏ qua"])
async def test_cancel_words_end_the_look_up_politely(seeded_app: App, word: str) -> None:
    hoa = citizen(seeded_app, "numbered")
    await hoa.send("tra cuu ho so cua toi")
    said = await hoa.send(word)
    assert "Đã huỷ" in said.text and NOT_A_CODE not in said.text, said.text
    said = await hoa.send("lam giay khai sinh")
    assert "khai sinh" in said.text.lower() and NOT_A_CODE not in said.text, said.text


async def test_a_question_or_a_request_leaves_the_look_up(seeded_app: App, shape: str) -> None:
    hoa = citizen(seeded_app, shape)
    await hoa.send("tra cuu ho so cua toi")
    said = await hoa.send("lam giay khai sinh")  # answered as if typed fresh
    assert NOT_A_CODE not in said.text and "khai sinh" in said.text.lower(), said.text
    await hoa.send("/tracuu")
    said = await hoa.send("cho toi gap nguoi that")  # the hand-off asks for the commune
    assert NOT_A_CODE not in said.text and "xã/phường" in said.text, said.text
    said = await hoa.send("thời gian làm căn cước bao lâu")  # «thời» is no «thôi»: a question
    assert "Đã huỷ" not in said.text and NOT_A_CODE not in said.text, said.text


async def test_a_mistyped_code_keeps_the_look_up_open_with_the_way_out(seeded_app: App, shape: str) -> None:
    (code,) = await seeded_codes(seeded_app)
    hoa = citizen(seeded_app, shape)
    await hoa.send("kiem tra ho so")
    said = await hoa.send("260903-0001")
    assert NOT_A_CODE in said.text and "000.00.12.H12-241120-0001" in said.text, said.text
    if hoa.supports_buttons:
        assert "✖ Huỷ" in said.labels()
    else:
        assert "✖ Huỷ" in said.text
    agency, day, number = code.rsplit("-", 2)
    said = await hoa.send(f"{agency}.{day}.{number}")  # the dotted code typed next is read
    assert found(said, code), said.text


# --- the limit: distinct codes ------------------------------------------------------------------


async def test_re_checking_the_same_dossier_is_never_locked_out(seeded_app: App, clock: Clock) -> None:
    clock.set(datetime(2026, 11, 20, 9, 0))
    (code,) = await seeded_codes(seeded_app)
    hoa = citizen(seeded_app, "numbered")
    for _ in range(15):
        said = await hoa.send(code)
        assert found(said, code), said.text
        clock.advance(seconds=20)


async def test_enumerating_codes_is_still_limited(seeded_app: App, clock: Clock) -> None:
    clock.set(datetime(2026, 11, 20, 9, 0))
    codes = await seeded_codes(seeded_app, 12)
    assert len(codes) == 12
    prober = citizen(seeded_app, "numbered", "zl-probe")
    for code in codes[:10]:
        assert found(await prober.send(code), code)
        clock.advance(seconds=5)
    said = await prober.send(codes[10])  # the 11th distinct code within 10 minutes
    assert "thời gian ngắn" in said.text and codes[10] not in said.text, said.text
    said = await prober.send(f"{codes[11].rsplit('-', 1)[0]}-9999")  # a miss counts as well
    assert "thời gian ngắn" in said.text, said.text
    assert found(await prober.send(codes[3]), codes[3])  # one already seen: nothing new, allowed
    clock.advance(minutes=10)
    assert found(await prober.send(codes[10]), codes[10])  # the window has passed
