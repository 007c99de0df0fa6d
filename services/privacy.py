"""One personal-data filter for everything shown to someone else or stored for statistics:
citizen ID numbers (CCCD, 12 digits; old CMND, 9), phone numbers however they are written
(spaces, dots, dashes, slashes, «(+84)», «84…»), e-mail addresses (but a State body's, under
gov.vn). And a per-person limit on dossier look-ups of distinct codes (sequential codes made
enumeration trivial: 15 guesses in 1.4 s)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditLog

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# A run of digit groups, as people write numbers: «0912 345 678», «0912/345/678», «046-201-001-234»,
# «(024) 3826 1234», «(+84) 905 123 456», «+84 (0) 905…». One separator between two groups: a space or
# two, or one of . - / – with a space on either side at most; a «)» may close an area code. Which part
# of a run is a phone or an ID number is decided group by group (`_hide_in_run`), so that dates,
# sums of money and counts sharing the run's shape are told apart.
_HS = r"[^\S\r\n]"  # a space on the same line (no-break space too)
_SEP = rf"(?:\)?{_HS}?[./\-\u2013]{_HS}?|\)?{_HS}{{1,2}}|\))"
_PREFIX = rf"(?:\({_HS}?\+{_HS}?84{_HS}?\)|\+{_HS}?84|\(?00{_HS}?84\)?)(?:{_SEP}?\(0\))?{_SEP}?"
# (The lookahead first: most positions of a text are none of these, and are passed at once.)
NUMBER_RUN = re.compile(rf"(?=[\d(+])(?<![\d+])(?P<prefix>{_PREFIX})?\(?\d+(?:{_SEP}\d+)*")
_GROUP = re.compile(r"\d+")
LOOKUP_LIMIT = 10
LOOKUP_WINDOW = timedelta(minutes=10)
_HIDDEN = "[…]"
# Mobile numbers are 0 + 9 digits (03x, 05x, 07x, 08x, 09x); landlines 0 + 10 (02x since 2017), as
# were the old 11-digit mobiles (01x…). Hotlines (1900…, 1800…) and 113/114/115 have no leading 0.
_PHONE_LENGTH = {"3": 10, "5": 10, "7": 10, "8": 10, "9": 10, "2": 11, "1": 11}


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
    return NUMBER_RUN.sub(lambda m: _hide_in_run(m, mask), text)


def _ascii(group: str) -> str:
    """`\\d` is any script's decimals: «٠٩٠٥…» is a phone too."""
    return group if group.isascii() else "".join(str(unicodedata.decimal(c)) for c in group)


def _is_phone(d: str, prefixed: bool) -> bool:
    """`d`: the digits of consecutive groups; `prefixed`: «+84», «(+84)» or «0084» came before them."""
    if prefixed:
        national = d[1:] if d.startswith("0") else d  # «+84 (0) 905…», «+84 0905…»
        return len(national) in (9, 10) and national[0] != "0"
    if d.startswith("84") and len(d) in (11, 12):  # «84912345678»: the + left out
        return d[2] != "0"
    return d[:1] == "0" and _PHONE_LENGTH.get(d[1:2]) == len(d)


def _is_id(d: str, groups: list[str]) -> bool:
    """9 or 12 digits, unbroken or in groups of three or more («046 201 001 234», «0462 0100 1234»);
    a run of small numbers («120 80 30 100 95») is no ID."""
    return len(d) in (9, 12) and (len(groups) == 1 or all(len(g) >= 3 for g in groups))


def _is_date(groups: list[str], seps: list[str]) -> bool:
    """A date among the groups: «09/12», «09/12/2026», «01.12.2026», «2026-12-01» («09/12/2026 10:30»
    is ten digits from a 0, the shape of a mobile number)."""
    for k in range(len(groups) - 1):
        a, b, sep = groups[k], groups[k + 1], seps[k].strip()
        if sep == "/" and len(a) <= 2 and len(b) <= 2 and 1 <= int(a) <= 31 and 1 <= int(b) <= 12:
            return True
        if k + 2 < len(groups) and sep in (".", "-", "/") and seps[k + 1].strip() == sep:
            c = groups[k + 2]
            if len(a) <= 2 and len(b) <= 2 and len(c) == 4 and int(b) <= 12:
                return True
            if len(a) == 4 and len(b) <= 2 and len(c) <= 2 and int(b) <= 12:
                return True
    return False


