"""A short follow-up about the answer just shown: «mất bao lâu», «bao nhiêu tiền», «ở đâu», «cần giấy
tờ gì». Alone such words name no procedure, so the matcher offered death registration to a parent who
had just read the birth-registration answer. Only a message that is nothing but the follow-up (and
filler words) counts: «căn cước mất bao lâu» names its own topic and is a new question."""

from __future__ import annotations

import re
from enum import StrEnum

from services.text import fold_words


class Aspect(StrEnum):
    TIME = "time"
    FEE = "fee"
    PLACE = "place"
    DOCUMENTS = "documents"


_PATTERNS: tuple[tuple[Aspect, re.Pattern[str]], ...] = tuple(
    (aspect, re.compile(rf"\b(?:{words})\b"))
    for aspect, words in (
        (
            Aspect.TIME,
            r"bao lau|may ngay|bao nhieu ngay|bao nhieu lau|bao nhieu thoi gian|thoi gian|"
            r"bao gio (?:co|xong|lay)|khi nao (?:co|xong|lay)|how long|how many days",
        ),
        (
            Aspect.FEE,
            r"bao nhieu tien|het bao nhieu|mat bao nhieu|ton bao nhieu|phi bao nhieu|le phi|chi phi|"
            r"mat phi|ton phi|mat tien|ton tien|mien phi|tien|how much|fee|fees|cost",
        ),
        (Aspect.PLACE, r"o dau|cho nao|noi nao|den dau|where"),
        (
            Aspect.DOCUMENTS,
            r"giay to|giay gi|can nhung gi|can gi|mang theo|mang gi|ho so gom|ho so can|documents|papers|"
            r"what do i need",
        ),
    )
)
# Words that add nothing to a follow-up («thì mất bao lâu vậy ạ», «làm ở đâu», «có mất phí không»).
_FILLER_WORDS = (
    "toi minh em anh chi ong ba con chau a ah vay the thi la can phai di nua co khong ko k kg hok hong "
    "duoc dc j gi nhi nhe ha ho ak uh oi lam nop xin den mat het ton cho hoi cai nay thu tuc khi nao roi "
    "ket qua and the it does is do i need to for this that please take cost costs"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_MAX_WORDS = 10


def aspect_of(text: str) -> Aspect | None:
    """The follow-up a short message asks about, or None (a new question, or not a follow-up)."""
    words = fold_words(text)
    if not words or words.count(" ") >= _MAX_WORDS:
        return None
    for aspect, pattern in _PATTERNS:
        found = pattern.search(words)
        if found is None:
            continue
        rest = (words[: found.start()] + " " + words[found.end() :]).split()
        if all(w in _FILLER for w in rest):
            return aspect
        return None  # the words name something else: a question of its own
    return None
