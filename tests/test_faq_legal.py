"""The legal-document registry and `tocns faq check`: a replaced citation fails, a stale review
warns; and the answers that used to send citizens the wrong way now come out right."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.faq import faq_cli
from services.faq.entries import load_entries
from services.faq.index import FaqIndex, Verdict
from services.faq.legal import check_knowledge, load_registry

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
TODAY = date(2026, 11, 30)

ENTRY = """\
id: {id}
title: Đặt lịch hẹn nộp hồ sơ
title_en: Booking an appointment
synonyms: [đặt lịch hẹn]
audience: Người dân
where: [counter]
summary: Đặt lịch trước khi đến.
steps: [Gọi điện đặt lịch.]
legal_basis: [{citation}]
sources:
  - url: https://example.gov.vn/van-ban
    document: {citation}
    date: 2025-06-09
last_reviewed: {reviewed}
category: procedure
"""


def plant(directory: Path, citation: str, reviewed: str = "2026-11-30", stem: str = "dat-lich") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.yaml"
    path.write_text(ENTRY.format(id=stem, citation=citation, reviewed=reviewed), encoding="utf-8")
    return path


# -- the shipped base ----------------------------------------------------------------------


def test_shipped_base_cites_no_replaced_document() -> None:
    report = check_knowledge([KNOWLEDGE], TODAY)
    assert report.ok, report.errors
    assert len(report.entries) >= 80
    # every numbered citation is in the registry
    assert not [w for w in report.warnings if "is not in" in w]


def test_registry_knows_the_replacements_of_issue_17() -> None:
    by_number = {d.number: d for d in load_registry([KNOWLEDGE]) if d.number}
    assert by_number["61/2018/NĐ-CP"].replaced_by == "Nghị định 118/2025/NĐ-CP"
    assert by_number["61/2018/NĐ-CP"].replaced_on == date(2025, 7, 1)
    assert by_number["13/2023/NĐ-CP"].replaced(TODAY)
    assert by_number["24/2018/QH14"].replaced(TODAY)
    assert by_number["38/2013/QH13"].replaced(TODAY)
    assert not by_number["118/2025/NĐ-CP"].replaced(TODAY)


# -- faq check: the real CLI against a temporary directory ------------------------------------


def test_check_fails_on_a_planted_replaced_citation(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 61/2018/NĐ-CP")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code != 0
    text = result.output + repr(result.exception)
    assert "dat-lich" in text and "61/2018/NĐ-CP" in text and "118/2025/NĐ-CP" in text


def test_check_fails_on_a_replaced_law_cited_by_name(tmp_path: Path) -> None:
    plant(tmp_path, "Luật An ninh mạng 2018")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code != 0


def test_check_passes_the_current_document(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 118/2025/NĐ-CP")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 mục hợp lệ" in result.output
    assert "cảnh báo" not in result.output


def test_check_warns_on_an_entry_not_reviewed_for_a_year(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 118/2025/NĐ-CP", reviewed="2025-06-01")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "cảnh báo" in result.output and "not reviewed since 2025-06-01" in result.output


ASKED = """\
questions:
  - {q: "dat lich nop ho so", id: dat-lich, from: "feedback 2026-12"}
  - {q: "gia vang hom nay", id: null}
  - {q: "lam giay khai sinh cho con", id: dang-ky-khai-sinh}
  - {q: "dat lich lam ho chieu", id: dat-lich-cu, from: "feedback 2026-12"}
