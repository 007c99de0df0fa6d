"""Dossier codes as citizens type them: "H12.34-241120-0001", with stray spaces, dashes and
words around it, alone or inside a sentence."""

from __future__ import annotations

import re

from services.text import fold

CODE_EXAMPLE = "H12.34-241120-0001"
FULL_CODE_EXAMPLE = "000.00.12.H12-241120-0001"

# e.g. H12.34-241120-0001, 000.00.12.H12-241120-0001, G22.99-250101-12345
CODE = re.compile(r"^(?=[0-9.]*[A-Z])[A-Z0-9]{1,8}(?:\.[A-Z0-9]{1,8}){0,5}-\d{6}-\d{3,6}$")
_STRAY = " \t\r\n.,;:!?\"'()[]{}<>«»“”‘’*#`"
_DASHES = re.compile(r"\s*[-‐‑–—_]\s*")
_DOTS = re.compile(r"\s*\.\s*")
# «000.00.19768.H46 260910 0001»: spaces where the dashes go before the date and the number.
_SPACED = re.compile(r"^(\S+?)[\s-]+(\d{6})[\s-]+(\d{3,6})$")
# Words people put before a code: "mã hồ sơ: …", "tra cứu …", "hs …".
_LEADING = re.compile(r"^(?:tra\s*cuu|ma\s*ho\s*so|ma\s*hs|ho\s*so|hs|ma|so)\b[\s:#-]*")


def normalise_code(text: str) -> str:
    """Upper-case, no spaces, no stray punctuation around the code or its separators."""
    s = text.strip().strip(_STRAY).upper()
    s = _DASHES.sub("-", s)
    s = _DOTS.sub(".", s)
    s = _SPACED.sub(r"\1-\2-\3", " ".join(s.split()))
    return s.replace(" ", "").strip(_STRAY)


def parse_code(text: str) -> str | None:
    """The normalised code, or None when `text` is not one dossier code."""
    if not text or len(text) > 80:
        return None
    code = normalise_code(text)
    return code if CODE.match(code) else None


def extract_code(text: str) -> str | None:
    """A code when the message is essentially one code (maybe after 'mã hồ sơ'), else None."""
    if not text or len(text) > 100:
        return None
    rest = _LEADING.sub("", fold(text)).strip()
    if not rest or len(rest.split()) > 5:
        return None
    # Keep the original characters of the code part (letters are ASCII in codes anyway).
    return parse_code(rest)


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


def looks_like_code_attempt(text: str) -> bool:
    """One to three tokens of code characters, each with a digit, with dots or dashes and a run of
    four digits: probably a mistyped or incomplete code («260910-0001», «000.00.19768.H46 260910»)."""
    tokens = text.strip().strip(_STRAY).split()
    if not tokens or len(tokens) > 3 or len(text) > 60:
        return False
    if not all(_CODE_CHARS.match(t) and any(c.isdigit() for c in t) for t in tokens):
        return False
    s = "".join(tokens)
    return bool(re.search(r"\d{4}", s)) and bool(re.search(r"[.\-‐‑–—_]", s)) and len(s) >= 10
