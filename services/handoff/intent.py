"""A person asking, in words, for a person: «tôi muốn gặp người hỗ trợ», «cho toi noi chuyen voi
tinh nguyen vien», «talk to a human». Without this the words went to the FAQ matcher, which found
entries *about* volunteers or offered health-insurance cards to «nói chuyện với người thật».

Deliberately narrow: a verb of reaching someone right before a word for a helper. A question that
only mentions volunteers («tình nguyện viên nộp giúp dân được không», «có cần tình nguyện viên đi
cùng không») stays a question for the FAQ."""

from __future__ import annotations

import re

from services.text import fold_words

_REACH = (
    r"gap|gap duoc|gap mot|noi chuyen voi|noi chuyen|trao doi voi|lien he voi|lien he|ket noi voi|"
    r"ket noi|goi cho|goi|chuyen cho|chuyen sang|xin|can|muon co|cho toi|cho em|cho minh"
)
_HELPER = (
    r"nguoi ho tro|nguoi huong dan|nguoi giup|nguoi that|tinh nguyen vien|tnv|nhan vien ho tro|"
    r"tu van vien|can bo ho tro|to cong nghe so|to cns|ho tro truc tiep"
)
# «có cần tình nguyện viên…» asks whether one is needed, not for one.
_VI = re.compile(rf"(?<!\bco )\b(?:{_REACH}) (?:(?:voi|mot|1|ben|cua) )?(?:{_HELPER})\b")
_EN = re.compile(
    r"\b(?:talk|speak|chat)(?: to| with)(?: a| an| some| the)? ?(?:human|person|people|someone|"
    r"volunteer|agent|real person)\b|\b(?:a|real) (?:human|person) please\b|\bhuman agent\b|"
    r"\b(?:need|want)(?: help from| to see)?(?: a| an| some| the)? (?:human|real person|volunteer)\b"
)
# Someone less specific (an officer, the admin, «người») only as the end of the message: «cho em
# gặp cán bộ», «cho gặp admin», «tôi muốn nói chuyện với người» — while «gặp cán bộ một cửa nộp
# hồ sơ» or «gặp nhân viên bưu điện nhận kết quả» go on, and are questions.
_SOMEONE = (
    r"can bo(?: xa| phuong| ho tro)?|admin|quan tri vien|quan tri|nguoi|con nguoi|ai do|nguoi nao do|"
    r"nguoi nao"
)
_POLITE = r"(?: (?:a|oi|voi|nhe|nha|di|duoc khong|dc khong|duoc ko|dc ko|duoc k|dc k|dum|giup))*"
_VI_END = re.compile(
    rf"(?<!\bco )\b(?:{_REACH}|cho gap|muon gap) (?:(?:voi|mot|1|ben) )?(?:{_SOMEONE}){_POLITE}$"
)
# «có ai không», «alo có ai ở đó không»: the whole message asks whether a person is there.
_ANYONE = re.compile(
    r"^(?:alo |a lo |oi )?(?:co )?ai (?:(?:o do|do|o day|truc|tra loi|ho tro|giup)(?: (?:minh|toi|em))? )?"
    rf"(?:khong|ko|k|hong|hok){_POLITE}$"
)
# The whole message is only the helper («người hỗ trợ», «hỗ trợ trực tiếp», «tình nguyện viên ơi»).
_ALONE = re.compile(rf"^(?:toi |em |minh )?(?:{_HELPER})(?: oi| a| voi)?$")
_MAX_WORDS = 16  # a long message that mentions a volunteer is a question, not a call for one


def asks_for_person(text: str) -> bool:
    """True when the text asks to be put in touch with a human helper."""
    words = fold_words(text)
    if not words or words.count(" ") >= _MAX_WORDS:
        return False
    return bool(
        _ALONE.match(words)
        or _ANYONE.match(words)
        or _VI.search(words)
        or _VI_END.search(words)
        or _EN.search(words)
    )
