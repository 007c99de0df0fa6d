"""Dossier codes as citizens type them: "H12.34-241120-0001", with stray spaces, dashes and
words around it, alone or inside a sentence."""

from __future__ import annotations

import re

from services.text import fold

CODE_EXAMPLE = "H12.34-241120-0001"

# e.g. H12.34-241120-0001, 000.00.12.H12-241120-0001, G22.99-250101-12345
CODE = re.compile(r"^(?=[0-9.]*[A-Z])[A-Z0-9]{1,8}(?:\.[A-Z0-9]{1,8}){0,5}-\d{6}-\d{3,6}$")
_STRAY = " \t\r\n.,;:!?\"'()[]{}<>«»“”‘’*#`"
_DASHES = re.compile(r"\s*[-–—_]\s*")
_DOTS = re.compile(r"\s*\.\s*")
# Words people put before a code: "mã hồ sơ: …", "tra cứu …", "hs …".
_LEADING = re.compile(r"^(?:tra\s*cuu|ma\s*ho\s*so|ma\s*hs|ho\s*so|hs|ma|so)\b[\s:#-]*")


def normalise_code(text: str) -> str:
    """Upper-case, no spaces, no stray punctuation around the code or its separators."""
    s = text.strip().strip(_STRAY).upper()
    s = _DASHES.sub("-", s)
    s = _DOTS.sub(".", s)
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


_CODE_IN_TEXT = re.compile(
    r"(?<![\w.])(?=[0-9.]*[A-Za-z])[A-Za-z0-9]{1,8}(?:\.[A-Za-z0-9]{1,8}){0,5}-\d{6}-\d{3,6}(?![\w-])"
)


def code_in_sentence(text: str) -> str | None:
    """The one dossier code written inside a sentence ("mã của tôi là H12.34-241120-0001 ạ")."""
    if not text or len(text) > 500:
        return None
    found = {parse_code(m.group(0)) for m in _CODE_IN_TEXT.finditer(text)} - {None}
    return found.pop() if len(found) == 1 else None


def looks_like_code_attempt(text: str) -> bool:
    """A single token mixing digits with dots/dashes: probably a mistyped code."""
    s = text.strip()
    if not s or len(s) > 60 or len(s.split()) > 1:
        return False
    return bool(re.search(r"\d{4}", s)) and bool(re.search(r"[.\-–_]", s)) and len(s) >= 10
