"""What citizens really type: a question wrapped in greetings and thanks, a dossier code with spaces
for dashes or only its tail, «/ngonngu en» — each answered as meant, through the demo's dialogs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.kernel import App
from db.models import Dossier
from services import small_talk
from tests.support import demo_driver

THANKS = "không có gì"
UNKNOWN = "chưa hiểu"


# --- A question with thanks or a greeting in it is a question ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Chào anh chị, tôi ở xã bên, hôm trước có nhờ tổ làm giúp rồi mà chưa xong, nay cai the can "
            "cuoc cua toi sap het han roi thi phai lam sao, co phai di len tinh khong hay lam o phuong "
            "duoc, cam on nhieu",
            "Cấp đổi thẻ căn cước",
        ),
        ("cam on ban, cho hoi them lam ho chieu o dau", "hộ chiếu"),
        ("cam on ban cho hoi them lam ho chieu o dau", "hộ chiếu"),
        (
            "Chào bạn! Cảm ơn bạn đã hỗ trợ hôm trước. Hôm nay mình muốn hỏi: mẹ mình 80 tuổi, không có "
            "lương hưu, có được nhận trợ cấp gì không?",
            "Trợ cấp hưu trí xã hội",
        ),
        ("chào bạn, cho hỏi làm giấy khai sinh cho con thế nào", "Đăng ký khai sinh"),
        ("chao ban cho hoi lam giay khai sinh cho con the nao", "Đăng ký khai sinh"),
        ("Dạ cho em hỏi làm giấy khai sinh cho con thế nào ạ, em cảm ơn", "Đăng ký khai sinh"),
    ],
)
async def test_a_question_with_thanks_or_a_greeting_gets_the_faq(
    seeded_app: App, text: str, expected: str
) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send(text)
    assert THANKS not in said.text.lower() and UNKNOWN not in said.text, said.text
    assert expected.lower() in (said.text + " ".join(said.labels())).lower(), said.text


async def test_an_english_question_after_thanks_gets_the_faq(seeded_app: App) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send("/ngonngu")
    said = await dan.tap("English")
    assert "Switched to English" in said.text
    said = await dan.send("Thanks for your help last time. How do I register my baby's birth?")
    assert "You're welcome" not in said.text and "Birth registration" in said.text, said.text
    said = await dan.send("Thanks a lot!")
    assert "You're welcome" in said.text, said.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cảm ơn bạn nhiều ạ 🙏", THANKS),
        ("Cảm ơn bạn đã hỗ trợ hôm trước.", THANKS),
        ("ok cam on ad", THANKS),
        ("Dạ cảm ơn, sáng mai tôi qua.", THANKS),  # news, not a question: no list of guesses
        ("Chào bạn!", "xin chào"),
        ("chao ad nha", "xin chào"),
        ("da vang a", "dạ vâng"),
    ],
)
async def test_nothing_but_courtesy_is_answered_like_a_person(
    seeded_app: App, text: str, expected: str
) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send(text)
    assert expected in said.text.lower() and UNKNOWN not in said.text, said.text


def test_no_faq_benchmark_question_is_taken_for_small_talk() -> None:
    """The benchmark questions that have an answer (2,900, written by people) all stay questions."""
    root = Path(__file__).resolve().parent.parent / "bench" / "data"
    taken = []
    for path in sorted(root.glob("faq_eval*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else next(v for v in data.values() if isinstance(v, list))
        taken += [item["q"] for item in items if item.get("expected") and small_talk.kind(item["q"])]
    assert len(list(root.glob("faq_eval*.yaml"))) >= 2
    assert taken == []


# --- Dossier codes typed with spaces, or only their tail ---------------------------------------


async def _demo_code(app: App) -> str:
    async with app.sessions() as s:
        codes = (await s.execute(select(Dossier.code).where(Dossier.code.like("000.00.%")))).scalars()
        return next(iter(codes))


@pytest.mark.parametrize(
    "spell",
    [
        lambda c: c.replace("-", " "),
        lambda c: c.lower().replace("-", "   "),
        lambda c: c.replace("-", " – "),
        lambda c: c.replace("-", "_"),
        lambda c: "mã hồ sơ " + c.replace("-", " "),
        lambda c: "ho so cua toi " + c.replace("-", " ") + " sao chua xong",
    ],
)
async def test_a_code_with_spaces_for_dashes_is_looked_up(seeded_app: App, spell: object) -> None:
    code = await _demo_code(seeded_app)
    dan = demo_driver(seeded_app, "dan")
    assert callable(spell)
    said = await dan.send(spell(code))
    assert f"Hồ sơ {code}" in said.text and "Tình trạng" in said.text, said.text


@pytest.mark.parametrize("tail", [lambda c: c.split(".")[-1], lambda c: c.split(".")[-1].replace("-", " ")])
async def test_the_tail_of_a_code_says_what_a_full_code_looks_like(seeded_app: App, tail: object) -> None:
    code = await _demo_code(seeded_app)
    dan = demo_driver(seeded_app, "dan")
    assert callable(tail)
    said = await dan.send(tail(code))  # «H46-260910-0001», the end of the code on the receipt
    assert "phần cuối của mã hồ sơ" in said.text and "000.00.12.H12-241120-0001" in said.text, said.text


@pytest.mark.parametrize("text", ["260910-0001", "000.00.19768.H46 260910"])
async def test_an_incomplete_code_is_called_one(seeded_app: App, text: str) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send(text)
    assert "Đây chưa phải mã hồ sơ hợp lệ" in said.text and UNKNOWN not in said.text, said.text


# --- /ngonngu with its language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/ngonngu en", "Switched to English."),
        ("/ngonngu English", "Switched to English."),
        ("/language en", "Switched to English."),
        ("/ngonngu tiếng Anh", "Switched to English."),
    ],
)
async def test_ngonngu_with_a_language_switches_at_once(seeded_app: App, command: str, answer: str) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send(command)
    assert said.text == answer and not said.labels(), said.text
    said = await dan.send("/help")
    assert "Commands" in said.text or "/ngonngu" in said.text
    for back in ("/ngonngu vi", "/ngonngu tieng viet", "/ngonngu Tiếng Việt"):
        said = await dan.send(back)
        assert said.text == "Đã chuyển sang tiếng Việt.", said.text


async def test_ngonngu_with_an_unknown_language_offers_both(seeded_app: App) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send("/ngonngu klingon")
    assert "Choose your language" in said.text and "English" in said.labels(), said.text
