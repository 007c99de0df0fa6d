"""Citizens' questions answered from the knowledge base through the real intake: unaccented
questions, choices when unclear, "don't know" with a hand-off and a logged gap, 👍/👎."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.assemble import build
from bot.config import ConfigError
from bot.kernel import ROOT, App, StartupError
from handlers.core import MAX_PAYLOAD_BYTES
from handlers.faq import FAQ_INDEX, entry_ref, find_entry
from handlers.handoff_push import StartHandoff
from services.faq import feedback as faq_feedback
from tests.support import ChatDriver, demo_driver, make_settings

HANDOFF = StartHandoff().pack()  # the FAQ's «Gặp người hỗ trợ» button


def payloads(said: object) -> list[str]:
    return [b.payload for r in said.replies for row in r.buttons for b in row if b.payload]  # type: ignore[attr-defined]


async def test_unaccented_question_gets_the_right_answer(app: App) -> None:
    lan = ChatDriver(app, "7001", "Chị Lan")
    said = await lan.send("lam khai sinh cho be online dc ko ad")
    assert "Đăng ký khai sinh" in said.text
    assert "1. " in said.text and "2. " in said.text  # numbered steps
    labels = said.labels()
    assert any("Xem đầy đủ" in x for x in labels) and any("Gặp người hỗ trợ" in x for x in labels)
    assert any(b.url and b.url.startswith("https://") for r in said.replies for row in r.buttons for b in row)
    assert "faq:d:dang-ky-khai-sinh" in payloads(said)
    full = await lan.tap("Xem đầy đủ")
    assert "Giấy tờ cần chuẩn bị" in full.text and "Lệ phí" in full.text
    assert "Căn cứ pháp lý" in full.text and "Nguồn:" in full.text
    # partly checked (the 60-day deadline, not the papers): the date is shown, but not as "rà soát"
    assert "cập nhật ngày 30/11/2026" in full.text and "chưa được đối chiếu" in full.text
    assert "Luật Hộ tịch 2014" in full.text


async def test_unclear_question_offers_three_choices_that_work(app: App) -> None:
    lan = ChatDriver(app, "7002")
    said = await lan.send("giay to")
    choices = [p for p in payloads(said) if p.startswith("faq:a:")]
    assert len(choices) == 3
    assert HANDOFF in payloads(said)
    index = app.resources[FAQ_INDEX]
    for payload in choices:
        entry = find_entry(index, payload.split(":")[2])
        assert entry is not None
        shown = await lan.press(payload)
        assert entry.title in shown.text and "1. " in shown.text


async def test_nonsense_gets_dont_know_handoff_and_a_logged_gap(app: App) -> None:
    lan = ChatDriver(app, "7003")
    said = await lan.send("visa qwxz blorf")
    assert "chưa hiểu" in said.text
    assert HANDOFF in payloads(said) and "core:help" in payloads(said)
    await ChatDriver(app, "7004").send("VISA   qwxz  BLORF!")  # same question, normalised
    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    async with app.sessions() as s:
        found = await faq_feedback.gaps(s, index.question_filter)
    assert [(g.normalized, g.count) for g in found] == [("visa #", 2)]
    # A greeting alone is not a question: answered like a person, with what the bot can do.
    said = await lan.send("alo")
    assert "core:help" in payloads(said) and HANDOFF not in payloads(said)


async def test_gap_log_masks_long_numbers(app: App) -> None:
    await ChatDriver(app, "7005").send("visa qwxz blorf 0905123456")
    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    async with app.sessions() as s:
        found = await faq_feedback.gaps(s, index.question_filter)
    assert found and "0905123456" not in found[0].normalized


async def test_votes_are_counted_once_per_person_and_changeable(seeded_app: App) -> None:
    a, b = ChatDriver(seeded_app, "7010"), ChatDriver(seeded_app, "7011")
    for who in (a, b):
        await who.send("đăng ký tạm trú online")
    await a.tap("Hữu ích")
    await a.press("faq:v:dang-ky-tam-tru:u")  # twice: still one vote
    said = await b.press("faq:v:dang-ky-tam-tru:d")
    assert "Gặp người hỗ trợ" in " ".join(said.labels())
    async with seeded_app.sessions() as s:
        votes = {v.entry_id: (v.up, v.down) for v in await faq_feedback.votes(s)}
    assert votes["dang-ky-tam-tru"] == (1 + 0, 1 + 1)  # the demo seed has one 👎 on it already
    await b.press("faq:v:dang-ky-tam-tru:u")  # b changes their mind
    async with seeded_app.sessions() as s:
        votes = {v.entry_id: (v.up, v.down) for v in await faq_feedback.votes(s)}
    assert votes["dang-ky-tam-tru"] == (2, 1)
    admin = demo_driver(seeded_app, "admin")
    report = await admin.send("/phanhoi")
    assert "Đăng ký tạm trú" in report.text and "tien dien thang # bao nhieu" in report.text
    refused = await a.send("/phanhoi")
    assert "chưa có quyền" in refused.text


async def test_forged_or_stale_payloads(app: App) -> None:
    lan = ChatDriver(app, "7020")
    said = await lan.press("faq:d:khong-co-muc-nay")
    assert "không còn" in said.text
    said = await lan.press("faq:v:dang-ky-khai-sinh:x")
    assert "cũ" in said.text


def test_entry_refs_fit_in_payloads() -> None:
    long_id = "a" * 80
    ref = entry_ref(long_id)
    assert len(f"faq:v:{ref}:u".encode()) <= MAX_PAYLOAD_BYTES
    assert entry_ref("dang-ky-khai-sinh") == "dang-ky-khai-sinh"


def _config_with(tmp_path: Path, section: dict[str, object]) -> Path:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.update(section)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_a_bad_local_entry_stops_start_up_naming_the_file(tmp_path: Path, db_url: str) -> None:
    local = tmp_path / "local"
    local.mkdir()
    (local / "hoi-dap-xa.yaml").write_text("id: hoi-dap-xa\ntitle: Thiếu trường\n", encoding="utf-8")
    cfg = _config_with(tmp_path, {"faq": {"local_dir": str(local)}})
    with pytest.raises(StartupError) as err:
        build(make_settings(db_url, TOCNS_CONFIG=str(cfg)))
    assert "hoi-dap-xa.yaml" in str(err.value) and "\n" not in str(err.value)


async def test_a_local_entry_is_answered(tmp_path: Path, db_url: str) -> None:
    local = tmp_path / "local"
    local.mkdir()
    entry = yaml.safe_load((ROOT / "knowledge" / "dang-ky-khai-sinh.yaml").read_text(encoding="utf-8"))
    entry |= {
        "id": "lich-tiep-dan-phuong",
        "title": "Lịch tiếp dân của phường",
        "title_en": "Ward reception hours",
        "synonyms": ["lịch tiếp công dân", "giờ tiếp dân phường"],
        "summary": "Phường tiếp công dân sáng thứ Năm hằng tuần.",
    }
    (local / "lich-tiep-dan-phuong.yaml").write_text(
        yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8"
    )
    cfg = _config_with(tmp_path, {"faq": {"local_dir": str(local)}})
    app = build(make_settings(db_url, TOCNS_CONFIG=str(cfg)))
    try:
        said = await ChatDriver(app, "7030").send("lich tiep cong dan")
        assert "Lịch tiếp dân của phường" in said.text
    finally:
        await app.close()


def test_bad_handoff_config_stops_start_up(tmp_path: Path, db_url: str) -> None:
    cfg = _config_with(tmp_path, {"handoff": {"notify": "groups"}})
    with pytest.raises(ConfigError, match=r"handoff\.notify"):
        build(make_settings(db_url, TOCNS_CONFIG=str(cfg)))


async def test_a_bare_number_is_not_a_question(app: App) -> None:
    user = ChatDriver(app, "faq-num", "Người dân")
    for text in ("2", "???", "12/11"):
        said = await user.send(text)
        assert "Xin lỗi, tôi chưa hiểu" in said.text, text


def url_buttons(said: object) -> list[tuple[str, str]]:
    return [(b.label, b.url) for r in said.replies for row in r.buttons for b in row if b.url]  # type: ignore[attr-defined]


async def test_answer_buttons_link_only_to_a_relevant_page(app: App) -> None:
    """QR payments have nothing to do with the public-service portal: no portal button; a checked
    entry shows its sources and "rà soát" date, a partly checked one says what is unchecked."""
    minh = ChatDriver(app, "7101")
    said = await minh.send("thanh toán bằng mã qr ở chợ như thế nào")
    assert "mã QR" in said.text
    assert not [u for _, u in url_buttons(said) if "dichvucong" in u]
    scam = await minh.send("bi lua chuyen tien roi phai lam gi")
    assert [label for label, _ in url_buttons(scam)] == ["🌐 Trang thông tin chính thức"]
    full = await minh.tap("Xem đầy đủ")
    assert "Nguồn:" in full.text and "Nội dung rà soát lần cuối: 30/11/2026" in full.text
    tax = await minh.send("quyết toán thuế thu nhập cá nhân")
    assert "Quyết toán thuế" in tax.text
    partly = await minh.tap("Xem đầy đủ")
    assert "chưa được đối chiếu" in partly.text and "rà soát lần cuối" not in partly.text


async def test_follow_ups_are_about_the_answer_just_shown(app: App) -> None:
    """«mat bao lau», «bao nhieu tien», «o dau», «can giay to j» alone name no procedure: they offered
    death registration to a parent who had just read about birth registration."""
    from datetime import timedelta

    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    birth = index.get("dang-ky-khai-sinh")
    assert birth is not None and birth.processing_time and birth.fee and birth.documents
    lan = ChatDriver(app, "7101", "Chị Lan", channel="zalo_oa", supports_buttons=False)
    said = await lan.send("lam giay khai sinh cho con")
    assert "Đăng ký khai sinh" in said.text
    said = await lan.send("mat bao lau")
    assert said.text.startswith("⏱ Đăng ký khai sinh") and birth.processing_time in said.text
    said = await lan.send("thế bao nhiêu tiền ạ")
    assert said.text.startswith("💰 Đăng ký khai sinh") and birth.fee in said.text
    said = await lan.send("lam o dau")
    assert "📍 Đăng ký khai sinh" in said.text and "Cổng dịch vụ công" in said.text
    said = await lan.send("can giay to j")
    assert "📄 Đăng ký khai sinh" in said.text and birth.documents[0] in said.text
    said = await lan.send("1")  # the options of the follow-up stay pickable: «Xem đầy đủ»
    assert "thông tin đầy đủ" in said.text
    # A question of its own changes the topic; the next follow-up is about the new one.
    said = await lan.send("lam cccd cho con duoi 14 tuoi")
    assert "căn cước" in said.text.lower()
    if "Anh/chị muốn hỏi về việc nào" in said.text:  # choices: pick the child's ID card
        line = next(ln for ln in said.text.splitlines() if "14 tuổi" in ln)
        said = await lan.send(line.split(".", 1)[0])
    assert said.text.startswith("📋") and "14 tuổi" in said.text, said.text
    said = await lan.send("mat bao lau")
    assert "Đăng ký khai sinh" not in said.text and "căn cước" in said.text.lower(), said.text
    # Anything else is handled as without the answer: thanks, a command, a file.
    said = await lan.send("cam on")
    assert "không có gì" in said.text
    said = await lan.send("lam giay khai sinh cho con")
    said = await lan.send("/huy")
    assert "không có thao tác nào" in said.text
    # After the idle time the follow-up lapses quietly (no «thao tác trước đã hết hạn»).
    await lan.send("lam giay khai sinh cho con")
    later = app.intake.clock() + timedelta(hours=3)
    app.intake.clock = lambda: later
    said = await lan.send("mat bao lau")
    assert "hết hạn" not in said.text and not said.text.startswith("⏱"), said.text


async def test_a_follow_up_the_entry_cannot_answer_offers_a_person(app: App) -> None:
    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    # An entry without a fee, reached through its own title.
    entry = next(e for e in index.entries if e.fee is None and index.search(e.title).top.entry.id == e.id)
    dung = ChatDriver(app, "7102", "Anh Dũng")
    said = await dung.send(entry.title)
    assert entry.title in said.text
    said = await dung.send("bao nhieu tien")
    assert f"Hướng dẫn «{entry.title}» chưa ghi lệ phí" in said.text
    assert HANDOFF in payloads(said)


async def test_an_answers_options_outlive_the_follow_up(app: App) -> None:
    """On a numbered channel the answer's «1. Xem đầy đủ» still works hours later: only the
    listening for a follow-up lapses, quietly."""
    from datetime import timedelta

    lan = ChatDriver(app, "7103", "Chị Lan", channel="zalo_oa", supports_buttons=False)
    said = await lan.send("lam giay khai sinh cho con")
    assert "1. 📄 Xem đầy đủ" in said.text
    later = app.intake.clock() + timedelta(hours=5)
    app.intake.clock = lambda: later
    said = await lan.send("1")
    assert "thông tin đầy đủ" in said.text and "hết hạn" not in said.text, said.text


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("I lost my ID card", "cap-lai-can-cuoc-bi-mat"),
        ("how to register a birth online", "dang-ky-khai-sinh"),
        ("register marriage", "dang-ky-ket-hon"),
        ("pay a traffic fine online", "nop-phat-giao-thong"),
        ("how do I withdraw social insurance once", "rut-bhxh-mot-lan"),
        ("forgot VNeID password", "quen-mat-khau-vneid"),
        ("how to get a land certificate", "cap-so-do-lan-dau"),
    ],
)
async def test_english_readers_questions_are_answered(app: App, question: str, entry: str) -> None:
    """The knowledge base is Vietnamese: an English reader's «I lost my ID card» found nothing, and
    the «don't know» reply suggested «ID card for my child», which failed too."""
    ann = ChatDriver(app, f"72{abs(hash(question)) % 1000:03d}", "Ann")
    await ann.send("/ngonngu")
    await ann.press("lang:en")
    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    expected = index.get(entry)
    assert expected is not None
    said = await ann.send(question)
    assert said.text.startswith(f"📋 {expected.title_en}"), said.text
    assert "written in Vietnamese" in said.text  # the steps below are the Vietnamese entry