def _thousands(groups: list[str], seps: list[str]) -> bool:
    """Written like a sum of money: «1.500.000», «120 500 000», one kind of separator."""
    return (
        len(groups) >= 2
        and len(groups[0]) <= 3
        and all(len(g) == 3 for g in groups[1:])
        and (all(s == "." for s in seps) or all(s == " " for s in seps))
    )


def _counts(groups: list[str], seps: list[str]) -> bool:
    """A list of counts («/baocao 250 180 100 230 95 3 45 20»): five numbers or more, one space
    apart, none with a leading zero or over four digits. Its three-digit neighbours are no ID; a
    phone (leading 0) cannot hide in it."""
    return (
        len(groups) >= 5
        and all(s == " " for s in seps)
        and all(len(g) <= 4 and (len(g) == 1 or int(g[0]) != 0) for g in groups)
        and any(len(g) > 1 for g in groups)
    )


def _hidden_groups(groups: list[str], seps: list[str], prefixed: bool) -> list[tuple[int, int]]:
    """(first, last) of each stretch of consecutive groups that is a phone or an ID number."""
    digits = [_ascii(g) for g in groups]
    if len(groups) == 1:  # «(0905123456», «+84905123456»
        return [(0, 0)] if _is_phone(digits[0], prefixed) or _is_id(digits[0], groups) else []
    if not prefixed and _thousands(groups, seps):
        # Only the whole, and only when no amount: a sum ends in 000 («500.000.000 đồng»), a 12-digit
        # CCCD starts with its province code 0xx; a CMND in groups is kept whole («191.234.567»),
        # never found inside a larger sum («1.191.234.567 đồng»).
        d = "".join(digits)
        money = d.endswith("000") or (len(d) == 12 and d[0] != "0")
        return [] if money or not (_is_phone(d, False) or _is_id(d, groups)) else [(0, len(groups) - 1)]
    counts = _counts(groups, seps)
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        best, d = None, ""
        for j in range(i, len(groups)):
            d += digits[j]
            if len(d) > 14:
                break
            if len(d) < 9:  # nothing shorter is hidden (what `_nothing_to_hide` relies on)
                continue
            number = _is_phone(d, prefixed and i == 0) or (not counts and _is_id(d, groups[i : j + 1]))
            if number and not _is_date(groups[i : j + 1], seps[i:j]):
                best = j  # the longest: «0912 345 678 901» is hidden whole
        if best is None:
            i += 1
            continue
        found.append((i, best))
        i = best + 1
    return found


def _hide_in_run(m: re.Match[str], mask: str) -> str:
    run = m.group(0)
    if sum(map(str.isdecimal, run)) < 9:  # most runs: a count, a time, a price (as in `redact`)
        return run
    if run.isdecimal():  # unbroken, the most common: no date, sum or list to tell apart
        d = _ascii(run)
        return mask if _is_phone(d, False) or _is_id(d, [d]) else run
    base = m.end("prefix") - m.start() if m.group("prefix") else 0
    spans = [g.span() for g in _GROUP.finditer(run, base)]
    groups = [run[a:b] for a, b in spans]
    seps = [run[spans[k][1] : spans[k + 1][0]] for k in range(len(spans) - 1)]
    out, last = [], 0
    for i, j in _hidden_groups(groups, seps, bool(base)):
        # From the run's start when it is the number's: the prefix, or «(» of «(024) 3826 1234».
        start = 0 if i == 0 and (base or (run[0] == "(" and seps[:1] and seps[0][0] == ")")) else spans[i][0]
        out += [run[last:start], mask]
        last = spans[j][1]
    out.append(run[last:])
    return "".join(out)


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
