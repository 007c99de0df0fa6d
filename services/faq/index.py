"""Citizens' how-to Q&A: the knowledge base (YAML, one file per entry) and its matcher.

The shipped `knowledge/` directory and an optional local one filled by a commune officer are
loaded and validated together; `FaqIndex` answers a free-text question with ranked entries and a
verdict saying whether to answer, offer choices, or admit we don't know.

Matching works on normalised tokens (see `services.faq.text`). Every entry has phrases (title,
synonyms) and a looser bag of context words (summary, audience, documents). Words weigh by how
rare they are across the knowledge base. A question scores high for an entry when

- one of the entry's phrases is (nearly) all in the question — "trích lục khai sinh" is not
  fully in "đăng ký khai sinh", so the more specific entry wins where it applies;
- that phrase explains much of the question ("mất căn cước" beats "căn cước" for a lost card);
- the entry's words explain the rest of the question.

Unknown words are repaired before scoring: joined pairs ("khaisinh"), sound-alikes ("tạm chú"),
edit distance (rapidfuzz) and nearby numbers ("8 tuổi" ~ "dưới 6 tuổi"). A word typed with marks
that differ from every spelling in the knowledge base ("vàng" for "vắng") counts only in part.

The verdict comes from the thresholds of `MatchSettings`; `services.faq.fusion` then lets the
lexical and learned signals re-order the candidates and move it, under the general rules of
`services.faq.guards` (a word no entry knows, a close rival's whole phrase, off-topic talk).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from services.faq.anonymous import QuestionFilter
from services.faq.documents import Candidates as _Candidates
from services.faq.documents import Doc as _Doc
from services.faq.documents import Phrase as _Phrase
from services.faq.documents import Question as _Question
from services.faq.documents import RawDoc as _RawDoc
from services.faq.documents import accents_of as _accents_of
from services.faq.documents import entry_texts as _entry_texts
from services.faq.entries import FaqEntry, load_entries
from services.faq.fusion import decide, threshold_verdict
from services.faq.guards import Verdict
from services.faq.guards import cap as guard_cap
from services.faq.keyboard import strip_tone_key
from services.faq.learned import AskedQuestion, LearnedIndex, load_asked
from services.faq.lexical import LexicalIndex
from services.faq.marks import entry_spellings, same_sound_marks
from services.faq.settings import MatchSettings
from services.faq.text import BELOW, Token, analyze, canonical_token, filler_words, phonetic_key
from services.faq.ties import break_ties, title_words

__all__ = [
    "FaqHit",
    "FaqIndex",
    "FaqMatch",
    "MatchSettings",
    "Verdict",
]


@dataclass(frozen=True, slots=True)
class FaqHit:
    """One ranked candidate."""

    entry: FaqEntry
    score: float


@dataclass(frozen=True, slots=True)
class FaqMatch:
    """The answer to a question: ranked hits (best first, at most `limit`) and what to do.

    With `Verdict.NONE` the hits are weak guesses: show them, if at all, only to a human."""

    verdict: Verdict
    hits: tuple[FaqHit, ...]
    normalized: str

    @property
    def top(self) -> FaqHit | None:
        return self.hits[0] if self.hits else None


# A pasted paragraph is not a question; only its beginning is worth matching.
_MAX_QUESTION_CHARS = 400

_FILLER_WORDS = filler_words()
# A filler word ("bị") that a title holds still tells a little ("Bị lừa đảo…").
_FILLER_TIE_WEIGHT = 0.5
_YEARS = "tuoi"
_INSIDE_BOUND = 0.9  # confidence that a number under a stated bound is what the bound means


class FaqIndex:
    """An immutable search index over FAQ entries; build once, query from any task."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        settings: MatchSettings | None = None,
        asked: Iterable[AskedQuestion] = (),
    ) -> None:
        self.settings = settings or MatchSettings()
        asked = tuple(asked)
        self._entries = tuple(entries)
        self._by_id = {e.id: e for e in self._entries}
        if len(self._by_id) != len(self._entries):
            raise ValueError("duplicate entry ids")
        raws = [_RawDoc.of(entry) for entry in self._entries]
        self._accents = _accents_of(self._entries)

        df = Counter(t for raw in raws for t in raw.vocab | raw.context)
        n = len(self._entries)
        self._idf = {t: math.log(1.0 + n / d) for t, d in df.items()}

        docs: list[_Doc] = []
        for entry, raw in zip(self._entries, raws, strict=True):
            compiled = tuple(
                _Phrase(
                    p,
                    sum(self._idf[t] for t in p),
                    frozenset(p),
                    tuple(self._idf[t] for t in p),
                    len(set(p)) < len(p),
                )
                for p in sorted(raw.phrases)
            )
            texts = (t for group in _entry_texts(entry) for t in group)
            docs.append(_Doc(entry, compiled, raw.vocab, raw.context, entry_spellings(texts)))
        self._docs = tuple(docs)
        # term -> (entry, its phrases holding it): a question visits only the phrases it shares a
        # word with (a question shares some word with most entries, and few phrases).
        phrase_postings: dict[str, dict[int, list[int]]] = {}
        for i, doc in enumerate(self._docs):
            for j, phrase in enumerate(doc.phrases):
                for term in phrase.terms:
                    phrase_postings.setdefault(term, {}).setdefault(i, []).append(j)
        self._phrase_postings = {
            t: tuple((i, tuple(js)) for i, js in by_entry.items()) for t, by_entry in phrase_postings.items()
        }
        self._titles = tuple(title_words(entry) for entry in self._entries)
        self._build_repair_tables()
        self._lexical = LexicalIndex(self._entries)
        self._learned = LearnedIndex(
            asked,
            [e.id for e in self._entries],
            self.settings.learned_temperature,
            self.settings.learned_smoothing,
        )
        # After the classifier: the labelled questions are analysed (and cached) once.
        phrase_texts = (text for entry in self._entries for text in _entry_texts(entry)[0])
        self.question_filter = QuestionFilter.of([*phrase_texts, *(a.question for a in asked)])

    def _build_repair_tables(self) -> None:
        """Tables to repair typos: joined pairs, sound-alikes, the sorted vocabulary, numbers."""
        self._vocab_list = sorted(self._idf)
        # (value, token as written): "0368" is a known token, "368" is not.
        self._numbers = tuple((int(t), t) for t in self._vocab_list if t.isdigit())
        # Upper bounds the entries state ("dưới 14 tuổi" gives the word "duoi14", see text).
        bounds = ((t[len(BELOW) :], t) for t in self._vocab_list if t.startswith(BELOW))
        self._bounds = tuple((int(n), t) for n, t in bounds if n.isdigit())
        joined: dict[str, tuple[str, str]] = {}
        for doc in self._docs:
            for phrase in doc.phrases:
                for a, b in zip(phrase.tokens, phrase.tokens[1:], strict=False):
                    joined.setdefault(a + b, (a, b))
        self._joined = joined
        sounds: dict[str, list[str]] = {}
        for token in self._vocab_list:
            sounds.setdefault(phonetic_key(token), []).append(token)
        self._sounds = {k: tuple(v) for k, v in sounds.items()}

    @classmethod
    def from_dirs(
        cls,
        paths: Iterable[Path | str],
        settings: MatchSettings | None = None,
    ) -> FaqIndex:
        """Load and validate the knowledge directories and their labelled questions
        (`_asked.yaml`, optional), then build the index."""
        dirs = list(paths)
        return cls(load_entries(dirs), settings, load_asked(dirs))

    @property
    def entries(self) -> tuple[FaqEntry, ...]:
        return self._entries

    def get(self, entry_id: str) -> FaqEntry | None:
        return self._by_id.get(entry_id)

    def search(self, question: str, limit: int = 3) -> FaqMatch:
        """Rank entries for a free-text question and decide whether to answer."""
        question = question[:_MAX_QUESTION_CHARS]
        tokens = analyze(question)
        normalized = " ".join(t.text for t in tokens)
        q = self._question(tokens)
        # An entry no phrase of which shares a word scores nothing (its context words alone never
        # do): only entries with such phrases are scored, on those phrases.
        shared: dict[int, set[int]] = {}  # entry -> its phrases that share a word with the question
        for term in q.terms:
            for i, js in self._phrase_postings.get(term, ()):
                if (known := shared.get(i)) is None:
                    shared[i] = set(js)
                else:
                    known.update(js)
        scores = {i: self._score(self._docs[i], q, phrases) for i, phrases in shared.items()}
        ranked = sorted(
            (i for i, (score, _) in scores.items() if score > 0.0),
            key=lambda i: (-scores[i][0], self._docs[i].entry.id),
        )
        if not ranked:
            return FaqMatch(Verdict.NONE, (), normalized)
        flat = {i: score for i, (score, _) in scores.items()}
        ranked = break_ties(question, ranked, flat, self._titles, self.settings.tie_gap, self._title_weight)
        s = self.settings
        second = scores[ranked[1]][0] if len(ranked) > 1 else 0.0
        verdict = threshold_verdict(s, scores[ranked[0]][0], second, top_coverage=scores[ranked[0]][1])
        learned = None
        if s.learned_weight > 0.0 and len(self._learned):
            learned = self._learned.posterior([t.text for t in tokens])
        lexical = self._lexical.scores(question, q.terms) if s.lexical_weight > 0.0 else None

        def cap() -> Verdict:
            near = scores[ranked[0]][0] - s.rival_gap
            rivals = [self._docs[i] for i in ranked[1:4] if scores[i][0] >= near]
            return guard_cap(question, q, self._docs[ranked[0]], rivals)

        verdict, fused = decide(s, ranked, flat, verdict, lexical, learned, cap)
        hits = [FaqHit(self._docs[i].entry, flat[i]) for i in fused]
        return FaqMatch(verdict, tuple(hits[: max(limit, 1)]), normalized)

    def _title_weight(self, word: str) -> float:
        """A typed word's weight when titles break a tie: its rarity, or a little for filler."""
        return self._idf.get(word, _FILLER_TIE_WEIGHT)

    # -- question analysis ---------------------------------------------------------------------

    def _question(self, words: Sequence[Token]) -> _Question:
        tokens = [part for token in words for part in self._unjoin(token)]
        after = [t.text for t in tokens[1:]] + [""] if tokens else []
        positions = tuple(self._resolve(t, nxt == _YEARS) for t, nxt in zip(tokens, after, strict=True))
        weights = tuple(self._weight(t.text, c) for t, c in zip(tokens, positions, strict=True))
        terms: dict[str, float] = {}
        for position in positions:
            for term, conf in position:
                terms[term] = max(conf, terms.get(term, 0.0))
        counts: dict[str, int] = {}
        for position in positions:
            for term in {t for t, _ in position}:
                counts[term] = counts.get(term, 0) + 1
        typed: dict[str, set[str]] = {}
        for token in tokens:
            typed.setdefault(token.text, set()).add(token.accent)
        marked = {t: frozenset(a) for t, a in typed.items() if "" not in a and t in self._idf}
        return _Question(positions, weights, terms, counts, marked, tuple(tokens))

    def _resolve(self, token: Token, age: bool = False) -> _Candidates:
        """Vocabulary terms a question word may stand for, with a confidence in (0, 1]."""
        text = token.text
        if text.isdigit():
            return self._near_numbers(int(text), age)
        key = phonetic_key(text)
        if text in self._idf:
            known = self._accents.get(text)
            same_word = not token.accent or not known or token.accent in known
            conf = 1.0 if same_word else self.settings.accent_mismatch
            # A real word can still be a regional misspelling of another ("kết hông").
            alike = 0.8 if same_word else 0.6
            others = (t for t in self._sounds.get(key, ()) if t != text)
            return [(text, conf), *((t, self._repair(token, t, alike)) for t in others)]
        pair = self._joined.get(text)
        if pair is not None:
            return [(pair[0], 0.95), (pair[1], 0.95)]
        bare = strip_tone_key(text)  # Telex tone key left at the end: "kys", "sinhf"
        if bare is not None and canonical_token(bare) in self._idf:
            return [(canonical_token(bare), 0.95)]
        if len(text) < 3:
            return []
        sound_alikes = self._sounds.get(key)
        if sound_alikes:
            return [(t, self._repair(token, t, 0.85)) for t in sound_alikes]
        found = process.extract(
            text,
            self._vocab_list,
            scorer=Levenshtein.normalized_similarity,
            score_cutoff=self.settings.fuzzy_cutoff,
            limit=2,
        )
        return [(term, self._repair(token, term, 0.9 * float(similarity))) for term, similarity, _ in found]

    def _unjoin(self, token: Token) -> tuple[Token, ...]:
        """An unknown word that is known words run together, as those words (each one a word
        of the question, so an entry must explain each)."""
        if token.text in self._idf:
            return (token,)
        parts = self._joined.get(token.text) or self._segment(token.text)
        return tuple(Token(part) for part in parts) if parts else (token,)

    def _segment(self, text: str) -> tuple[str, ...]:
        """Known words run together ("dangkykethon" -> dang, ki, ket, hon): of the splits into
        known or filler words of two letters or more (at most six, three letters a word on
        average), the one with the fewest words, then the most word pairs found in the
        entries' phrases ("ket hon", not "ke thon"); only its known words; () when none."""
        if len(text) < 6 or not text.isalpha():
            return ()
        splits: list[tuple[str, ...]] = []

        def walk(rest: str, done: tuple[str, ...]) -> None:
            if len(splits) >= 200 or len(done) >= 6:
                return
            for cut in range(min(len(rest), 12), 1, -1):
                word = canonical_token(rest[:cut])
                if word not in self._idf and word not in _FILLER_WORDS:
                    continue
                if cut == len(rest):
                    splits.append((*done, word))
                else:
                    walk(rest[cut:], (*done, word))

        walk(text, ())
        splits = [p for p in splits if len(p) >= 2 and len(text) / len(p) >= 3.0]
        if not splits:
            return ()

        def rank(parts: tuple[str, ...]) -> tuple[int, int]:
            pairs = sum(a + b in self._joined for a, b in pairwise(parts))
            return len(parts), -pairs

        best = min(splits, key=rank)
        return tuple(word for word in best if word in self._idf)

    def _repair(self, token: Token, term: str, conf: float) -> float:
        """Confidence that `token` is a misspelling of `term`: lower when the token's marks put
        another vowel or tone than any spelling of the term ("bổng" is not "bảng")."""
        if same_sound_marks(token.accent, self._accents.get(term, ())):
            return conf
        return conf * self.settings.accent_mismatch

    def _near_numbers(self, value: int, age: bool) -> _Candidates:
        """The number itself if known, an upper bound it is under ("9 tuổi" is in "dưới 14
        tuổi"), and nearby known numbers with less confidence ("8 tuổi" is nearer "dưới 6 tuổi"
        than "20 tuổi")."""
        out: _Candidates = []
        for number, token in self._numbers:
            if number == value:
                out.append((token, 1.0))
                continue
            closeness = 1.0 - abs(number - value) / max(number, value, 1)
            if closeness >= 0.5:
                out.append((token, 0.8 * closeness))
        if age:  # only an age is inside an age bound ("1 hồ sơ" is not "dưới 6 tuổi")
            out += [(token, _INSIDE_BOUND) for bound, token in self._bounds if 0 < value < bound]
        return out

    def _weight(self, text: str, candidates: _Candidates) -> float:
        if text in self._idf:
            return self._idf[text]
        if candidates:
            return max(self._idf[t] for t, _ in candidates)
        return self.settings.unknown_weight

    # -- scoring -------------------------------------------------------------------------------

    def _score(self, doc: _Doc, q: _Question, shared: Iterable[int]) -> tuple[float, float]:
        """(score, share of the question's weight that the entry explains); `shared` are the
        positions in `doc.phrases` of the phrases that share a word with the question.

        Run for every entry sharing a phrase word with a question (most of them): the loops are
        written for speed — locals, no `max()` calls — and give the same numbers as plainly."""
        s = self.settings
        total = q.total
        # Words this entry writes with other marks than typed mean something else here.
        other = {t for t, typed in q.marked.items() if (known := doc.spellings.get(t)) and not typed & known}
        # The best phrase is the one most fully present in the question and, among those, the
        # one that explains most of the question.
        best = 0.0
        phrases = doc.phrases
        for j in shared:
            phrase = phrases[j]
            matched = self._phrase_match(phrase, q, other)
            if matched:
                cover = matched / phrase.total
                reach = min(1.0, matched / total)
                best = max(best, cover * (1.0 - s.reach_share + s.reach_share * reach))
        if best == 0.0:
            return 0.0, 0.0
        explained = 0.0
        vocab, context, context_weight = doc.vocab, doc.context, s.context_weight
        mismatch = s.accent_mismatch
        for candidates, weight in zip(q.positions, q.weights, strict=True):
            share = 0.0
            for term, conf in candidates:
                if other and term in other:
                    conf *= mismatch
                if term in vocab:
                    if conf > share:
                        share = conf
                elif term in context and conf * context_weight > share:
                    share = conf * context_weight
            explained += weight * share
        coverage = explained / total
        score = best * (1.0 - s.coverage_share + s.coverage_share * coverage)
        if len(q.positions) < 2:  # one word explains nothing more than a phrase of it does
            return score, coverage
        return max(score, s.bag_weight * coverage), coverage

    def _phrase_match(self, phrase: _Phrase, q: _Question, other: set[str]) -> float:
        """Weight of the phrase's words found in the question, each question word used once:
        "tuyển sinh trực tuyến" has "tuyến" twice, and one "trực tuyến" must not pay for both."""
        matched = 0.0
        terms = q.terms
        if not other and not phrase.repeats:  # nearly always: no word used twice, no marks to weigh
            for term, weight in zip(phrase.tokens, phrase.weights, strict=True):
                conf = terms.get(term)
                if conf:
                    matched += weight * conf
            return matched
        used: dict[str, int] = {}
        for term in phrase.tokens:
            conf = q.terms.get(term, 0.0)
            if not conf:
                continue
            if term in other:
                conf *= self.settings.accent_mismatch
            used[term] = used.get(term, 0) + 1
            if used[term] <= q.counts.get(term, 1):
                matched += self._idf[term] * conf
        return matched
