"""A third retrieval signal, learned from labelled questions: how citizens actually ask for each entry.

The phrase matcher and the BM25 signal (`services.faq.lexical`) know only the entries' own texts.
People ask in their own words, and ~1,900 questions written by different people, each labelled with
the entry that answers it or with none ("the bot should say it doesn't know"), say which words go
with which need. This module learns that with a multinomial Naive Bayes classifier:

- one class per entry and one for "don't know" (so a question that looks like the off-topic or
  near-miss questions people wrote pulls probability away from every entry);
- features of the question's topic words (after the matcher's normalisation: folded, abbreviations
  expanded, word pairs joined): the words, the word pairs and, at a lower weight, character 3-4-grams
  of the words (robust to misspellings);
- additive smoothing; the posterior is taken at a temperature, since Naive Bayes is overconfident.

The labelled questions live in `_asked.yaml` of a knowledge directory (`load_asked`): one line per
question, `{q: ..., id: <entry id or null>, from: <where it came from>}`. A question whose entry is
not loaded is skipped. Training is a count over the questions (~0.1-0.2 s for 1,900); a query costs
one pass over its features' postings. How the probabilities take part in ranking and in the verdict
is `services.faq.index`'s business; the weights are in `MatchSettings`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from services import yamlfile
from services.faq.entries import KnowledgeBaseError
from services.faq.text import normalize_tokens

__all__ = ["ASKED_FILE", "AskedQuestion", "LearnedIndex", "check_asked", "load_asked", "parse_asked"]

ASKED_FILE = "_asked.yaml"

_GRAMS = (3, 4)
_GRAM_WEIGHT = 0.3  # a character gram counts this much of a word


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question as a citizen typed it, the entry that answers it (None: nothing in the base does)
    and where it came from (a file and a round, a reviewed feedback batch)."""

    question: str
    entry_id: str | None
    source: str = ""


def parse_asked(raw: Any, path: Path) -> tuple[AskedQuestion, ...]:
    """The questions of a parsed `_asked.yaml` (`{questions: [{q, id, from}, ...]}`)."""
    if raw is None:
        return ()
    items = raw.get("questions", False) if isinstance(raw, dict) else False
    if items is None:  # "questions:" with nothing under it yet
        return ()
    if not isinstance(items, list):
        raise KnowledgeBaseError(path, "questions", "expected a list of {q, id, from}")
    out: list[AskedQuestion] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            raise KnowledgeBaseError(path, f"questions.{n}", "expected {q: text, id: entry id or null}")
        entry_id = item.get("id")
        if entry_id is not None and not isinstance(entry_id, str):
            raise KnowledgeBaseError(path, f"questions.{n}.id", "expected an entry id or null")
        out.append(AskedQuestion(item["q"], entry_id, str(item.get("from", ""))))
    return tuple(out)


def load_asked(dirs: Iterable[Path | str]) -> tuple[AskedQuestion, ...]:
    """The labelled questions of every knowledge directory that has an `_asked.yaml` (none: ())."""
    out: list[AskedQuestion] = []
    for directory in map(Path, dirs):
        path = directory / ASKED_FILE
        if not path.is_file():
            continue
        try:
            raw = yamlfile.load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KnowledgeBaseError(path, None, f"cannot read YAML: {exc}") from exc
        out.extend(parse_asked(raw, path))
    return tuple(out)


