"""What the marks a citizen typed say about the word meant.

A word typed with its marks is usually spelt as meant. Two rules follow:

- an entry that spells the same folded word with other marks means another word ("lái xe" is not
  "mua lại", "học" is not "hóc"): the word counts only in part for that entry;
- a repair (sound-alike, edit distance) of a word typed with marks is believable only when the
  vowel and the tone stay ("tạm chú" → "trú", "kết hông" → "hôn"); "bổng" is not a typo of
  "bảng" or "công".

Words typed without any marks carry no such evidence and are never penalised.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from services.faq.text import analyze

__all__ = ["entry_spellings", "nucleus", "same_sound_marks"]

# The vowels of a Vietnamese syllable, with the marks that are part of the letter (not tones).
_VOWELS = frozenset("aăâeêioôơuưy")


def nucleus(signature: str) -> tuple[str, str]:
    """(vowels with their letter marks, tone digit) of an accent signature: "bông3" →
    ("ô", "3"), "tru1" → ("u", "1"); ("", "") for an unmarked word."""
    if not signature:
        return "", ""
    tone = signature[-1] if signature[-1].isdigit() else ""
    stem = signature[:-1] if tone else signature
    vowels = "".join(ch for ch in unicodedata.normalize("NFC", stem) if ch in _VOWELS)
    # "i" and "y" are one vowel ("kí" = "ký").
    return vowels.replace("y", "i"), tone


def same_sound_marks(typed: str, spellings: Iterable[str]) -> bool:
    """Whether a word typed with accent signature `typed` may be a misspelling of a word spelt
    with any of `spellings`: same vowels and tone. True when either side carries no marks."""
    if not typed:
        return True
    known = [s for s in spellings if s]
    if not known:
        return True
    want = nucleus(typed)
    return any(nucleus(s) == want for s in known)


def entry_spellings(entry_texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """Folded word -> the accent signatures under which the entry's texts write it."""
    table: dict[str, set[str]] = {}
    for text in entry_texts:
        for token in analyze(text):
            if token.accent:
                table.setdefault(token.text, set()).add(token.accent)
    return {t: frozenset(a) for t, a in table.items()}
