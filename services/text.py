"""Folding Vietnamese text for matching: people type on phones, often without diacritics."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "fold_words", "strip_diacritics"]

# đ/Đ are letters of their own, not d + a mark; ð is what some keyboards produce instead.
_LETTER_MAP = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, no diacritics, đ→d, outer spaces trimmed; punctuation and inner spacing stay
    (a dossier code, a unit name, a procedure name still read the same)."""
    text = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    return "".join(c for c in text if not unicodedata.combining(c))


def strip_diacritics(text: str) -> str:
    """Remove tone and vowel marks and turn đ into d; NFC and NFD input give the same result."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTER_MAP))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_words(text: str) -> str:
    """Bare words: lower-case, no marks, only a-z and digits separated by single spaces (unlike
    fold(), punctuation goes and compatibility forms such as full-width letters are unfolded).
    What the FAQ matcher and hand-off compare."""
    plain = strip_diacritics(text.lower()).translate(_LETTER_MAP)
    return _NON_ALNUM.sub(" ", plain).strip()