def check_asked(dirs: Iterable[Path | str], entry_ids: Collection[str]) -> list[str]:
    """One error per labelled question whose id is not an entry of `entry_ids`, naming the file and
    the line ("knowledge/_asked.yaml:12: id 'x' is not an entry"). The index skips such questions
    silently (an entry may be removed from a local directory); `tocns faq check` reports them.
    KnowledgeBaseError for an unreadable or malformed file."""
    errors: list[str] = []
    for directory in map(Path, dirs):
        path = directory / ASKED_FILE
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            root = yaml.compose(text, Loader=yamlfile.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KnowledgeBaseError(path, None, f"cannot read YAML: {exc}") from exc
        asked = parse_asked(yamlfile.load(text), path)
        for item, line in zip(asked, _item_lines(root), strict=True):
            if item.entry_id is not None and item.entry_id not in entry_ids:
                errors.append(f"{path}:{line}: id '{item.entry_id}' is not an entry")
    return errors


def _item_lines(root: yaml.Node | None) -> list[int]:
    """The line (from 1) of each item of the `questions` list of a composed `_asked.yaml`."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "questions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def features(words: Sequence[str]) -> dict[str, float]:
    """Word, word-pair and character-gram counts of a question's normalised topic words."""
    out: defaultdict[str, float] = defaultdict(float)
    for w in words:
        out["w:" + w] += 1
    for a, b in pairwise(words):
        out[f"p:{a}_{b}"] += 1
    for w in words:
        padded = f" {w} "
        for n in _GRAMS:
            for i in range(len(padded) - n + 1):
                out["g:" + padded[i : i + n]] += _GRAM_WEIGHT
    return out


@dataclass(frozen=True, slots=True)
class Posterior:
    """The classifier's reading of a question: probability per entry position (only entries with
    some probability worth keeping) and of "nothing in the base answers this"."""

    entries: Mapping[int, float]
    none: float

    def best(self) -> tuple[int, float] | None:
        """The most probable entry and its probability."""
        if not self.entries:
            return None
        i = max(self.entries, key=lambda k: (self.entries[k], -k))
        return i, self.entries[i]


class LearnedIndex:
    """Multinomial Naive Bayes over labelled questions; classes are entry positions and -1 (none)."""

    NONE = -1

    def __init__(
        self,
        asked: Iterable[AskedQuestion],
        entry_ids: Sequence[str],
        temperature: float = 6.0,
        smoothing: float = 0.02,
    ) -> None:
        position = {e: i for i, e in enumerate(entry_ids)}
        counts: dict[int, defaultdict[str, float]] = {}
        prior: Counter[int] = Counter()
        for item in asked:
            cls = self.NONE if item.entry_id is None else position.get(item.entry_id)
            if cls is None:  # an entry that is not loaded (a local entry removed)
                continue
            prior[cls] += 1
            bag = counts.setdefault(cls, defaultdict(float))
            for f, c in features(normalize_tokens(item.question)).items():
                bag[f] += c
        self._temperature = temperature
        self._classes = tuple(sorted(prior))
        vocabulary = {f for c in counts.values() for f in c}
        size = len(vocabulary)
        total = sum(prior.values())
        # log P(class) and log P(feature | class) for a feature never seen with the class; a seen
        # one adds its difference in the postings, so a query touches only its own features.
        # Classes are kept by slot (their place in `_classes`) so a query adds into a list.
        self._base = [math.log(prior[y] / total) for y in self._classes]
        self._unseen: list[float] = []
        postings: dict[str, list[tuple[int, float]]] = {}
        for slot, y in enumerate(self._classes):
            mass = sum(counts[y].values()) + smoothing * size
            unseen = math.log(smoothing / mass)
            self._unseen.append(unseen)
            for f, c in counts[y].items():
                postings.setdefault(f, []).append((slot, math.log((c + smoothing) / mass) - unseen))
        self._postings = {f: tuple(p) for f, p in postings.items()}

    def __len__(self) -> int:
        """How many classes were learned (0: no labelled question; the signal is off)."""
        return len(self._classes)

    def posterior(self, words: Sequence[str]) -> Posterior:
        """P(class | question words) at the index's temperature."""
        if not self._classes:
            return Posterior({}, 1.0)
        postings = self._postings
        known = [(f, c) for f, c in features(words).items() if f in postings]
        mass = sum(c for _, c in known)
        logs = [b + mass * u for b, u in zip(self._base, self._unseen, strict=True)]
        for f, c in known:
            for slot, delta in postings[f]:
                logs[slot] += c * delta
        top = max(logs)
        t = self._temperature
        weights = [math.exp((v - top) / t) for v in logs]
        z = sum(weights)
        entries: dict[int, float] = {}
        none = 0.0
        for y, w in zip(self._classes, weights, strict=True):
            if y == self.NONE:
                none = w / z
            elif w >= 1e-4 * z:
                entries[y] = w / z
        return Posterior(entries, none)
