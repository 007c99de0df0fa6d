"""What the FAQ index is built from: an entry's phrases and words (before and after weighting) and a
question's candidate terms per word."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.faq.entries import FaqEntry
from services.faq.text import Token, analyze

Candidates = list[tuple[str, float]]  # vocabulary terms a question word may stand for


@dataclass(frozen=True, slots=True)
class Phrase:
    tokens: tuple[str, ...]
    total: float  # sum of the token weights
    terms: frozenset[str] = frozenset()  # the tokens as a set: most phrases share none with a question
    weights: tuple[float, ...] = ()  # each token's weight, in order (read per question: kept at hand)
    repeats: bool = False  # a token is there twice ("tuyển sinh trực tuyến")


@dataclass(frozen=True, slots=True)
class Doc:
    entry: FaqEntry
    phrases: tuple[Phrase, ...]
    vocab: frozenset[str]
    context: frozenset[str]
    spellings: dict[str, frozenset[str]] = field(default_factory=dict)  # word -> its marks here


@dataclass(frozen=True, slots=True)
class Question:
    positions: tuple[Candidates, ...]  # one list of candidates per question word
    weights: tuple[float, ...]  # one weight per question word
    terms: dict[str, float]  # every candidate term with its best confidence
    # How many question words may stand for each term.
    counts: dict[str, int] = field(default_factory=dict)
    # Words typed as such and every time with marks: term -> the accent signatures typed.
    marked: dict[str, frozenset[str]] = field(default_factory=dict)
    words: tuple[Token, ...] = ()  # the question's words, one per position

    @property
    def total(self) -> float:
        return sum(self.weights)


def entry_texts(entry: FaqEntry) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(phrase texts, context texts) of an entry."""
    phrases = (entry.title, entry.title_en, *entry.synonyms)
    return phrases, (entry.summary, entry.audience, *entry.documents)


def tokens(text: str) -> tuple[str, ...]:
    return tuple(t.text for t in analyze(text))


@dataclass(frozen=True, slots=True)
class RawDoc:
    """An entry's normalised phrases and words, before weighting."""

    phrases: frozenset[tuple[str, ...]]
    vocab: frozenset[str]
    context: frozenset[str]  # words of the context texts that are not in a phrase

    @classmethod
    def of(cls, entry: FaqEntry) -> RawDoc:
        phrase_texts, context_texts = entry_texts(entry)
        phrases = frozenset(tokens(text) for text in phrase_texts) - {()}
        vocab = frozenset(t for p in phrases for t in p)
        context = frozenset(t for text in context_texts for t in tokens(text)) - vocab
        return cls(phrases, vocab, context)


def accents_of(entries: Iterable[FaqEntry]) -> dict[str, frozenset[str]]:
    """Folded word -> every spelling with marks the knowledge base uses for it."""
    accents: dict[str, set[str]] = {}
    for entry in entries:
        for text in (t for texts in entry_texts(entry) for t in texts):
            for token in analyze(text):
                if token.accent:
                    accents.setdefault(token.text, set()).add(token.accent)
    return {t: frozenset(a) for t, a in accents.items()}
