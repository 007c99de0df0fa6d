"""Vietnamese text normalisation for FAQ matching.

Citizens type on cheap phones, often without diacritics, with teen-code ("ko", "dc", "j") and
abbreviations ("cccd", "lltp"). The knowledge base and the question go through the same
pipeline, so whatever is folded here is folded on both sides:

    split words -> fold (no marks, đ -> d) -> expand abbreviations -> canonical spelling
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
from functools import cache

__all__ = [
    "Token",
    "accent_signature",
    "analyze",
    "canonical_token",
    "fold",
    "normalize",
    "normalize_tokens",
    "phonetic_key",
    "strip_diacritics",
]

# đ/Đ are letters of their own, not d + a mark; ð is what some keyboards produce instead.
_LETTER_MAP = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[^\W_]+")
_AGE = re.compile(r"^(\d+)(t|tuoi)$")
_MILLION = re.compile(r"^(\d+)(tr|trieu)$")
_CONSONANTS = frozenset("bcdghklmnpqrstvxđ")
# Vietnamese tone marks (as combining characters); the other marks (â ă ê ô ơ ư) stay in the stem.
_TONES: Mapping[str, str] = {
    "\u0300": "2",
    "\u0301": "1",
    "\u0309": "3",
    "\u0303": "4",
    "\u0323": "5",
    "\u0340": "2",
    "\u0341": "1",
}

# Abbreviations and teen-code, keyed by the folded token (no diacritics, lower case).
_ABBREVIATIONS: Mapping[str, str] = {
    # negation, "được", common verbs and particles
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "khg": "khong",
    "kg": "khong",
    "k0": "khong",
    "hok": "khong",
    "hk": "khong",
    "khum": "khong",
    "hum": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dky": "dang ky",
    "dki": "dang ky",
    "dangky": "dang ky",
    "dduoc": "duoc",
    "lm": "lam",
    "j": "gi",
    "ji": "gi",
    "z": "vay",
    "dzay": "vay",
    "zay": "vay",
    "r": "roi",
    "oy": "roi",
    "s": "sao",
    "ntn": "nhu the nao",
    "bn": "bao nhieu",
    "bnh": "bao nhieu",
    "nhiu": "nhieu",
    "bik": "biet",
    "bit": "biet",
    "wa": "qua",
    "vs": "voi",
    "ms": "moi",
    "trc": "truoc",
    "ng": "nguoi",
    "mn": "moi nguoi",
    # people
    "e": "em",
    "mik": "minh",
    "mjk": "minh",
    "mh": "minh",
    "t": "toi",
    "b": "ban",
    "m": "minh",
    "ad": "admin",
    "cty": "cong ty",
    # documents, agencies and services
    "cccd": "can cuoc cong dan",
    "cc": "can cuoc",
    "cmnd": "chung minh nhan dan",
    "cmt": "chung minh nhan dan",
    "lltp": "ly lich tu phap",
    "gks": "giay khai sinh",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "bhtn": "bao hiem that nghiep",
    "bh": "bao hiem",
    "dvc": "dich vu cong",
    "dvctt": "dich vu cong truc tuyen",
    "dvcqg": "dich vu cong quoc gia",
    "tthc": "thu tuc hanh chinh",
    "gplx": "giay phep lai xe",
    "blx": "bang lai xe",
    "ubnd": "uy ban nhan dan",
    "ub": "uy ban",
    "gcn": "giay chung nhan",
    "qsdd": "quyen su dung dat",
    "gcnqsdd": "giay chung nhan quyen su dung dat",
    "xnthn": "xac nhan tinh trang hon nhan",
    "xntthn": "xac nhan tinh trang hon nhan",
    "tthn": "tinh trang hon nhan",
    "hkd": "ho kinh doanh",
    "dkkd": "dang ky kinh doanh",
    "csgt": "canh sat giao thong",
    "xkld": "xuat khau lao dong",
    "hs": "ho so",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dth": "dien thoai",
    "tk": "tai khoan",
    "mk": "mat khau",
    "pass": "mat khau",
    "password": "mat khau",
    "ck": "chuyen khoan",
    "nc": "nuoc",
    "bv": "benh vien",
    "sv": "sinh vien",
    "fb": "facebook",
    "zl": "zalo",
    "mxh": "mang xa hoi",
    "app": "ung dung",
    "online": "truc tuyen",
    "onl": "truc tuyen",
    "vnid": "vneid",
    "passport": "ho chieu",
    "atm": "the atm",
}

# Expansions that must keep the marks of the word meant: "b" is "bạn" (filler), not "bán".
_EXPANDED_ACCENTS: Mapping[str, str] = {"ban": "bạn"}

# "phường" is a commune-level unit like "xã" and is folded into it, but "phương" in "đơn phương",
# "địa phương", "phương tiện" is another word: typed without marks, its neighbours tell.
_WARD = "phuong"
_NOT_WARD_BEFORE = frozenset({"don", "dia", "da", "song", "dong", "tay", "nam", "bac"})
_NOT_WARD_AFTER = frozenset({"tien", "an", "phap", "thuc", "trinh", "huong", "cham"})

# Word pairs rewritten as a whole, mostly into one token because the parts are ambiguous once
# folded ("cửa" = "của", "căn" = "cần", "đỏ" = "đó", "ánh" = "anh", "hội" = "hỏi") or because
# users write them joined; a few are plain synonyms ("trên mạng" = "trực tuyến").
_COMPOUNDS: Mapping[tuple[str, str], str] = {
    ("mot", "cua"): "motcua",
    ("can", "cuoc"): "cancuoc",
    ("so", "do"): "sodo",
    ("so", "hong"): "sohong",
    ("bia", "do"): "biado",
    ("o", "to"): "oto",
    ("vn", "eid"): "vneid",
    ("vn", "id"): "vneid",
    ("ca", "vet"): "cavet",
    ("ca", "ve"): "cavet",
    ("ban", "sao"): "bansao",
    ("truoc", "ba"): "truocba",  # "trước bạ"; apart, "ba" is a father and "trước" is "before"
    ("sao", "y"): "saoy",
    ("ban", "chinh"): "banchinh",
    ("ban", "be"): "banbe",
    ("uy", "ban"): "uyban",
    ("phan", "anh"): "phananh",
    ("chung", "minh"): "chungminh",
    ("xa", "hoi"): "xahoi",
    ("moi", "de"): "moide",
    ("vua", "de"): "moide",
    ("tren", "mang"): "truc tuyen",
    ("qua", "mang"): "truc tuyen",
    ("thi", "tran"): "xa",
}

# Question words, time words and politeness that carry no topic ("làm sao", "ở đâu", "ạ").
_FILLER_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "cho em hoi",
        "cho minh hoi",
        "cho toi hoi",
        "cho chau hoi",
        "cho hoi",
        "xin hoi",
        "nhu the nao",
        "lam the nao",
        "lam sao",
        "the nao",
        "ra sao",
        "nhu nao",
        "sao vay",
        "bang cach nao",
        "cach nao",
        "o dau",
        "cho nao",
        "noi nao",
        "tu dau",
        "bat dau",
        "can gi",
        "can nhung gi",
        "giay to gi",
        "nhung gi",
        "thu tuc",  # every entry is a procedure: the word itself tells nothing
        "kieu gi",
        "bao nhieu",
        "bao lau",
        "bao gio",
        "khi nao",
        "la gi",
        "co phai",
        "phai khong",
        "duoc khong",
        "co duoc",
        "nhu vay",
        "nhu the",
        "moi nguoi",
        "huong dan",
        "can phai",
        "can lam",
        "hom nay",
        "hom qua",
        "ngay mai",
        "bay gio",
    )
)

# Filler words as they are spelt with marks. A word typed with other marks is a different word
# and stays ("chợ" is not "cho", "rơi" is not "rồi", "sạp" is not "sắp").
_FILLER_SPELLINGS = """
    a ạ à á ah ak dạ đã ơi ui nhé nhe nhen nè hì hihi hic hả ha ừ uh um ok oke okie alo chào
    hello admin không khong chưa rồi em anh chị mình tôi tới tối tui tao có cô cháu bác
    gì nào là và của cho với giúp giùm dùm xin hỏi muốn phải nếu những nhưng các này nay kia
    bị làm như về đến đi nhiều luôn nữa hay hoặc vào trong sau sẽ vẫn cũng rất cách cần ở
    trên lên xuống vừa sắp giờ để được
