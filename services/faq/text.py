"""Vietnamese text normalisation for FAQ matching.

Citizens type on cheap phones, often without diacritics, with teen-code ("ko", "dc", "j") and
abbreviations ("cccd", "lltp"). The knowledge base and the question go through the same
pipeline, so whatever is folded here is folded on both sides:

    split words -> fold_words (no marks, đ -> d) -> expand abbreviations -> canonical spelling
    -> join ambiguous pairs ("một cửa") -> drop question words and politeness

Folding merges different words ("vàng"/"vắng", "chợ"/"cho", "hội"/"hỏi"). When the citizen did
type marks, each token keeps an accent signature so that filler is only dropped when it really is
filler, and the matcher can tell a same-letters-different-word match from a real one.

Everything here is a pure function over constant tables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from services.faq import vocabulary as v
from services.faq.keyboard import collapse_repeats, telex_fold
from services.text import fold_words

__all__ = [
    "BELOW",
    "Token",
    "accent_signature",
    "analyze",
    "canonical_token",
    "normalize",
    "normalize_tokens",
    "phonetic_key",
    "typed_words",
]

_WORD = re.compile(r"[^\W_]+")
_AGE = re.compile(r"^(\d+)(t|tuoi)$")
_MILLION = re.compile(r"^(\d+)(tr|trieu)$")
# "dưới 14 tuổi" states an upper bound: it also gives the word "duoi14", which the matcher lets
# any smaller number stand for ("con 9 tuổi" is inside "dưới 14 tuổi", not near "14").
BELOW = "duoi"


@dataclass(frozen=True, slots=True)
class Token:
    """A normalised word. `accent` is its spelling with marks ("" when typed without marks or
    produced by expanding an abbreviation), as given by `accent_signature`."""

    text: str
    accent: str = ""


def canonical_token(token: str) -> str:
    """Unify spelling variants: final y after a consonant is i ("ký" = "kí", "lý" = "lí")."""
    if len(token) >= 2 and token[-1] == "y" and token[-2] in v.CONSONANTS:
        return token[:-1] + "i"
    return token


def accent_signature(word: str) -> str:
    """The word's spelling with marks, independent of Unicode form, tone placement ("hoà" =
    "hòa") and ký/kí; "" when the word has no marks at all."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    if decomposed.isascii():
        return ""
    tone = ""
    stem: list[str] = []
    for ch in decomposed:
        if ch in v.TONES:
            tone = v.TONES[ch]
        else:
            stem.append(ch)
    return canonical_token(unicodedata.normalize("NFC", "".join(stem))) + tone


def _split(text: str) -> list[Token]:
    tokens: list[Token] = []
    for typed in _WORD.findall(unicodedata.normalize("NFC", text.lower())):
        if typed in v.ABBREVIATIONS:  # "cccd" is not a letter held down
            word, telex = typed, None
        else:
            word = collapse_repeats(typed)
            telex = telex_fold(word)
        if telex is not None:
            tokens.append(Token(telex))
            continue
        parts = fold_words(word).split()
        accent = accent_signature(word) if len(parts) == 1 else ""
        tokens.extend(Token(part, accent) for part in parts)
    return tokens


def _is_ward(tokens: list[Token], i: int) -> bool:
    """Whether "phuong" at `i` is the commune-level unit "phường"."""
    token = tokens[i]
    if token.accent:
        return token.accent == accent_signature("phường")
    before = tokens[i - 1].text if i else ""
    after = tokens[i + 1].text if i + 1 < len(tokens) else ""
    return before not in v.NOT_WARD_BEFORE and after not in v.NOT_WARD_AFTER


def _spellings_of(names: list[str]) -> list[str]:
    """Every string the letter names can spell (a name may stand for two letters)."""
    out = [""]
    for name in names:
        out = [prefix + letter for prefix in out for letter in v.LETTER_NAMES[name]]
    return out


