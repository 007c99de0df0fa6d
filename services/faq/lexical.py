"""A second retrieval signal: BM25 over each entry's whole text.

The phrase matcher of `services.faq.index` scores an entry by its best phrase and the words it
explains; it is precise but brittle where a wording shares no phrase with the entry. This index
looks at the whole entry (title, synonyms, summary, audience, documents, steps) as one bag of
features, so a question that uses the entry's words in other combinations still finds it:

- folded topic words and word pairs (after the same normalisation as the matcher);
- character 3–5-grams of the folded words, robust to misspellings and words run together
  ("khaisinh" shares most of its grams with "khai sinh").

Features weigh by BM25 (rarity across entries, saturated repetition, entry length). The last
sentence of a long message usually holds the question, so its features count more.

Pure Python, built once with the index; the scores rank, they never decide a verdict alone.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from services.faq.entries import FaqEntry
from services.faq.text import normalize_tokens

__all__ = ["LexicalIndex", "LexicalSettings"]

# A sentence ends at . ? ! or a line break (splitting at commas too measured no better).
_SENTENCE_END = re.compile(r"[.?!\n]+")


@dataclass(frozen=True, slots=True)
class LexicalSettings:
    """BM25's constants and how much each kind of feature counts."""

    k1: float = 1.2
    b: float = 0.75
    grams: tuple[int, ...] = (3, 4, 5)
    gram_weight: float = 0.5  # weight of the character-gram part against the word part
    word_weight: float = 1.0
    pair_weight: float = 1.0
    context_weight: float = 0.5  # summary, audience, documents, steps vs title and synonyms
    last_weight: float = 2.0  # features of a long message's last sentence count this much more
    long_words: int = 12  # a message of at least this many topic words is long
    repair_floor: float = 0.85  # the matcher's repairs taken at this confidence or more


Features = defaultdict[str, float]  # feature -> weighted count


def _features(words: Sequence[str], s: LexicalSettings) -> Features:
    """Word, word-pair and character-gram features of a sequence of normalised words."""
    out: Features = defaultdict(float)
    for w in words:
        out["w:" + w] += s.word_weight
    for a, b in pairwise(words):
        out[f"p:{a}_{b}"] += s.pair_weight
    if s.gram_weight:
        for w in words:
            padded = f" {w} "
            for n in s.grams:
                for i in range(len(padded) - n + 1):
                    out["g:" + padded[i : i + n]] += s.gram_weight
    return out


def _entry_features(entry: FaqEntry, s: LexicalSettings) -> Features:
    main = (entry.title, *entry.synonyms)
    context = (entry.summary, entry.audience, *entry.documents, *entry.steps)
    out: Features = defaultdict(float)
    for texts, weight in ((main, 1.0), (context, s.context_weight)):
        for text in texts:
            for f, c in _features(normalize_tokens(text), s).items():
                out[f] += c * weight
    return out


class LexicalIndex:
    """BM25 over the entries' whole texts; `scores` gives each entry's score for a question."""

    def __init__(self, entries: Iterable[FaqEntry], settings: LexicalSettings | None = None) -> None:
        self.settings = s = settings or LexicalSettings()
        docs = [_entry_features(e, s) for e in entries]
        self._size = n = len(docs)
        df = Counter(f for d in docs for f in d)
        lengths = [sum(d.values()) for d in docs]
        avg = sum(lengths) / n if n else 1.0
        self._idf = {f: math.log(1.0 + (n - k + 0.5) / (k + 0.5)) for f, k in df.items()}
        postings: dict[str, list[tuple[int, float]]] = {}
        for i, (d, length) in enumerate(zip(docs, lengths, strict=True)):
            norm = s.k1 * (1.0 - s.b + s.b * length / avg)
            for f, tf in d.items():
                postings.setdefault(f, []).append((i, tf * (s.k1 + 1.0) / (tf + norm)))
        self._postings = {f: tuple(p) for f, p in postings.items()}

    def query_features(self, question: str, repairs: Mapping[str, float] | None = None) -> Features:
        """The question's features; `repairs` (word -> confidence) are words the matcher read the
        question's words as ("khaisinh" -> khai, sinh; "9 tuổi" -> under 14), each counted once
        at its confidence when it is not typed as such."""
        s = self.settings
        out = _features(normalize_tokens(question), s)
        for word, conf in (repairs or {}).items():
            if conf >= s.repair_floor and "w:" + word not in out:
                out["w:" + word] = conf * s.word_weight
        sentences = [p for p in _SENTENCE_END.split(question) if normalize_tokens(p)]
        if len(sentences) > 1 and sum(out[f] for f in out if f.startswith("w:")) >= s.long_words:
            for f, c in _features(normalize_tokens(sentences[-1]), s).items():
                out[f] += c * (s.last_weight - 1.0)
        return out

    def scores(self, question: str, repairs: Mapping[str, float] | None = None) -> dict[int, float]:
        """BM25 score per entry index (entries with no shared feature are left out)."""
        # Summed into a list (a question's grams touch most entries: list slots cost less than
        # dict look-ups); every part is positive, so a touched entry is one above zero.
        totals = [0.0] * self._size
        for f, qtf in self.query_features(question, repairs).items():
            idf = self._idf.get(f)
            if idf is None:
                continue
            weight = qtf * idf
            for i, part in self._postings[f]:
                totals[i] += weight * part
        return {i: total for i, total in enumerate(totals) if total}


def fuse(
    ranked: Sequence[int],
    scores: Mapping[int, float],
    lexical: Mapping[int, float],
    weight: float,
    learned: Mapping[int, float] | None = None,
    learned_weight: float = 0.0,
) -> list[int]:
    """`ranked` (entry indices, best first, with their matcher `scores`) reordered by the matcher's
    score plus `weight` times the entry's lexical score as a share of the best lexical score among
    them, plus `learned_weight` times its `learned` probability (see learned). The share, not the
    raw BM25, because BM25 grows with the question's length; only the matcher's candidates take
    part (an entry no phrase matches is no answer)."""
    best = max((lexical.get(i, 0.0) for i in ranked), default=0.0) or 1.0
    extra = learned or {}
    fused = {
        i: scores[i] + weight * lexical.get(i, 0.0) / best + learned_weight * extra.get(i, 0.0)
        for i in ranked
    }
    order = {i: n for n, i in enumerate(ranked)}
    return sorted(ranked, key=lambda i: (-fused[i], order[i]))
