"""A typed phrase reduced for comparison: lower case, no diacritics (đ → d), no punctuation,
single spaces ("Cảm ơn!!" → "cam on")."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w\s]+")


def fold_phrase(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", text).split())
