"""The FAQ knowledge base: shipped entries load, bad files are rejected with a precise error."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from services.faq.entries import Category, FaqEntry, KnowledgeBaseError, Where, load_entries, load_entry
from services.faq.index import FaqIndex, Verdict

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
REVIEW_DAY = date(2026, 11, 30)  # the last review of the shipped base (issue 17)

VALID = """\
id: {id}
title: Đăng ký nuôi con nuôi
title_en: Adoption registration
synonyms: [nhận con nuôi, xin con nuôi]
audience: Người muốn nhận con nuôi trong nước
where: [counter]
summary: Nộp hồ sơ tại UBND xã nơi trẻ thường trú.
steps: [Nộp hồ sơ tại xã., Nhận giấy chứng nhận.]
portal_url: https://dichvucong.gov.vn
last_reviewed: 2026-11-01
category: procedure
"""


def write(directory: Path, stem: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- shipped knowledge base ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> tuple[FaqEntry, ...]:
    return load_entries([KNOWLEDGE])


ENTRY_FILES = sorted(p for p in KNOWLEDGE.glob("*.yaml") if not p.name.startswith("_"))


def test_every_shipped_file_loads(shipped: tuple[FaqEntry, ...]) -> None:
    assert len(shipped) == len(ENTRY_FILES) >= 80
    assert [e.id for e in shipped] == [p.stem for p in ENTRY_FILES]


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.stem)
def test_shipped_entry_is_complete(path: Path) -> None:
    entry = load_entry(path)
    assert entry.synonyms and entry.steps and entry.where
    assert len(entry.summary) <= 300
    assert entry.portal_url is None or entry.portal_url.startswith("https://")
    # Every entry says where it was checked, and when (never in the future).
    assert entry.sources, "an entry needs at least one source"
    assert all(s.url and s.document and s.date <= REVIEW_DAY for s in entry.sources)
    assert entry.last_reviewed <= REVIEW_DAY
    # Citizens are addressed as "anh/chị", never "bạn".
    text = " ".join([entry.summary, entry.audience, *entry.steps, *entry.documents, entry.fee or ""])
    for friend in ("kết bạn", "thêm bạn", "bạn bè"):  # a friend, not the reader
        text = text.lower().replace(friend, "")
    assert not re.search(r"\bbạn\b", text), text
    # Vietnamese text is written with its marks (a title without any is almost surely a slip).
    assert not entry.title.isascii()
    for ref in entry.legal_basis:
        decree = re.search(r"(Nghị định|Quyết định|Thông tư) (\d+/\S+)", ref)
        if decree:
            assert re.fullmatch(r"\d+(/\d{4})?/[A-Za-zĐ-]+", decree.group(2)), ref


REQUIRED_TOPICS = [
    "dang-ky-khai-sinh",
    "lien-thong-khai-sinh-thuong-tru-bhyt",
    "trich-luc-khai-sinh",
    "dang-ky-khai-tu",
    "dang-ky-ket-hon",
    "xac-nhan-tinh-trang-hon-nhan",
    "dang-ky-thuong-tru",
    "dang-ky-tam-tru",
    "khai-bao-tam-vang",
    "phieu-ly-lich-tu-phap",
    "cap-can-cuoc-lan-dau",
    "cap-doi-can-cuoc",
    "cap-lai-can-cuoc-bi-mat",
    "can-cuoc-tre-em-duoi-14",
    "dang-ky-tai-khoan-vneid",
    "kich-hoat-vneid-muc-2",
    "tich-hop-giay-to-vneid",
    "cap-the-bhyt",
    "gia-han-bhyt-ho-gia-dinh",
    "doi-giay-phep-lai-xe",
    "cap-so-do-lan-dau",
    "sang-ten-so-do",
    "dang-ky-ho-kinh-doanh",
    "tro-cap-xa-hoi-hang-thang",
    "tro-cap-that-nghiep",
    "thanh-toan-phi-le-phi-truc-tuyen",
    "nhan-ket-qua-buu-chinh",
    "cong-dich-vu-cong-quoc-gia",
    "cong-dich-vu-cong-tinh",
    "tra-cuu-ho-so",
    "mo-vi-dien-tu-app-ngan-hang",
    "sinh-trac-hoc-ngan-hang",
    "thanh-toan-qr-cho",
    "nhan-biet-lua-dao",
    "bao-ve-tai-khoan",
    "mua-sam-truc-tuyen-an-toan",
    "chung-thuc-ban-sao-dien-tu",
    "chu-ky-so-ca-nhan",
    "thanh-toan-tien-dien-nuoc",
    "nop-phat-giao-thong",
    "tuyen-sinh-dau-cap",
    "huong-luong-huu",
    "ung-dung-vssid",
    "dat-lich-hen-mot-cua",
]


REQUIRED_TOPICS += [
    "dang-ky-nhan-cha-me-con",
    "dang-ky-lai-khai-sinh",
    "giay-to-sau-sap-nhap",
    "gia-tri-cmnd-cccd-cu",
    "tro-cap-huu-tri-xa-hoi",
    "ma-so-thue-ca-nhan",
    "etax-mobile",
    "quyet-toan-thue-tncn",
    "le-phi-truoc-ba",
    "nop-thue-dat",
    "thue-ho-kinh-doanh",
    "ban-hang-truc-tuyen",
    "su-dung-dien-thoai-thong-minh",
    "su-dung-zalo",
    "binh-dan-hoc-vu-so",
    "vneid-cho-tre-em",
    "khoa-tai-khoan-vneid",
    "so-suc-khoe-dien-tu",
    "cap-phep-xay-dung",
    "xac-nhan-ho-ngheo",
    "dang-ky-nghia-vu-quan-su",
    "ly-hon",
    "lua-dao-gia-danh-co-quan",
    "lua-dao-trung-thuong",
    "to-giac-lua-dao",
    "nop-ho-so-giup-nguoi-dan",
    "trung-tam-phuc-vu-hanh-chinh-cong",
]


def test_required_topics_are_covered(shipped: tuple[FaqEntry, ...]) -> None:
    ids = {e.id for e in shipped}
    assert not set(REQUIRED_TOPICS) - ids


def test_both_categories_and_all_channels_are_used(shipped: tuple[FaqEntry, ...]) -> None:
    assert {e.category for e in shipped} == set(Category)
    assert {w for e in shipped for w in e.where} == set(Where)


# -- validation errors -----------------------------------------------------------------------


def test_valid_file_loads(tmp_path: Path) -> None:
    entry = load_entry(write(tmp_path, "nhan-con-nuoi", VALID.format(id="nhan-con-nuoi")))
    assert entry.where == (Where.COUNTER,)
    assert entry.category is Category.PROCEDURE
    assert entry.fee is None


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    text = VALID.format(id="nhan-con-nuoi").replace("title: Đăng ký nuôi con nuôi\n", "")
    path = write(tmp_path, "nhan-con-nuoi", text)
    with pytest.raises(KnowledgeBaseError) as info:
        load_entry(path)
    assert info.value.path == path
    assert info.value.field == "title"
    assert "nhan-con-nuoi.yaml" in str(info.value) and "'title'" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("where: [counter]", "where: [counter, zalo]", "where.1"),
        ("last_reviewed: 2026-11-01", "last_reviewed: someday", "last_reviewed"),
        ("portal_url: https://dichvucong.gov.vn", "portal_url: dichvucong.gov.vn", "portal_url"),
        ("category: procedure", "category: gossip", "category"),
        ("steps: [Nộp hồ sơ tại xã., Nhận giấy chứng nhận.]", "steps: []", "steps"),
        ("category: procedure", "category: procedure\ncolour: red", "colour"),
    ],
)
def test_bad_value_names_the_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    text = VALID.format(id="nhan-con-nuoi")
    assert old in text
    path = write(tmp_path, "nhan-con-nuoi", text.replace(old, new))
    with pytest.raises(KnowledgeBaseError) as info:
        load_entry(path)
    assert info.value.field == field
    assert info.value.path == path


def test_id_must_equal_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path, "con-nuoi", VALID.format(id="nhan-con-nuoi"))
    with pytest.raises(KnowledgeBaseError) as info:
        load_entry(path)
    assert info.value.field == "id"
    assert "con-nuoi.yaml" in str(info.value)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hong", "id: hong\ntitle: [unclosed\n")
    with pytest.raises(KnowledgeBaseError) as info:
        load_entry(path)
    assert info.value.path == path
    assert info.value.field is None


def test_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="mapping"):
        load_entry(write(tmp_path, "danh-sach", "- a\n- b\n"))


def test_duplicate_ids_across_directories_are_rejected(tmp_path: Path) -> None:
    write(tmp_path / "a", "nhan-con-nuoi", VALID.format(id="nhan-con-nuoi"))
    second = write(tmp_path / "b", "nhan-con-nuoi", VALID.format(id="nhan-con-nuoi"))
    with pytest.raises(KnowledgeBaseError) as info:
        load_entries([tmp_path / "a", tmp_path / "b"])
    assert info.value.path == second
    assert info.value.field == "id"
    assert "duplicate" in str(info.value)


def test_local_entry_cannot_shadow_a_shipped_one(tmp_path: Path) -> None:
    write(tmp_path, "dang-ky-khai-sinh", VALID.format(id="dang-ky-khai-sinh"))
    with pytest.raises(KnowledgeBaseError, match="duplicate id 'dang-ky-khai-sinh'"):
        load_entries([KNOWLEDGE, tmp_path])


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_entries([tmp_path / "khong-co"])


def test_duplicate_ids_rejected_by_the_index_too(tmp_path: Path) -> None:
    entry = load_entry(write(tmp_path, "nhan-con-nuoi", VALID.format(id="nhan-con-nuoi")))
    with pytest.raises(ValueError, match="duplicate"):
        FaqIndex([entry, entry])


def test_local_directory_adds_searchable_entries(tmp_path: Path) -> None:
    write(tmp_path, "nhan-con-nuoi", VALID.format(id="nhan-con-nuoi"))
    index = FaqIndex.from_dirs([KNOWLEDGE, tmp_path])
    assert index.get("nhan-con-nuoi") is not None
    match = index.search("thủ tục nhận con nuôi thế nào ạ")
    assert match.verdict is Verdict.CONFIDENT
    assert match.top is not None and match.top.entry.id == "nhan-con-nuoi"
