"""Small talk in a message: greetings, thanks and «ok» around (or instead of) a question.

People write as they would to anyone: «Chào bạn! Cảm ơn bạn hôm trước. Cho hỏi …», «…, cảm ơn nhiều».
Only a message that is nothing but such courtesy is small talk; any other is a question, and
`question()` is it without the courtesy (what the FAQ should search)."""

from __future__ import annotations

import re
from enum import StrEnum

from services.text import fold_words


class Kind(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    ACK = "ack"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PHRASES: dict[tuple[str, ...], Kind] = {
    **{
        tuple(p.split()): Kind.GREETING
        for p in ("xin chao", "chao", "alo", "a lo", "hello", "hi", "helo", "hey", "good morning")
    },
    **{
        tuple(p.split()): Kind.THANKS
        for p in ("cam on", "camon", "cam ta", "thank", "thanks", "thank you", "tks", "thx", "many thanks")
    },
    **{
        tuple(p.split()): Kind.ACK
        for p in ("ok", "oke", "okay", "vang", "da", "da vang", "uh", "u", "duoc roi", "got it")
    },
}
_LONGEST = max(len(p) for p in _PHRASES)
# Words that go with courtesy and ask nothing: «cảm ơn bạn nhiều ạ», «chào ad», «thanks a lot».
_FILLER = _words(
    "ban bot ad admin anh chi em co chu bac ong ba a nhe nha nhieu rat oi ha "
    "moi nguoi cac to tnv you so much very lot again all everyone there"
)
# «Cảm ơn bạn đã hỗ trợ hôm trước», «thanks for your help»: the rest of the clause is the reason.
_THANKS_FOR = frozenset({"da", "vi", "for"})
# …unless the clause asks something itself.
_ASKS = _words("sao nao gi dau khong chua bao may hoi muon how what where when why which")
# A clause ends at sentence or list punctuation.
_CLAUSE_END = re.compile(r"[.!?,;:…]+$")

_Token = tuple[str, list[str]]  # (as typed, folded words)


def _clauses(text: str) -> list[list[_Token]]:
    clauses: list[list[_Token]] = [[]]
    for raw in text.split():
        clauses[-1].append((raw, fold_words(raw).split()))
        if _CLAUSE_END.search(raw):
            clauses.append([])
    return [c for c in clauses if c]


def _segments(words: list[str]) -> list[Kind | None]:
    """Each word's part: the courtesy phrase it belongs to, or None (a filler is marked as such
    by the caller)."""
    marks: list[Kind | None] = [None] * len(words)
    i = 0
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            kind = _PHRASES.get(tuple(words[i : i + n]))
            if kind is not None:
                marks[i : i + n] = [kind] * n
                i += n
                break
        else:
            i += 1
    return marks


def _courtesy(clause: list[_Token]) -> set[Kind] | None:
    """The kinds of courtesy a clause is made of, or None when it says something else."""
    words = [w for _, ws in clause for w in ws]
    marks = _segments(words)
    kinds = {m for m in marks if m is not None}
    if not kinds:
        return None
    rest = [w for w, m in zip(words, marks, strict=True) if m is None and w not in _FILLER]
    if not rest:
        return kinds
    if marks[0] is Kind.THANKS:  # «cảm ơn (bạn) đã …», «thanks for …»
        after = [w for w in words[marks.index(None) :] if w not in _FILLER] if None in marks else []
        if after and after[0] in _THANKS_FOR and not asks(" ".join(raw for raw, _ in clause)):
            return kinds
    return None


def kind(text: str) -> Kind | None:
    """What a message of nothing but courtesy is (thanks before a greeting before an «ok»);
    None when it asks or says anything else."""
    found: set[Kind] = set()
    for clause in _clauses(text):
        kinds = _courtesy(clause)
        if kinds is None:
            return None
        found |= kinds
    for k in (Kind.THANKS, Kind.GREETING, Kind.ACK):
        if k in found:
            return k
    return None


def thanked(text: str) -> bool:
    """Whether some clause of the message thanks (said back when the rest finds no answer)."""
    return any(Kind.THANKS in (_courtesy(c) or ()) for c in _clauses(text))


def asks(text: str) -> bool:
    """A question mark or a question word («sao», «ở đâu», «cho hỏi», «how»…)."""
    return "?" in text or any(w in _ASKS for w in fold_words(text).split())


def question(text: str) -> str:
    """The message without its clauses of courtesy (as typed); the whole message when it is all
    courtesy or has none."""
    kept = [c for c in _clauses(text) if _courtesy(c) is None]
    if not kept:
        return text
    return " ".join(raw for clause in kept for raw, _ in clause)