def _spelled(tokens: list[Token]) -> list[Token]:
    """An acronym spelled out by voice typing ("vi en ai di") becomes the acronym ("vneid"): the
    longest run of three to six letter names, from each position, that spells one of ACRONYMS."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        found = None
        for n in range(min(6, len(tokens) - i), 2, -1):
            names = [t.text for t in tokens[i : i + n]]
            if all(name in v.LETTER_NAMES for name in names):
                found = next((w for w in _spellings_of(names) if w in v.ACRONYMS), None)
                if found is not None:
                    out.append(Token(found))
                    i += n
                    break
        if found is None:
            out.append(tokens[i])
            i += 1
    return out


def _expand(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for i, token in enumerate(tokens):
        age = _AGE.match(token.text)
        million = _MILLION.match(token.text)
        if token.text == v.WARD:
            out.append(Token("xa") if _is_ward(tokens, i) else token)
        elif age:
            out += [Token(age.group(1)), Token("tuoi")]
        elif million:
            out += [Token(million.group(1)), Token("trieu")]
        elif (standard := _regional(token)) is not None:
            out.append(Token(canonical_token(fold_words(standard)), accent_signature(standard)))
        elif token.text in v.ABBREVIATIONS:
            out += [
                Token(canonical_token(t), accent_signature(v.EXPANDED_ACCENTS.get(t, "")))
                for t in v.ABBREVIATIONS[token.text].split()
            ]
        else:
            out.append(Token(canonical_token(token.text), token.accent))
    return out


@cache
def _regional_table() -> Mapping[tuple[str, str], str]:
    """(folded word, accent signature) -> the standard word with marks (built on first use)."""
    table: dict[tuple[str, str], str] = {}
    for word, standard in v.REGIONAL_WORDS.items():
        folded = fold_words(word)
        table[folded, accent_signature(word)] = standard
        if folded in v.REGIONAL_UNMARKED:
            table[folded, ""] = standard
    return table


def _regional(token: Token) -> str | None:
    """The standard word for a regional one ("xài" -> "dùng"), None for any other word."""
    return _regional_table().get((token.text, token.accent))


def _join(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        pair = (tokens[i].text, tokens[i + 1].text) if i + 1 < len(tokens) else None
        joined = v.COMPOUNDS.get(pair) if pair else None
        if joined is not None:
            out += [Token(t) for t in joined.split()]
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


def _bounds(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for i, token in enumerate(tokens):
        out.append(token)
        if token.text.isdigit() and i and tokens[i - 1].text == BELOW:
            out.append(Token(BELOW + token.text))
    return out


def _lost(tokens: list[Token]) -> list[Token]:
    """ "mất" read as "lost" (`v.LOST`) after "làm"/"đánh"/"bị" or before a thing one carries."""
    out = list(tokens)
    for i, token in enumerate(tokens):
        if token.text != "mat" or token.accent not in ("", accent_signature("mất")):
            continue
        j = i + 1
        while j < len(tokens) and tokens[j].text in v.LOST_SKIP:
            j += 1
        nxt = tokens[j].text if j < len(tokens) else ""
        pair = (nxt, tokens[j + 1].text) if j + 1 < len(tokens) else None
        before = tokens[i - 1].text if i else ""
        if before in v.LOST_BEFORE or nxt in v.LOST_OBJECTS or pair in v.LOST_PAIRS:
            out[i] = Token(v.LOST)
    return out


def _bequest(tokens: list[Token]) -> list[Token]:
    """ "để lại" + land, a house, a certificate ("bố mẹ mất để lại miếng đất") -> "thừa kế"."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and (tokens[i].text, tokens[i + 1].text) == ("de", "lai"):
            j = i + 2
            while j < len(tokens) and tokens[j].text in v.LOST_SKIP:
                j += 1
            if j < len(tokens) and tokens[j].text in v.BEQUEATHED:
                out += [Token(t) for t in v.BEQUEST.split()]
                i += 2
                continue
        out.append(tokens[i])
        i += 1
    return out


@cache
def _spellings(words: str, unmarked: bool) -> Mapping[str, frozenset[str]]:
    """Folded word -> the accent signatures under which it counts (built on first use)."""
    table: dict[str, set[str]] = {}
    for word in words.split():
        accents = table.setdefault(canonical_token(fold_words(word)), {""} if unmarked else set())
        if signature := accent_signature(word):
            accents.add(signature)
    return {k: frozenset(v) for k, v in table.items() if v}


def _is_in(token: Token, words: str, unmarked: bool = True) -> bool:
    """Whether the token is one of `words`; typed without marks it counts when `unmarked`."""
    accents = _spellings(words, unmarked).get(token.text)
    return accents is not None and token.accent in accents


