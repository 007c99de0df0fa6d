"""The personal-data filter (services/privacy.py) on the ways Vietnamese people write phone and ID
numbers: a reviewer found «0912/345/678», «(+84) 905 123 456» and a CCCD with dashes
(«046-190-001-234», cut to «[…]-234») passed. And what it must keep: dossier codes, dates, times,
sums of money, hotlines, counts."""

from __future__ import annotations

import pytest

from services import handoff, privacy, sessions
from services.errors import InvalidInput

HIDDEN = "[…]"

PHONES = [
    "0912345678",
    "0912 345 678",
    "0912 345678",
    "0912.345.678",
    "0912-345-678",
    "0912/345/678",
    "0905/123/456",
    "0912 / 345 / 678",
    "0912–345–678",
    "091 234 5678",
    "091.234.5678",
    "09 1234 5678",
    "0912 34 56 78",
    "+84 905 123 456",
    "+84905123456",
    "+84-905-123-456",
    "(+84) 905 123 456",
    "(+84)905123456",
    "+84 (0) 905 123 456",
    "+84 0905 123 456",
    "0084 905 123 456",
    "84912345678",
    "84 912 345 678",
    "(024) 3826 1234",  # a landline: 0 + area code + 8 digits
    "024.3826.1234",
    "0234 3822 123",
    "0234/3822/123",
    "0168 123 4567",  # an old 11-digit mobile
    "٠٩٠٥١٢٣٤٥٦",  # the same digits in another script: `\d` matches them
]
IDS = [
    "046201001234",
    "046 201 001 234",
    "046.201.001.234",
    "046-190-001-234",
    "046/190/001/234",
    "0462 0100 1234",
    "046201 001234",
    "191234567",
    "191.234.567",
    "191 234 567",
    "191-234-567",
    "191/234/567",
]


@pytest.mark.parametrize("secret", PHONES + IDS)
def test_every_way_of_writing_a_number_is_hidden_whole(secret: str) -> None:
    for text in (secret, f"liên hệ {secret} nhé", f"số:{secret}.", f"({secret})", f"sđt{secret}"):
        out = privacy.redact(text)
        digits = [c for c in out if c.isdecimal()]
        assert HIDDEN in out and not digits, (text, out)
        assert privacy.contains_personal_data(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gọi 0912/345/678 hoặc 0905.123.456", "gọi […] hoặc […]"),
        ("CCCD 046-190-001-234, sđt (+84) 905 123 456", "CCCD […], sđt […]"),
        ("số 0905123456, 0912345678", "số […], […]"),
        ("CCCD 046 201 001 234 0905 123 456", "CCCD […] […]"),
        ("gọi 0905 123 456 2 lần", "gọi […] 2 lần"),  # the count after it is no part of it
        ("hẹn 09/12/2026, gọi 0905123456", "hẹn 09/12/2026, gọi […]"),
        ("hồ sơ 000.00.19786.H46-261201-0077 của 0912/345/678", "hồ sơ 000.00.19786.H46-261201-0077 của […]"),
    ],
)
def test_only_the_number_is_hidden(text: str, expected: str) -> None:
    assert privacy.redact(text) == expected


KEPT = [
    "000.00.19786.H46-261201-0077",
    "Hồ sơ 000.00.19786.H46-260324-000003 nộp ngày 12/11/2026",
    "H12.34-241120-0001",
    "260910-0001",
    "01/12/2026",
    "09/12/2026 10:30",
    "ngày 01.12.2026 lúc 09:00",
    "2026-12-01 10:30:45,123",
    "hẹn 20/11 lúc 10:30",
    "09/12 gọi lại",
    "tuần 48/2026",
    "1.500.000 đ",
    "500.000",
    "lệ phí 50.000 đồng",
    "500.000.000 đồng",
    "vay 1.191.234.567 đồng",
    "120 500 000 đồng",
    "84.500.000.000 đồng",
    "123.456.789.012 đồng",
    "tổng đài 1900 0368",
    "1800 1234",
    "gọi 113",
    "/baocao 120 80 30 100 95 3 45 20",
    "/baocao 250 180 100 230 95 3 45 20",
    "/baocao 1200 800 300 100 95 3 45 20",
    "/baocao 0 0 0 0 0 0 0 0",
    "thửa đất số 12, tờ bản đồ 34",
    "hỗ trợ 3 hộ ở tổ 12, hẹn lại ngày 20/11 lúc 10:30",
    "2025 có 1200 hồ sơ",
    "Quyết định 1234/QĐ-UBND ngày 05/06/2025",
    "gửi motcua.thuanhoa@hue.gov.vn",
]


@pytest.mark.parametrize("text", KEPT)
def test_codes_dates_money_hotlines_and_counts_are_kept(text: str) -> None:
    assert privacy.redact(text) == text
    assert not privacy.contains_personal_data(text)


@pytest.mark.parametrize("note", ["bà Lan sđt 0912/345/678", "CCCD 046-190-001-234", "gọi (+84) 905 123 456"])
def test_notes_and_the_hand_off_warning_use_the_same_filter(note: str) -> None:
    with pytest.raises(InvalidInput) as err:
        sessions.check_note(note)
    assert err.value.key == "ghi.errors.note_personal"
    assert handoff.looks_like_id_or_phone(note)


def test_the_shortcut_threshold_still_holds() -> None:
    """Nothing is hidden with fewer than nine digits, so the fast path (`_nothing_to_hide`) is
    safe for the new separators too: the shortest hidden things are a 9-digit CMND and «+84» with
    nine more."""
    for secret in PHONES + IDS:
        assert sum(map(str.isdecimal, secret)) >= 9
    for short in ("0912/345/67", "+84 905 123 45", "046-190-001-23"[:10], "19123456"):
        assert privacy._redact_all(short) == short, short
