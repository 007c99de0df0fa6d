"""One personal-data filter for everything shown to someone else or stored for statistics:
citizen ID numbers (CCCD, 12 digits; old CMND, 9), phone numbers however they are spaced or
dotted, e-mail addresses (but a State body's, under gov.vn). And a per-person limit on dossier
look-ups of distinct codes (sequential codes made enumeration trivial: 15 guesses in 1.4 s)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditLog

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# +84 / 84 / 0 and nine more digits, any of them separated by a space, dot or dash.
PHONE = re.compile(r"(?<![\w])(?:\+\s?84|84|0)(?:[\s.\-]?\d){8,10}(?![\w])")
# A 12-digit CCCD however spaced; a 9-digit CMND unbroken or in three groups («191.234.567»,
# «191 234 567») — but a sum of money has that shape too («500.000.000 đồng»): three groups
# ending in 000 are kept (a CMND ending in 000 is one in a thousand; an amount ending otherwise is
# rarely written to the đồng).
ID_NUMBER = re.compile(
    r"(?<!\d)(?:\d[\s.]?){11}\d(?!\d)|(?<!\d)\d{9}(?!\d)"
    r"|(?<!\d)(?<!\d[\s.])\d{3}([\s.])\d{3}\1(?!000(?![\d]))\d{3}(?![\d]|[\s.]\d)"
)
LOOKUP_LIMIT = 10
LOOKUP_WINDOW = timedelta(minutes=10)
_HIDDEN = "[…]"


# A dossier code (`000.00.19786.H46-260324-000003`) is not personal data and must survive intact;
# the same shape as services.dossiers._CODE_IN_TEXT.
DOSSIER_CODE = re.compile(
    r"(?<![\w.])(?=[0-9.]*[A-Za-z])[A-Za-z0-9]{1,8}(?:\.[A-Za-z0-9]{1,8}){0,5}-\d{6}-\d{3,6}(?![\w-])"
)


# A public office's mailbox (`motcua.thuanhoa@hue.gov.vn`) is what volunteers send citizens to:
# State bodies' addresses are under gov.vn, which no person gets for themselves.
_PUBLIC_MAIL_DOMAIN = re.compile(r"@(?:[\w-]+\.)*gov\.vn$", re.IGNORECASE)


def _redact_part(text: str, mask: str) -> str:
    if "@" in text:
        text = EMAIL.sub(lambda m: m.group(0) if _PUBLIC_MAIL_DOMAIN.search(m.group(0)) else mask, text)
    text = ID_NUMBER.sub(mask, text)  # before phones: a spaced CCCD starts like a phone number
    return PHONE.sub(mask, text)


def _nothing_to_hide(text: str) -> bool:
    """True when no pattern can match: an e-mail needs an @, an ID number or a phone number at
    least nine digits (what `\\d` matches: Unicode decimals). Every log line and most messages
    pass here, and the full scan cost ~40–80 µs a line (docs/benchmarks.md, "Update cost")."""
    return "@" not in text and sum(map(str.isdecimal, text)) < 9


def redact(text: str, mask: str = _HIDDEN) -> str:
    """The text with every e-mail, phone number and ID number replaced by `mask` (dossier codes,
    which look like long numbers, are kept)."""
    if _nothing_to_hide(text):
        return text
    return _redact_all(text, mask)


def _redact_all(text: str, mask: str = _HIDDEN) -> str:
    out, last = [], 0
    for m in DOSSIER_CODE.finditer(text) if "-" in text else ():
        out += [_redact_part(text[last : m.start()], mask), m.group(0)]
        last = m.end()
    out.append(_redact_part(text[last:], mask))
    return "".join(out)


def contains_personal_data(text: str) -> bool:
    return redact(text) != text


# Every dossier look-up runs it: built once, with bound parameters. One statement: the counted
# look-ups in the window, and whether this code is among them.
_LOOKUPS_SINCE = select(
    func.count(),
    func.count(case((AuditLog.target == bindparam("code"), 1))),
).where(
    AuditLog.action == "dossier.lookup",
    AuditLog.actor_id == bindparam("person_id"),
    AuditLog.at >= bindparam("since"),
)


async def lookup_allowed(session: AsyncSession, person_id: int, now: datetime, code: str) -> bool:
    """Count this look-up (audit-logged) and say whether the person is within the limit. The limit
    is on distinct codes: enumerating other people's dossiers needs new codes, while checking again
    a code already looked up in the window tells nothing new, so it is neither counted nor refused."""
    params = {"person_id": person_id, "since": now - LOOKUP_WINDOW, "code": code}
    done, same = (await session.execute(_LOOKUPS_SINCE, params)).one()
    if same:
        return True
    if done >= LOOKUP_LIMIT:
        return False
    session.add(AuditLog(actor_id=person_id, action="dossier.lookup", target=code, details={}, at=now))
    return True
