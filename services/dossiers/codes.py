"""Dossier codes as citizens type them: "000.00.12.H12-241120-0001", with stray spaces, dashes,
dots or spaces for the dashes, and words around it, alone or inside a sentence."""

from __future__ import annotations

import re

from services.text import fold

# What a receipt (giấy tiếp nhận và hẹn trả kết quả) prints: agency code, yymmdd, number.
CODE_EXAMPLE = "H12.34-241120-0001"
FULL_CODE_EXAMPLE = "000.00.12.H12-241120-0001"

# e.g. H12.34-241120-0001, 000.00.12.H12-241120-0001, G22.99-250101-12345
CODE = re.compile(r"^(?=[0-9.]*[A-Z])[A-Z0-9]{1,8}(?:\.[A-Z0-9]{1,8}){0,5}-\d{6}-\d{3,6}$")
_STRAY = " \t\r\n.,;:!?\"'()[]{}<>«»“”‘’*#`"
_DASHES = re.compile(r"\s*[-‐‑–—_]\s*")
_DOTS = re.compile(r"\s*\.\s*")
# The date and the number at the end, after a dash, a dot or a space («000.00.19768.H46 260910 0001»,
# «000.00.19768.H46.260903.0001»); what comes before is the agency code.
_TAIL = re.compile(r"^(.+?)[\s.-]+(\d{6})[\s.-]+(\d{3,6})$")
_AGENCY_PART = re.compile(r"^[A-Z0-9.]*\d[A-Z0-9.]*$")
# Words people put before a code, any number of them and in any order: «tra cứu hồ sơ»,
# «kiểm tra hồ sơ số», «mã hồ sơ của tôi là», «hồ sơ của tôi mã», «cho tôi xem hs»… (folded).
_LEAD_WORDS = (
    r"tra\s*cuu|kiem\s*tra|xem|tim|hoi|check|ho\s*so|hoso|hs|ma\s*so|ma|so|bien\s*nhan|giay\s*hen"
    r"|giay\s*tiep\s*nhan|phieu|cua|toi|tui|em|minh|con|me|bo|ba|anh|chi|la|cho|giup|dum|voi|nay|the"
    r"|tinh\s*trang|trang\s*thai"
)
_LEADING = re.compile(rf"^(?:{_LEAD_WORDS})(?=[\s:#,]|$)[\s:#,-]*")
# «hoso000.00.19768.H46-…», «mãhồsơ:000…»: no agency code starts with these words.
_GLUED = re.compile(r"^(?:ma\s*ho\s*so|ma\s*hs|ho\s*so|hoso)[:#]?(?=\d)")


def strip_lead_in(text: str) -> str:
    """`text` folded, without the words before the code («tra cứu hồ sơ số …» → «…»)."""
    rest = fold(text)
    while True:
        shorter = _LEADING.sub("", rest, count=1)
        if shorter == rest:
            return _GLUED.sub("", rest).strip()
        rest = shorter


def _join_agency(agency: str) -> str | None:
    """Spaces inside the agency code stand for its dots («000 00 19768 H46»); a word is no part of it."""
    parts = agency.split()
    if not all(_AGENCY_PART.match(p) for p in parts):
        return None
    return ".".join(parts)


def normalise_code(text: str) -> str:
    """Upper-case, stray punctuation gone, dashes between the agency code, the date and the number
    (whatever the person put there); a word next to the code stays a separate word, never glued on."""
    s = text.strip().strip(_STRAY).upper()
    s = _DASHES.sub("-", s)
    s = _DOTS.sub(".", s)
    s = " ".join(s.split()).strip(_STRAY)
    m = _TAIL.match(s)
    if m is None:
        return s
    agency = _join_agency(m.group(1))
    return s if agency is None else f"{agency}-{m.group(2)}-{m.group(3)}"


def parse_code(text: str) -> str | None:
    """The normalised code, or None when `text` is not one dossier code."""
    if not text or len(text) > 80:
        return None
    code = normalise_code(text)
    return code if CODE.match(code) else None


def extract_code(text: str) -> str | None:
    """A code when the message is essentially one code (maybe after «tra cứu hồ sơ», «mã hồ sơ»…)."""
    if not text or len(text) > 100:
        return None
    rest = strip_lead_in(text)
    if not rest or len(rest.split()) > 7:
        return None
    return parse_code(rest)  # letters are ASCII in codes, so the folded text keeps the code intact


# In a sentence a space stands for a dash only after an agency code with dots (000.00.12.H12 241120 0001).
_CODE_IN_TEXT = re.compile(
    r"(?<![\w.])(?=[0-9.]*[A-Za-z])[A-Za-z0-9]{1,8}"
    r"(?:(?:\.[A-Za-z0-9]{1,8}){0,5}\s*[-‐‑–—_]\s*\d{6}\s*[-‐‑–—_]\s*|(?:\.[A-Za-z0-9]{1,8}){1,5}\s+\d{6}\s+)"
    r"\d{3,6}(?![\w-])"
)


def code_in_sentence(text: str) -> str | None:
    """The one dossier code written inside a sentence ("mã của tôi là H12.34-241120-0001 ạ")."""
    if not text or len(text) > 500:
        return None
    found = {parse_code(m.group(0)) for m in _CODE_IN_TEXT.finditer(text)} - {None}
    return found.pop() if len(found) == 1 else None


def is_tail(code: str) -> bool:
    """A code whose agency part has no dot («H46-260910-0001»): usually the end of a longer code
    copied from the receipt (000.00.19768.H46-260910-0001)."""
    return "." not in code.split("-", 1)[0]


_CODE_CHARS = re.compile(r"^[A-Za-z0-9.\-‐‑–—_]+$")
_LETTER_AND_DIGIT = re.compile(r"[A-Za-z].*\d|\d.*[A-Za-z]")


def looks_like_code_attempt(text: str) -> bool:
    """Tokens of code characters, each with a digit, with a run of four digits, and dots or dashes
    (one to three tokens: «260910-0001», «000.00.19768.H46 260910») or, written with spaces only or
    run together, a token of letters and digits («000 00 19768 h46 260903», «00000197680H46260903
    0001»): probably a mistyped or incomplete code. Phone and ID numbers (no letter) are not."""
    tokens = strip_lead_in(text).strip(_STRAY).split()
    if not tokens or len(tokens) > 6 or len(text) > 80:
        return False
    if not all(_CODE_CHARS.match(t) and any(c.isdigit() for c in t) for t in tokens):
        return False
    s = "".join(tokens)
    if not re.search(r"\d{4}", s) or len(s) < 10:
        return False
    if re.search(r"[.\-‐‑–—_]", s):
        return len(tokens) <= 3 or any(_LETTER_AND_DIGIT.search(t) for t in tokens)
    return (len(tokens) >= 3 or len(s) >= 14) and any(_LETTER_AND_DIGIT.search(t) for t in tokens)