"""


def test_check_fails_on_a_labelled_question_of_no_entry_naming_the_line(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 118/2025/NĐ-CP")
    (tmp_path / "_asked.yaml").write_text(ASKED, encoding="utf-8")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code != 0
    text = result.output + repr(result.exception)
    # The fourth question (line 5) names a removed entry; a shipped entry's id is fine in a local
    # directory (the bot loads both), and null is "don't know".
    assert f"{tmp_path / '_asked.yaml'}:5: id 'dat-lich-cu' is not an entry" in " ".join(text.split())
    assert "dang-ky-khai-sinh" not in text


def test_check_passes_labelled_questions_of_known_entries(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 118/2025/NĐ-CP")
    (tmp_path / "_asked.yaml").write_text(ASKED.replace("dat-lich-cu", "dat-lich"), encoding="utf-8")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 mục hợp lệ" in result.output


def test_check_fails_on_a_malformed_labelled_questions_file(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 118/2025/NĐ-CP")
    (tmp_path / "_asked.yaml").write_text("questions:\n  - {id: dat-lich}\n", encoding="utf-8")
    result = CliRunner().invoke(faq_cli, ["check", str(tmp_path)])
    assert result.exit_code != 0
    assert "_asked.yaml" in result.output + repr(result.exception)


def test_the_shipped_labelled_questions_name_shipped_entries() -> None:
    assert check_knowledge([KNOWLEDGE], TODAY).ok


def test_a_newer_law_is_not_mistaken_for_the_old_one(tmp_path: Path) -> None:
    plant(tmp_path, "Luật Việc làm 2025")
    assert check_knowledge([tmp_path], TODAY, registry_dirs=[KNOWLEDGE]).ok
    plant(tmp_path, "Luật Việc làm và các văn bản hướng dẫn")
    assert not check_knowledge([tmp_path], TODAY, registry_dirs=[KNOWLEDGE]).ok


def test_replacement_counts_only_from_its_date(tmp_path: Path) -> None:
    plant(tmp_path, "Nghị định 13/2023/NĐ-CP")
    assert check_knowledge([tmp_path], date(2025, 12, 31), registry_dirs=[KNOWLEDGE]).ok
    assert not check_knowledge([tmp_path], date(2026, 1, 1), registry_dirs=[KNOWLEDGE]).ok


def test_loader_skips_the_registry_file() -> None:
    ids = {e.id for e in load_entries([KNOWLEDGE])}
    assert "_legal" not in ids


# -- the five answers that were wrong for a citizen, through the real matcher -----------------


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.from_dirs([KNOWLEDGE])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("them ten cha vao giay khai sinh", "dang-ky-nhan-cha-me-con"),
        ("thêm tên cha vào giấy khai sinh cho con", "dang-ky-nhan-cha-me-con"),
        ("CMND het han", "gia-tri-cmnd-cccd-cu"),
        ("căn cước cũ còn dùng được không", "gia-tri-cmnd-cccd-cu"),
        ("đổi địa chỉ trên căn cước sau sáp nhập", "giay-to-sau-sap-nhap"),
        ("trợ cấp hưu trí xã hội", "tro-cap-huu-tri-xa-hoi"),
        ("nop thue dat", "nop-thue-dat"),
        ("ly hon", "ly-hon"),
        ("ho so cua toi da xong chua", "tra-cuu-ho-so"),
    ],
)
def test_wrong_answers_are_fixed(index: FaqIndex, question: str, expected: str) -> None:
    match = index.search(question)
    assert match.verdict is not Verdict.NONE
    assert match.top is not None and match.top.entry.id == expected, [h.entry.id for h in match.hits]


def test_cmnd_answer_says_it_is_invalid_since_2025(index: FaqIndex) -> None:
    top = index.search("CMND het han").top
    assert top is not None
    assert "1/1/2025" in top.entry.summary and "Chứng minh nhân dân hết giá trị" in top.entry.summary


def test_social_pension_is_75_not_80(index: FaqIndex) -> None:
    pension = index.get("tro-cap-huu-tri-xa-hoi")
    assert pension is not None and "75 tuổi" in pension.summary
    allowance = index.get("tro-cap-xa-hoi-hang-thang")
    assert allowance is not None and not any("80" in s for s in allowance.synonyms)


def test_residence_fees_are_national(index: FaqIndex) -> None:
    for entry_id, amounts in (
        ("dang-ky-thuong-tru", ("20.000", "10.000")),
        ("dang-ky-tam-tru", ("15.000", "7.000")),
    ):
        entry = index.get(entry_id)
        assert entry is not None and entry.fee is not None
        assert "Thông tư 75/2022/TT-BTC" in entry.fee and all(a in entry.fee for a in amounts)
        assert "quy định của tỉnh" not in entry.fee


def test_temporary_absence_is_about_leaving_the_province(index: FaqIndex) -> None:
    entry = index.get("khai-bao-tam-vang")
    assert entry is not None and "tỉnh" in entry.summary and "12 tháng" in entry.summary


def test_divorce_is_not_marriage_registration(index: FaqIndex) -> None:
    ids = [h.entry.id for h in index.search("ly hon").hits]
    assert ids[0] == "ly-hon"
    entry = index.get("ly-hon")
    assert entry is not None and "Tòa án" in entry.summary


def test_unrelated_entries_have_no_public_service_portal_button(index: FaqIndex) -> None:
    for entry_id in (
        "thanh-toan-qr-cho",
        "thanh-toan-tien-dien-nuoc",
        "mua-sam-truc-tuyen-an-toan",
        "mo-vi-dien-tu-app-ngan-hang",
        "chu-ky-so-ca-nhan",
        "sinh-trac-hoc-ngan-hang",
    ):
        entry = index.get(entry_id)
        assert entry is not None
        assert entry.portal_url is None or "dichvucong" not in entry.portal_url
