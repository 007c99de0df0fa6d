"""The personal-data filter skips its scans where they cannot match (no @, fewer than nine digits;
no colon, no field name): it must hide exactly what the full scan hides, on any text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import logs
from services import privacy

# Texts made of what the patterns look for: digits (ASCII and other scripts' decimals), separators,
# @ and domains, dossier-code pieces, field names, tokens; and Vietnamese letters between them.
_PIECES = st.sampled_from(
    [
        "0",
        "9",
        "84",
        "+84",
        "٣",
        "０",
        " ",
        ".",
        "-",
        "/",
        "–",
        "(",
        ")",
        "(+84)",
        "0084",
        "046",
        "01/12/2026",
        "@",
        "a@b.vn",
        "x@hue.gov.vn",
        "H46",
        "000.00.19786",
        "-260324-",
        "000003",
        "text=",
        "'",
        '"',
        "first_name: ",
        "username=",
        ":",
        "12345:",
        "A" * 20,
        "Nguyễn Thị Ánh",
        "gọi ",
        "số ",
        "\n",
    ]
)
_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_TEXTS)
def test_the_shortcut_hides_what_the_full_scan_hides(text: str) -> None:
    assert privacy.redact(text) == privacy._redact_all(text)


def _full_log_redact(text: str) -> str:
    """bot.logs.redact as it was before the shortcut: every pattern on every line."""
    text = logs._BOT_TOKEN.sub("<token>", text)
    text = logs._PERSONAL_FIELDS.sub(lambda m: f"{m.group(1)}{m.group(2)}…{m.group(2)}", text)
    return privacy._redact_all(text)


@settings(max_examples=3000, deadline=None)
@given(_TEXTS)
def test_log_lines_lose_what_they_lost_before(text: str) -> None:
    assert logs.redact(text) == _full_log_redact(text)


def test_nine_digits_in_any_script_still_count() -> None:
    arabic = "٠٤٦٠٩٥١٢٣٤٥٦"  # a CCCD in Arabic-Indic digits: `\d` matches them, so must we
    assert re.search(r"\d", arabic) and privacy.redact(f"gọi {arabic}") == "gọi [\u2026]"
    assert privacy.redact("key=a1b2c3d4 ms=1.2") == "key=a1b2c3d4 ms=1.2"