@cache
def _phrases_by_first_word() -> Mapping[str, tuple[tuple[str, ...], ...]]:
    """Filler phrases grouped by their first word, longest first (built on first use)."""
    table: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(v.FILLER_PHRASES, key=len, reverse=True):
        table.setdefault(phrase[0], []).append(phrase)
    return {k: tuple(v) for k, v in table.items()}


def _phrase_at(tokens: list[Token], i: int) -> int:
    """Length of the filler phrase starting at `i`, 0 if none."""
    for phrase in _phrases_by_first_word().get(tokens[i].text, ()):
        window = tokens[i : i + len(phrase)]
        if len(window) == len(phrase) and all(map(_is_phrase_word, window, phrase)):
            return len(phrase)
    return 0


def _is_phrase_word(token: Token, word: str) -> bool:
    return token.text == word and _is_in(token, v.PHRASE_SPELLINGS)


def _is_filler(token: Token) -> bool:
    return (
        _is_in(token, v.FILLER_SPELLINGS)
        or _is_in(token, v.MARKED_FILLER_SPELLINGS, unmarked=False)
        # a closing particle typed with its marks ("vậy", "hả") is filler anywhere
        or _is_in(token, v.END_SPELLINGS, unmarked=False)
    )


def _strip(tokens: list[Token]) -> list[Token]:
    kept: list[Token] = []
    i = 0
    while i < len(tokens):
        n = _phrase_at(tokens, i)
        if n:
            i += n
        else:
            kept.append(tokens[i])
            i += 1
    # Walk back over trailing filler and closing particles ("... vay ad oi").
    end = len(kept)
    while end:
        last = kept[end - 1]
        closing = last.text in v.END_PARTICLES and _is_in(last, v.END_SPELLINGS)
        negation = (
            last.text in v.NEGATION_TAIL
            and _is_in(last, v.END_SPELLINGS)
            and end >= 2
            and kept[end - 2].text in v.BEFORE_NEGATION_TAIL
        )
        if not (closing or negation or _is_filler(last)):
            break
        end -= 1
    return [t for t in kept[:end] if not _is_filler(t)]


def typed_words(text: str) -> tuple[Token, ...]:
    """Every word as typed (folded, with its accent signature), before abbreviations, regional
    words and filler are handled."""
    return tuple(_split(text))


def filler_words() -> frozenset[str]:
    """Every filler word, folded (for splitting words typed together)."""
    words = f"{v.FILLER_SPELLINGS} {v.MARKED_FILLER_SPELLINGS} {v.PHRASE_SPELLINGS}".split()
    return frozenset(canonical_token(fold_words(w)) for w in words)


# The index build analyses each entry text for several tables (phrases, marks, the lexical
# signal); remembering the recent results keeps the build under a second.
@lru_cache(maxsize=16384)
def analyze(text: str) -> tuple[Token, ...]:
    """The full pipeline: the topic words of `text` with their accent signatures."""
    return tuple(_strip(_bounds(_bequest(_lost(_join(_expand(_spelled(_split(text)))))))))


def normalize_tokens(text: str) -> tuple[str, ...]:
    """The topic words of `text`, folded and canonical."""
    return tuple(t.text for t in analyze(text))


def normalize(text: str) -> str:
    """`normalize_tokens` joined by single spaces."""
    return " ".join(normalize_tokens(text))


_PHONETIC_INITIALS: tuple[tuple[str, str], ...] = (
    ("tr", "ch"),
    ("gi", "d"),
    ("gh", "g"),
    ("ngh", "ng"),
    ("qu", "w"),
    ("s", "x"),
    ("r", "d"),
    ("z", "d"),
    ("l", "n"),
    ("k", "c"),
)
_PHONETIC_FINALS: tuple[tuple[str, str], ...] = (("nh", "n"), ("ng", "n"), ("ch", "t"), ("c", "t"))


def phonetic_key(token: str) -> str:
    """A coarse sound-alike key for regional spelling mix-ups (tr/ch, s/x, d/gi/r, l/n, -n/-ng)."""
    key = token
    for src, dst in _PHONETIC_INITIALS:
        if key.startswith(src):
            key = dst + key[len(src) :]
            break
    for src, dst in _PHONETIC_FINALS:
        if key.endswith(src) and len(key) > len(src):
            key = key[: -len(src)] + dst
            break
    return key
