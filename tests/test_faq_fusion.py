"""How the learned signal moves the verdict (services/faq/fusion.py), through `FaqIndex.search` on
small labelled sets: off-topic words inside a real question, and questions people asked for
something the base lacks."""

from __future__ import annotations

from services.faq.index import FaqIndex, Verdict
from services.faq.learned import AskedQuestion
from services.faq.settings import MatchSettings
from tests.faq_helpers import entry

ENTRIES = [
    entry("nhan-con", "Đăng ký nhận cha con", "nhận con", "công nhận cha con"),
    entry("khai-sinh", "Đăng ký khai sinh", "làm giấy khai sinh cho con"),
    entry("ket-hon", "Đăng ký kết hôn", "làm giấy đăng ký kết hôn"),
]
# A handful of questions is far from the ~2,000 the shipped temperature is made for.
TINY = MatchSettings(learned_temperature=1.0)

# People who had a child with a former partner ("người yêu cũ", words of the off-topic list) asked
# to be recognised as the father; people who asked about a partner alone wanted no procedure.
STORIES = [
    AskedQuestion("co con voi nguoi yeu cu gio muon nhan con", "nhan-con"),
    AskedQuestion("nguoi yeu cu sinh con cua toi muon co ten cha trong giay to", "nhan-con"),
    AskedQuestion("con cua em voi nguoi yeu cu chua co ten cha", "nhan-con"),
    AskedQuestion("muon nhan con rieng de co ten cha", "nhan-con"),
    AskedQuestion("lam giay khai sinh cho con moi de", "khai-sinh"),
    AskedQuestion("vo chong muon dang ky ket hon", "ket-hon"),
    AskedQuestion("nguoi yeu gian em roi lam sao do", None),
    AskedQuestion("lam sao de nguoi yeu cu quay lai", None),
    AskedQuestion("thoi tiet ngay mai the nao", None),
]

STORY = "anh co con voi nguoi yeu cu, gio muon nhan la con de co ten cha trong giay to"


def test_off_topic_words_in_a_story_the_labelled_questions_tie_to_an_entry_give_choices() -> None:
    plain = FaqIndex(ENTRIES, TINY).search(STORY)
    assert plain.verdict is Verdict.NONE  # "người yêu" is off-topic talk for the guards
    assert plain.top is not None and plain.top.entry.id == "nhan-con"

    match = FaqIndex(ENTRIES, TINY, asked=STORIES).search(STORY)
    assert match.verdict is Verdict.AMBIGUOUS  # offered among choices, never answered alone
    assert [h.entry.id for h in match.hits][:1] == ["nhan-con"]


def test_off_topic_talk_the_labelled_questions_do_not_tie_stays_dont_know() -> None:
    index = FaqIndex(ENTRIES, TINY, asked=STORIES)
    for question in ("nguoi yeu gian em qua", "thoi tiet hom nay the nao"):
        assert index.search(question).verdict is Verdict.NONE, question


def test_without_the_lift_setting_the_off_topic_guard_still_says_dont_know() -> None:
    strict = MatchSettings(learned_temperature=1.0, learned_lift=1.1)
    assert FaqIndex(ENTRIES, strict, asked=STORIES).search(STORY).verdict is Verdict.NONE


# People who asked which day to register a marriage wanted a good-luck date (nothing the base has);
# those who asked how to register it wanted the entry.
MARRIAGE = entry("ket-hon", "Đăng ký kết hôn", "làm giấy đăng ký kết hôn", "kết hôn").model_copy(
    update={"summary": "Đăng ký kết hôn tại xã, trả kết quả trong ngày"}
)
DATES = [
    AskedQuestion("dang ky ket hon ngay nao cho dep", None),
    AskedQuestion("dang ky ket hon vao ngay nao tot", None),
    AskedQuestion("ngay nao dang ky ket hon hop tuoi", None),
    AskedQuestion("lam giay dang ky ket hon o xa", "ket-hon"),
    AskedQuestion("dang ky ket hon can giay to gi", "ket-hon"),
    AskedQuestion("lam giay khai sinh cho con moi de", "khai-sinh"),
]
WITH_DATES = [*ENTRIES[:2], MARRIAGE]
QUESTION = "đăng ký kết hôn ngày nào"


def test_a_direct_answer_becomes_choices_when_people_asked_so_for_what_the_base_lacks() -> None:
    assert FaqIndex(WITH_DATES, TINY).search(QUESTION).verdict is Verdict.CONFIDENT
    index = FaqIndex(WITH_DATES, TINY, asked=DATES)
    match = index.search(QUESTION)
    assert match.verdict is Verdict.AMBIGUOUS
    assert [h.entry.id for h in match.hits] == ["ket-hon", "khai-sinh", "nhan-con"]
    # Where the labelled questions agree with the matcher the answer stays direct.
    assert index.search("đăng ký kết hôn").verdict is Verdict.CONFIDENT


def test_the_doubt_setting_turns_the_rule_off() -> None:
    off = MatchSettings(learned_temperature=1.0, learned_doubt=1.1)
    assert FaqIndex(WITH_DATES, off, asked=DATES).search(QUESTION).verdict is Verdict.CONFIDENT
