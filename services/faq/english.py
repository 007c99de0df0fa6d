"""Questions in English, for people who chose English (/ngonngu): the knowledge base is written in
Vietnamese, so the matcher never heard of «ID card for my child». Known English phrases become the
Vietnamese words the entries use (longest phrase first); English words that carry no topic are
dropped; anything else (a Vietnamese word, «VNeID») stays. Only English readers' questions go through
here, so Vietnamese matching is untouched."""

from __future__ import annotations

import re

# English phrase → the Vietnamese words (no diacritics: the matcher folds them) the entries use.
_PHRASES: dict[str, str] = {
    # identity and civil status
    "id card": "can cuoc",
    "identity card": "can cuoc",
    "citizen id": "can cuoc",
    "chip id": "can cuoc",
    "lost id": "mat can cuoc",
    "passport": "ho chieu",
    "birth certificate": "giay khai sinh",
    "birth registration": "dang ky khai sinh",
    "register a birth": "dang ky khai sinh",
    "register the birth": "dang ky khai sinh",
    "register my baby": "dang ky khai sinh cho con",
    "birth": "khai sinh",
    "newborn": "khai sinh cho con",
    "death certificate": "khai tu",
    "death registration": "dang ky khai tu",
    "register a death": "dang ky khai tu",
    "death": "khai tu",
    "marriage certificate": "dang ky ket hon",
    "marriage": "ket hon",
    "get married": "dang ky ket hon",
    "marry": "ket hon",
    "divorce": "ly hon",
    "marital status": "tinh trang hon nhan",
    "single status": "xac nhan tinh trang hon nhan",
    "criminal record": "ly lich tu phap",
    "permanent residence": "dang ky thuong tru",
    "temporary residence": "dang ky tam tru",
    "temporary absence": "khai bao tam vang",
    "residence": "cu tru",
    "military service": "nghia vu quan su",
    "certified copy": "chung thuc ban sao",
    # health, insurance, benefits
    "health insurance": "bao hiem y te",
    "social insurance": "bao hiem xa hoi",
    "one-time withdrawal": "rut bhxh mot lan",
    "unemployment benefit": "tro cap that nghiep",
    "unemployment": "that nghiep",
    "pension": "luong huu",
    "disability": "khuyet tat",
    "poor household": "ho ngheo",
    "social allowance": "tro cap xa hoi",
    "health record": "so suc khoe dien tu",
    # land, building, vehicles, tax
    "land certificate": "so do",
    "land title": "so do",
    "red book": "so do",
    "transfer land": "sang ten so do",
    "land tax": "thue dat",
    "building permit": "giay phep xay dung",
    "driving licence": "giay phep lai xe",
    "driving license": "giay phep lai xe",
    "driver's license": "giay phep lai xe",
    "vehicle registration": "dang ky xe",
    "register a motorbike": "dang ky xe may",
    "motorbike": "xe may",
    "registration fee": "le phi truoc ba",
    "traffic fine": "phat giao thong",
    "fine": "phat",
    "tax code": "ma so thue",
    "income tax": "thue thu nhap ca nhan",
    "household business": "ho kinh doanh",
    "business": "kinh doanh",
    # online services and digital skills
    "public service portal": "cong dich vu cong",
    "online public service": "dich vu cong truc tuyen",
    "level 2": "muc 2",
    "account": "tai khoan",
    "password": "mat khau",
    "forgot": "quen",
    "lock": "khoa",
    "digital signature": "chu ky so",
    "e-wallet": "vi dien tu",
    "electricity bill": "tien dien",
    "water bill": "tien nuoc",
    "scam": "lua dao",
    "fraud": "lua dao",
    "complaint": "phan anh kien nghi",
    "track my application": "tra cuu ho so",
    "application status": "tra cuu ho so",
    "dossier status": "tra cuu ho so",
    "school enrolment": "tuyen sinh",
    "school admission": "tuyen sinh",
    "biometrics": "sinh trac hoc",
    # who and how
    "my child": "cho con",
    "my baby": "cho con",
    "child": "tre em",
    "children": "tre em",
    "under 14": "duoi 14 tuoi",
    "under 6": "duoi 6 tuoi",
    "first time": "lan dau",
    "renew": "gia han",
    "lost": "bi mat",
    "replace": "cap lai",
    "register": "dang ky",
    "registration": "dang ky",
    "online": "truc tuyen",
    "pay": "nop",
    "withdraw": "rut",
    "one time": "mot lan",
    "once": "mot lan",
    "report": "to giac",
    "land": "dat",
    "one-stop": "mot cua",
}
# English words that carry no topic: dropped, so they do not count against the match.
_DROP_WORDS = (
    "how do does did i we you can could get a an the for of to in on at with my our your me is are "
    "what where which who when please want need would like help apply make made do done it this that "
    "there here from about via by some any should must have has be been will and or new card"
)
_DROP = frozenset(_DROP_WORDS.split())
_PATTERN = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def _kept(text: str) -> list[str]:
    return [w for w in text.split() if w.lower().strip("?!.,'\"") not in _DROP]


def to_vietnamese(question: str) -> str:
    """The question with known English phrases in Vietnamese and topic-less English words dropped
    (only the typed ones: «can cước» keeps its «can»)."""
    words: list[str] = []
    at = 0
    for m in _PATTERN.finditer(question):
        words += _kept(question[at : m.start()])
        words.append(_PHRASES[m.group(0).lower()])
        at = m.end()
    words += _kept(question[at:])
    return " ".join(words) if words else question


# Words a Vietnamese question typed without diacritics never holds («the», «can», «do», «to», «me»,
# «an», «my» are Vietnamese too: «the bhyt», «can gi», «do dau»): two of them, and no Vietnamese
# letter, make a question English.
_ENGLISH_ONLY_WORDS = (
    "how what where when which who why whom whose i'm i've i'd please would could should does did "
    "is are was were am be been of for with from your you yours our we they their this that these "
    "those there here about have has had will get got need want wants help register registration "
    "apply certificate passport birth married marriage card license licence insurance renew my "
    "and or if it its into after before"
)
_ENGLISH_ONLY = frozenset(_ENGLISH_ONLY_WORDS.split())
_VIETNAMESE_LETTER = re.compile(
    r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]",
    re.IGNORECASE,
)


def looks_english(text: str) -> bool:
    """Plainly English («How do I register my baby's birth?»), for a person whose language is not
    set to English: at least two English-only words, a third of the words at least, no Vietnamese
    letter."""
    if _VIETNAMESE_LETTER.search(text):
        return False
    words = [w.strip("?!.,:;'\"()").lower() for w in text.split()]
    words = [w.removesuffix("'s") for w in words if w]
    english = sum(w in _ENGLISH_ONLY for w in words)
    return english >= 2 and english * 3 >= len(words)
