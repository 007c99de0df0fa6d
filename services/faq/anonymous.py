"""What the question log (`faq_questions`, `tocns faq gaps`) keeps of a question: only the knowledge
base's own words, everything else a placeholder.

Masking what looks personal is not enough: «toi ten Nguyen Thi Bich Ngoc sinh 12/03/1985 o thon Phu
Luong» went into the log whole («ten nguyen thi bich ngoc sinh 12 03 1985 thon phu luong…»), and an
insurance number typed in groups («46 12345 678») escaped the long-number mask. So the log keeps the
opposite: a word the base's titles, synonyms and labelled questions use, and only next to a word it
is used with there (Vietnamese names and places are ordinary syllables — «phú», «lương», «thị» — but
«thôn phú» or «nguyễn thị» is no phrase of the base). Anything with a digit is never kept. A lone
word («visa») and a joined word («cancuoc») count on their own. Runs of placeholders fold into one,
so an administrator still reads «# lua mat # trieu»: what was asked about, not who asked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from services.faq.text import normalize_tokens

PLACEHOLDER = "#"
# Words a normalised question may still hold that ask rather than tell (never a name).
QUESTION_WORDS = frozenset({"gi", "nao", "khong", "duoc", "sao", "nhieu", "lau"})
QUESTION_PAIRS = frozenset({("bao", "nhieu"), ("bao", "lau"), ("the", "nao"), ("o", "dau")})
_VOWELS = re.compile(r"[aeiouy]+")
_PLACEHOLDERS = re.compile(rf"{re.escape(PLACEHOLDER)}(?:\s+{re.escape(PLACEHOLDER)})+")


def _class(token: str) -> str:
    """A number is any number ("50 triệu" and "# triệu" are the same pair): filtering twice is
    filtering once, so rows already filtered read the same through `tocns faq gaps`."""
    return PLACEHOLDER if any(c.isdigit() for c in token) else token


@dataclass(frozen=True, slots=True)
class QuestionFilter:
    """The words (and adjacent word pairs) the knowledge base itself uses, normalised."""

    words: frozenset[str]
    pairs: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, texts: Iterable[str]) -> QuestionFilter:
        """From the base's own texts: titles, synonyms, labelled questions."""
        words: set[str] = {w for pair in QUESTION_PAIRS for w in pair}
        pairs: set[tuple[str, str]] = set(QUESTION_PAIRS)
        for text in texts:
            tokens = [_class(t) for t in normalize_tokens(text)]
            words.update(tokens)
            pairs.update(pairwise(tokens))
        return cls(frozenset(words), frozenset(pairs))

    def __call__(self, normalized: str) -> str:
        """`normalized` (the matcher's words) with every word the base does not use so replaced."""
        tokens = normalized.split()
        kept = [t if self._keeps(tokens, i) else PLACEHOLDER for i, t in enumerate(tokens)]
        return _PLACEHOLDERS.sub(PLACEHOLDER, " ".join(kept))

    def _keeps(self, tokens: list[str], i: int) -> bool:
        word = tokens[i]
        if any(c.isdigit() for c in word):
            return False
        if word in QUESTION_WORDS:
            return True
        if word not in self.words:
            return False
        if len(tokens) == 1 or len(_VOWELS.findall(word)) > 1:
            return True  # a one-word question, or words joined by the matcher ("cancuoc")
        before = _class(tokens[i - 1]) if i > 0 else ""
        after = _class(tokens[i + 1]) if i + 1 < len(tokens) else ""
        return (before, word) in self.pairs or (word, after) in self.pairs
