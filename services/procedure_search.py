"""Ranking of procedure-name matches: whole words before pieces of words ("tu" is "tử", not the
"tu" inside "tuổi"), the typed phrase in order before scattered words, then the shorter name."""

from __future__ import annotations

from services import dossiers
from services.dossiers import Procedure
from services.text import fold_words as fold_phrase


def _rank(query_words: list[str], name: str) -> tuple[int, int, int, int]:
    words = fold_phrase(name).split()
    whole = sum(1 for w in query_words if w in words)
    phrase = " ".join(query_words)
    folded = " ".join(words)
    in_order = 1 if f" {phrase} " in f" {folded} " else 0
    starts = 1 if folded.startswith(phrase) else 0
    return (-whole, -in_order, -starts, len(name))


def search(query: str, limit: int = 5) -> list[Procedure]:
    """search_procedures, best match first."""
    query_words = fold_phrase(query).split()
    hits = sorted(dossiers.search_procedures(query, limit=200), key=lambda p: _rank(query_words, p.name))
    if hits and -_rank(query_words, hits[0].name)[0] == len(query_words):
        # Some names hold every typed word whole: pieces of words elsewhere are noise.
        hits = [p for p in hits if -_rank(query_words, p.name)[0] == len(query_words)]
    return hits[:limit]