"""

# Filler only when typed with marks: without them they are content words ("thi", "mã", "đỏ").
# "bạn" is filler, but typed without marks "ban" is as often "bán" (sell) or "bản" (a copy).
_MARKED_FILLER_SPELLINGS = "thì mà đó đấy bạn"

# Words of the filler phrases that are not filler on their own, with their marks.
_PHRASE_SPELLINGS = (
    _FILLER_SPELLINGS
    + """
    thế sao ra đâu chỗ nơi từ bắt đầu gì giấy tờ thủ tục kiểu bao nhiêu lâu giờ khi
    hướng dẫn hôm nay qua ngày mai bây vậy nào bằng mọi người
"""
)

# Particles that are filler only at the end of a sentence ("vậy", "hả", "nha"); elsewhere,
# typed without marks, "vay" is a loan and "nha" a house.
_END_PARTICLES: frozenset[str] = frozenset({"vay", "hem", "ha", "nhi", "chu", "ta", "nha"})
# "hông" closes a yes/no question ("được hông") but "hỏng" means broken: only after these words.
_NEGATION_TAIL = frozenset({"hong", "hem"})
_BEFORE_NEGATION_TAIL = frozenset({"duoc", "co", "phai", "roi", "biet", "khong", "chua"})
_END_SPELLINGS = "vậy hả nha nhỉ chứ ta hông hem"


@dataclass(frozen=True, slots=True)
class Token:
    """A normalised word. `accent` is its spelling with marks ("" when typed without marks or
    produced by expanding an abbreviation), as given by `accent_signature`."""

    text: str
    accent: str = ""


def strip_diacritics(text: str) -> str:
    """Remove tone and vowel marks and turn đ into d; NFC and NFD input give the same result."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTER_MAP))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, strip marks, keep only a-z and digits separated by single spaces."""
    plain = strip_diacritics(text.lower()).translate(_LETTER_MAP)
    return _NON_ALNUM.sub(" ", plain).strip()


