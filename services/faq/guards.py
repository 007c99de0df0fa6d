"""General rules that keep a near-miss from being answered as if it were the entry.

Scores rank the entries and the thresholds of `MatchSettings` decide how sure a match is. Some
questions score high for an entry and still ask for something else; these rules cap the verdict:

- **A word no entry knows** ("xin visa đi Mỹ", "thẻ karaoke"): the knowledge base cannot tell what it
  changes, so the bot offers choices rather than answering.
- **A rival's whole phrase** ("trích lục khai *tử*" scores high for the birth-record extract): when
  a close runner-up has a phrase of two words or more that stands word for word in the question and
  the top entry lacks one of those words, the question names the rival's topic too — choices.
- **A near-miss the base lacks** ("xác nhận sơ yếu lý lịch" is not the judicial record, "giấy
  phép lái xe quốc tế" is not the driving licence): a listed name of another procedure or document
  that the top entry does not use → choices.
- **Off-topic talk** (weather, football, lottery, gold price, love, insults, the bot's name): when
  the top entry does not itself use the words, the bot says it doesn't know instead of guessing from
  one common word left over.

Each rule is general (no question or entry is named) and has a test in tests/test_faq_matching.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from functools import cache

from services.faq import topics
from services.faq.documents import Doc, Question
from services.faq.text import Token, canonical_token, filler_words, typed_words

__all__ = ["Verdict", "cap", "near_miss", "off_topic"]


class Verdict(StrEnum):
    """What the dialog should do with a match."""

    CONFIDENT = "confident"  # answer with the top entry
    AMBIGUOUS = "ambiguous"  # offer the top entries as choices
    NONE = "none"  # say we don't know, offer a human


_RANK = {Verdict.NONE: 0, Verdict.AMBIGUOUS: 1, Verdict.CONFIDENT: 2}


def at_most(verdict: Verdict, limit: Verdict) -> Verdict:
    return verdict if _RANK[verdict] <= _RANK[limit] else limit


@cache
def _phrases(texts: tuple[str, ...]) -> dict[str, tuple[tuple[Token, ...], ...]]:
    """Phrases as typed words, grouped by their first folded word."""
    table: dict[str, list[tuple[Token, ...]]] = {}
    for text in texts:
        phrase = typed_words(text)
        table.setdefault(phrase[0].text, []).append(phrase)
    return {k: tuple(p) for k, p in table.items()}


def _same_word(typed: Token, listed: Token) -> bool:
    """Same folded word, and the same marks when typed with marks ("vì" is not the "vi" of "tử vi")."""
    return typed.text == listed.text and (not typed.accent or typed.accent == listed.accent)


def off_topic(question: str, top: Doc) -> bool:
    """Whether the question holds an off-topic phrase whose topic words the top entry does not use."""
    return _foreign_phrase(question, top, topics.OFF_TOPIC_PHRASES)


def near_miss(question: str, top: Doc) -> bool:
    """Whether the question names a procedure or document the knowledge base lacks (whose name
    shares words with an entry's) and the top entry does not use its words."""
    return _foreign_phrase(question, top, topics.NEAR_MISS_PHRASES)


def _foreign_phrase(question: str, top: Doc, texts: tuple[str, ...]) -> bool:
    """Whether one of the phrases `texts` stands in the question while the top entry lacks one of
    its topic words."""
    words = typed_words(question)
    filler = _filler()
    for i, word in enumerate(words):
        for phrase in _phrases(texts).get(word.text, ()):
            window = words[i : i + len(phrase)]
            if len(window) < len(phrase) or not all(map(_same_word, window, phrase)):
                continue
            topic = [canonical_token(w.text) for w in phrase if w.text not in filler]
            if not all(t in top.vocab for t in topic):
                return True
    return False


@cache
def _filler() -> frozenset[str]:
    return filler_words()


def unknown_word(q: Question) -> bool:
    """Whether a real word of the question (typed with marks or three letters or more, not a
    number) is known to no entry and no repair explains it."""
    return any(
        not candidates and (word.accent or len(word.text) >= 3) and not word.text.isdigit()
        for word, candidates in zip(q.words, q.positions, strict=True)
    )


def rival_phrase(q: Question, top: Doc, rivals: Sequence[Doc]) -> bool:
    """Whether a rival's phrase of two words or more stands word for word in the question while
    the top entry lacks one of its words."""
    words = tuple(w.text for w in q.words)
    grams = {words[i : i + n] for n in range(2, 6) for i in range(len(words) - n + 1)}
    return any(
        len(phrase.tokens) >= 2 and phrase.tokens in grams and not all(t in top.vocab for t in phrase.tokens)
        for rival in rivals
        for phrase in rival.phrases
    )


def cap(question: str, q: Question, top: Doc, rivals: Sequence[Doc]) -> Verdict:
    """The best verdict the rules allow for this question and top entry; `rivals` are the
    runners-up close enough to be meant instead."""
    if off_topic(question, top):
        return Verdict.NONE
    if unknown_word(q) or rival_phrase(q, top, rivals) or near_miss(question, top):
        return Verdict.AMBIGUOUS
    return Verdict.CONFIDENT
