"""The procedures catalogue (data/procedures.yaml) and the typo-tolerant search over it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from services.text import fold, fold_words

PROCEDURES_FILE = Path(__file__).resolve().parents[2] / "data" / "procedures.yaml"


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    name: str


@lru_cache(maxsize=1)
def procedures() -> tuple[Procedure, ...]:
    data = yaml.safe_load(PROCEDURES_FILE.read_text(encoding="utf-8")) or []
    return tuple(Procedure(str(p["code"]), str(p["name"])) for p in data)


def procedure_by_code(code: str) -> Procedure | None:
    return next((p for p in procedures() if p.code == code), None)


def search_procedures(query: str, limit: int = 6) -> list[Procedure]:
    """Procedures whose unaccented name contains every typed word (typo-tolerant fallback)."""
    words = fold(query).split()
    if not words:
        return []
    hits = [p for p in procedures() if all(w in fold(p.name) for w in words)]
    if hits:
        return hits[:limit]
    from rapidfuzz import fuzz, process

    names = {p.code: fold(p.name) for p in procedures()}
    found = process.extract(fold(query), names, scorer=fuzz.partial_ratio, limit=limit, score_cutoff=75)
    return [p for _name, _score, code in found if (p := procedure_by_code(str(code))) is not None]


# The verbs many names start with: «khai sinh cho bé …» names «Đăng ký khai sinh» as well.
_GENERIC_WORDS = frozenset({"dang", "ky", "ki", "cap"})


def named_procedure(text: str) -> Procedure | None:
    """The catalogue procedure a free text names in full: every word of its name (but «đăng ký»,
    «cấp») is a word of the text; the name with the most such words, None when two tie. Unlike
    search_procedures, no fuzzy guess: what it returns is shown to citizens in place of the text,
    which may hold a name no filter can tell («khai sinh cho bé Nguyễn Văn An»)."""
    typed = set(fold_words(text).split())
    best: list[tuple[int, Procedure]] = []
    for p in procedures():
        words = set(fold_words(p.name).split()) - _GENERIC_WORDS
        if words and words <= typed:
            best.append((len(words), p))
    best.sort(key=lambda hit: -hit[0])
    if not best or (len(best) > 1 and best[1][0] == best[0][0]):
        return None
    return best[0][1]