def canonical_token(token: str) -> str:
    """Unify spelling variants: final y after a consonant is i ("ký" = "kí", "lý" = "lí")."""
    if len(token) >= 2 and token[-1] == "y" and token[-2] in _CONSONANTS:
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
        if ch in _TONES:
            tone = _TONES[ch]
        else:
            stem.append(ch)
    return canonical_token(unicodedata.normalize("NFC", "".join(stem))) + tone


def _split(text: str) -> list[Token]:
    tokens: list[Token] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text.lower())):
        parts = fold(word).split()
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
    return before not in _NOT_WARD_BEFORE and after not in _NOT_WARD_AFTER


def _expand(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for i, token in enumerate(tokens):
        age = _AGE.match(token.text)
        million = _MILLION.match(token.text)
        if token.text == _WARD:
            out.append(Token("xa") if _is_ward(tokens, i) else token)
        elif age:
            out += [Token(age.group(1)), Token("tuoi")]
        elif million:
            out += [Token(million.group(1)), Token("trieu")]
        elif token.text in _ABBREVIATIONS:
            out += [
                Token(canonical_token(t), accent_signature(_EXPANDED_ACCENTS.get(t, "")))
                for t in _ABBREVIATIONS[token.text].split()
            ]
        else:
            out.append(Token(canonical_token(token.text), token.accent))
    return out


def _join(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        pair = (tokens[i].text, tokens[i + 1].text) if i + 1 < len(tokens) else None
        joined = _COMPOUNDS.get(pair) if pair else None
        if joined is not None:
            out += [Token(t) for t in joined.split()]
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


@cache
def _spellings(words: str, unmarked: bool) -> Mapping[str, frozenset[str]]:
    """Folded word -> the accent signatures under which it counts (built on first use)."""
    table: dict[str, set[str]] = {}
    for word in words.split():
        accents = table.setdefault(canonical_token(fold(word)), {""} if unmarked else set())
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
    for phrase in sorted(_FILLER_PHRASES, key=len, reverse=True):
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
    return token.text == word and _is_in(token, _PHRASE_SPELLINGS)


def _is_filler(token: Token) -> bool:
    return (
        _is_in(token, _FILLER_SPELLINGS)
        or _is_in(token, _MARKED_FILLER_SPELLINGS, unmarked=False)
        # a closing particle typed with its marks ("vậy", "hả") is filler anywhere
        or _is_in(token, _END_SPELLINGS, unmarked=False)
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
        closing = last.text in _END_PARTICLES and _is_in(last, _END_SPELLINGS)
        negation = (
            last.text in _NEGATION_TAIL
            and _is_in(last, _END_SPELLINGS)
            and end >= 2
            and kept[end - 2].text in _BEFORE_NEGATION_TAIL
        )
        if not (closing or negation or _is_filler(last)):
            break
        end -= 1
    return [t for t in kept[:end] if not _is_filler(t)]


def analyze(text: str) -> tuple[Token, ...]:
    """The full pipeline: the topic words of `text` with their accent signatures."""
    return tuple(_strip(_join(_expand(_split(text)))))


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
