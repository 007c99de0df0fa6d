"""What a keyboard does to citizens' words, undone before matching.

- Letters held down or repeated for emphasis ("khôngggg", "điiii") are one letter: no
  Vietnamese word has a letter three times in a row.
- Telex typed with the Vietnamese input method switched off ("ddawng kys", "thuowng truws"):
  the doubled letters and "w" that Telex turns into marks (dd → đ, aa → â, aw → ă, ee → ê,
  oo → ô, ow → ơ, uw → ư) and a tone key at the end (s f r x j) are read back into the folded
  word. A word is read as Telex only when it holds such a doubled letter or "w" and what comes
  out is one Vietnamese syllable, so "facebook", "zoom" or "free" stay as typed.
- A tone key alone at the end ("kys", "sinhf") is ambiguous with English ("tax", "bus"): the
  matcher strips it only when the word is otherwise unknown and the rest is a known word
  (`strip_tone_key`).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["collapse_repeats", "strip_tone_key", "telex_fold"]

_TELEX_MARK = re.compile(r"dd|aa|aw|ee|oo|ow|uw|w")
_TELEX_PAIRS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"))
_TONE_KEYS = "sfrxj"
# One folded Vietnamese syllable: initial consonant, vowels, final consonant.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x)?"
    r"[aeiouy]{1,3}(ch|ng|nh|c|m|n|p|t)?$"
)


def collapse_repeats(word: str) -> str:
    """ "khônggggg" -> "không", "trúuuu" -> "trú": a letter three or more times in a row, with
    or without marks, counts once (its first, marked, form stays)."""
    out: list[str] = []
    run = 0
    for ch in word:
        base = _base(ch)
        if out and base.isalpha() and base == _base(out[-1]):
            run += 1
        else:
            run = 1
        out.append(ch)
        if run == 3:
            del out[-2:]
        elif run > 3:
            out.pop()
    return "".join(out)


def _base(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0]


def is_syllable(folded: str) -> bool:
    return bool(_SYLLABLE.match(folded))


def telex_fold(word: str) -> str | None:
    """The folded word a Telex-typed ASCII word stands for, or None when it is not Telex:
    "ddawng" -> "dang", "truws" -> "tru", "khoong" -> "khong", "facebook" -> None."""
    if not word.isascii() or not _TELEX_MARK.search(word):
        return None
    body = word
    if len(body) > 2 and body[-1] in _TONE_KEYS:
        body = body[:-1]
    for pair, letter in _TELEX_PAIRS:
        body = body.replace(pair, letter)
    # a lone "w" is "ư" ("tw" is not Telex for anything else); "qu" keeps its "u"
    body = body.replace("w", "u")
    return body if body != word and is_syllable(body) else None


def strip_tone_key(word: str) -> str | None:
    """ "kys" -> "ky", "sinhf" -> "sinh": the word without a final Telex tone key, when the rest
    is one syllable; None otherwise."""
    if len(word) > 2 and word[-1] in _TONE_KEYS and is_syllable(word[:-1]):
        return word[:-1]
    return None