async def test_the_english_example_of_the_dont_know_reply_works(app: App) -> None:
    ann = ChatDriver(app, "7301", "Ann")
    await ann.send("/ngonngu")
    await ann.press("lang:en")
    said = await ann.send("ID card for my child")
    index = app.resources.get(FAQ_INDEX)
    assert index is not None
    child = index.get("can-cuoc-tre-em-duoi-14")
    assert child is not None and child.title_en in said.labels(), said.labels()
    # The same words typed by a Vietnamese reader are not translated (their matching is unchanged).
    lan = ChatDriver(app, "7302", "Lan")
    said = await lan.send("can cuoc cho con")
    assert any("căn cước" in label for label in said.labels()) or "căn cước" in said.text, said.text


async def test_plain_english_is_answered_in_english_once(seeded_app: App) -> None:
    """A foreign spouse on a channel that gives no language (Zalo, the console) types English: it was
    «Xin lỗi, tôi chưa hiểu…» in Vietnamese. This answer is in English, says how to keep English, and
    the next Vietnamese question is answered in Vietnamese."""
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send("how do i get a birth certificate for my baby")
    assert "You wrote in English" in said.text and "/ngonngu en" in said.text, said.text
    assert "Xin lỗi" not in said.text and "chưa hiểu" not in said.text
    assert "birth" in said.text.lower(), said.text
    said = await dan.send("lam cccd cho con o dau")
    assert "You wrote in English" not in said.text and "Anh/chị" in said.text, said.text


def test_no_vietnamese_benchmark_question_is_taken_for_english() -> None:
    """«the bhyt», «can gi», «do dau»: Vietnamese without diacritics shares words with English."""
    from services.faq.english import looks_english

    asked = yaml.safe_load((ROOT / "knowledge" / "_asked.yaml").read_text(encoding="utf-8"))["questions"]
    vietnamese = {"lam", "cho", "khong", "ko", "dau", "nao", "gi", "duoc", "dc", "cua", "toi", "em", "hoi"}
    taken = [q["q"] for q in asked if looks_english(q["q"]) and vietnamese & set(q["q"].lower().split())]
    assert not taken, taken
