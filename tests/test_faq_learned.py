"""The FAQ matcher's learned signal: Naive Bayes over labelled questions (services/faq/learned.py)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from services.faq.entries import KnowledgeBaseError
from services.faq.index import FaqIndex, Verdict
from services.faq.learned import AskedQuestion, LearnedIndex, load_asked
from services.faq.settings import MatchSettings
from services.faq.text import normalize_tokens
from tests.faq_helpers import entry

ROOT = Path(__file__).resolve().parents[1]


# Two neighbours the entries' own words cannot tell apart: a first card and a replacement.
ENTRIES = [
    entry("cap-the", "Cấp thẻ hội viên", "thẻ hội viên mới"),
    entry("doi-the", "Đổi thẻ hội viên", "thẻ hội viên cũ"),
    entry("gia-han", "Gia hạn thẻ hội viên", "thẻ hội viên hết hạn"),
]
# Nine questions are far from the ~1,900 the temperature of the shipped settings is made for: the
# posterior of a tiny model is taken as it is.
TINY = MatchSettings(learned_temperature=1.0)
# How people asked, labelled by hand: a torn or faded card is a replacement.
ASKED = [
    AskedQuestion("the hoi vien bi rach roi lam sao", "doi-the"),
    AskedQuestion("thẻ hội viên mờ hết chữ", "doi-the"),
    AskedQuestion("the bi nhau nat khong doc duoc", "doi-the"),
    AskedQuestion("lan dau lam the hoi vien", "cap-the"),
    AskedQuestion("moi vao chua co the hoi vien", "cap-the"),
    AskedQuestion("the sap het han roi", "gia-han"),
    AskedQuestion("gia vang hom nay bao nhieu", None),
    AskedQuestion("thoi tiet ngay mai the nao", None),
    AskedQuestion("gia dien thoai iphone bao nhieu", None),
]


@pytest.mark.parametrize("question", ["the hoi vien bi mo chu", "the hoi vien cua em bi rach nat"])
def test_an_unseen_paraphrase_ranks_first_after_a_handful_of_questions(question: str) -> None:
    learned = LearnedIndex(ASKED, [e.id for e in ENTRIES], TINY.learned_temperature)
    best = learned.posterior(normalize_tokens(question)).best()
    assert best is not None and ENTRIES[best[0]].id == "doi-the"

    plain = FaqIndex(ENTRIES, TINY).search(question)
    assert plain.verdict is Verdict.NONE  # the entries' words tie: "I don't know"
    match = FaqIndex(ENTRIES, TINY, asked=ASKED).search(question)
    assert match.top is not None and match.top.entry.id == "doi-the"
    assert match.verdict is Verdict.AMBIGUOUS  # offered first among choices, never answered alone


def test_a_dont_know_question_is_not_answered_directly() -> None:
    trained = FaqIndex(ENTRIES, TINY, asked=ASKED)
    learned = LearnedIndex(ASKED, [e.id for e in ENTRIES], TINY.learned_temperature)
    question = "gia the hoi vien phong gym bao nhieu tien"  # shares the card's words
    posterior = learned.posterior(normalize_tokens("gia vang tuan nay bao nhieu"))
    assert posterior.none > max(posterior.entries.values(), default=0.0)
    assert trained.search(question).verdict is not Verdict.CONFIDENT
    assert trained.search("gia vang tuan nay bao nhieu").verdict is Verdict.NONE


def test_no_labelled_questions_leaves_the_signal_off() -> None:
    learned = LearnedIndex([], [e.id for e in ENTRIES])
    assert len(learned) == 0
    assert learned.posterior(("the", "hoi_vien")).best() is None
    question = "đổi thẻ hội viên"
    assert FaqIndex(ENTRIES).search(question) == FaqIndex(ENTRIES, asked=[]).search(question)


def test_questions_of_unknown_entries_are_skipped() -> None:
    learned = LearnedIndex([AskedQuestion("xin giay phep", "da-xoa")], [e.id for e in ENTRIES])
    assert len(learned) == 0


def _knowledge_dir(tmp_path: Path) -> Path:
    d = tmp_path / "kb"
    d.mkdir()
    shutil.copy(ROOT / "knowledge" / "dang-ky-khai-sinh.yaml", d)
    return d


@pytest.mark.parametrize("asked", [None, "", "questions: []\n", "questions:\n"])
def test_the_index_builds_without_labelled_questions(tmp_path: Path, asked: str | None) -> None:
    d = _knowledge_dir(tmp_path)
    if asked is not None:
        (d / "_asked.yaml").write_text(asked, encoding="utf-8")
    index = FaqIndex.from_dirs([d])
    match = index.search("lam giay khai sinh cho con")
    assert match.top is not None and match.top.entry.id == "dang-ky-khai-sinh"


def test_a_local_directory_adds_its_own_questions(tmp_path: Path) -> None:
    d = _knowledge_dir(tmp_path)
    (d / "_asked.yaml").write_text(
        'questions:\n  - {q: "con moi de xong", id: "dang-ky-khai-sinh", from: "feedback 2026-12"}\n'
        '  - {q: "gia vang", id: null}\n',
        encoding="utf-8",
    )
    asked = load_asked([ROOT / "knowledge", d])
    assert asked[-2:] == (
        AskedQuestion("con moi de xong", "dang-ky-khai-sinh", "feedback 2026-12"),
        AskedQuestion("gia vang", None, ""),
    )


def test_a_malformed_file_names_itself(tmp_path: Path) -> None:
    d = _knowledge_dir(tmp_path)
    (d / "_asked.yaml").write_text("questions:\n  - {id: dang-ky-khai-sinh}\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"_asked\.yaml"):
        FaqIndex.from_dirs([d])


def test_shipped_questions_are_what_the_bench_script_writes() -> None:
    """knowledge/_asked.yaml is generated from the development sets (bench/faq_asked.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("faq_asked", ROOT / "bench" / "faq_asked.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert (ROOT / "knowledge" / "_asked.yaml").read_text(encoding="utf-8") == module.render()
    # A blind round joins only after its "after" run: a round not in DEV_FILES is never trained on.
    rendered = module.render()
    for pending in sorted((ROOT / "bench" / "data").glob("faq_eval_blind*.yaml")):
        if pending.name not in module.DEV_FILES:
            assert f'from: "{pending.name}/' not in rendered, pending.name
