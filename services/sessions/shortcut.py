"""The one-line shortcut volunteers type ("/ghi dvc nha 2ng t3 H12.34-241120-0001"): unaccented
aliases, dates, head counts, and notes that must not carry an ID or phone number."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from services import privacy
from services.dossiers.codes import parse_code
from services.errors import InvalidInput
from services.sessions.values import MAX_CITIZENS, Activity, Outcome, Place, SessionDraft
from services.text import fold

_T = TypeVar("_T")

# Unaccented aliases for the shortcut (folded, spaces removed).
ACTIVITY_ALIASES: dict[str, Activity] = {
    **{a: Activity.DVC for a in ("dvc", "dichvucong", "dvctt", "hoso", "tthc", "congdvc")},
    **{a: Activity.VNEID for a in ("vneid", "vneld", "dddt", "dinhdanh", "kichhoat")},
    **{a: Activity.PAYMENT for a in ("tt", "thanhtoan", "vi", "vidientu", "nganhang", "bank", "payment")},
    **{a: Activity.SIGNATURE for a in ("cks", "chukyso", "kyso", "signature")},
    **{a: Activity.APP for a in ("app", "ungdung", "caiapp", "caidat")},
    **{a: Activity.SAFETY for a in ("antoan", "attt", "luadao", "baomat", "safety")},
    **{a: Activity.SHOPPING for a in ("muasam", "ms", "shopping", "muahang")},
    **{a: Activity.OTHER for a in ("khac", "other")},
}
PLACE_ALIASES: dict[str, Place] = {
    **{a: Place.HOME for a in ("nha", "tainha", "home")},
    **{a: Place.COUNTER for a in ("quay", "motcua", "1cua", "taiquay", "counter")},
    **{a: Place.PHONE for a in ("dt", "dienthoai", "phone", "goi")},
    **{a: Place.MOBILE for a in ("luudong", "ld", "mobile")},
    **{a: Place.ONLINE for a in ("online", "tructuyen", "zalo", "mang")},
}
OUTCOME_ALIASES: dict[str, Outcome] = {
    **{a: Outcome.DONE for a in ("xong", "ok", "done", "dat", "thanhcong")},
    **{a: Outcome.FOLLOWUP for a in ("tiep", "theodoi", "henlai", "followup", "chua", "chuaxong")},
    **{a: Outcome.FAILED for a in ("khong", "khongduoc", "loi", "that bai", "thatbai", "failed", "ko")},
}
_WEEKDAYS = {
    **{k: 0 for k in ("t2", "thu2", "thuhai")},
    **{k: 1 for k in ("t3", "thu3", "thuba")},
    **{k: 2 for k in ("t4", "thu4", "thutu")},
    **{k: 3 for k in ("t5", "thu5", "thunam")},
    **{k: 4 for k in ("t6", "thu6", "thusau")},
    **{k: 5 for k in ("t7", "thu7", "thubay")},
    **{k: 6 for k in ("cn", "chunhat")},
}
_COUNT = re.compile(r"^(\d{1,6})(?:ng|nguoi)?$")  # 1000 too: check_citizens says the range
_DDMM = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?$")


def _compact(token: str) -> str:
    return fold(token).replace(" ", "")


def parse_day(token: str, today: date, backdate_days: int) -> date | None:
    """'hôm qua', 'hôm nay', a weekday (thứ 2…chủ nhật, t2…cn) or dd/mm[/yyyy]; None if not a date.

    Raises InvalidInput for a date that is impossible, in the future or too old."""
    t = _compact(token)
    day: date | None = None
    if t in ("homnay", "nay"):
        day = today
    elif t in ("homqua", "qua"):
        day = today - timedelta(days=1)
    elif t == "homkia":
        day = today - timedelta(days=2)
    elif t in _WEEKDAYS:
        day = today - timedelta(days=(today.weekday() - _WEEKDAYS[t]) % 7)
    else:
        m = _DDMM.match(t)
        if not m:
            return None
        d, mo = int(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else today.year
        if year < 100:
            year += 2000
        try:
            day = date(year, mo, d)
        except ValueError:
            raise InvalidInput("ghi.errors.bad_date", value=token) from None
        # No year: a date up to a month ahead is a future date (refused as such below); further
        # ahead it is last year's (31/12 typed on 2 January).
        if not m.group(3) and (day - today).days > 31:
            day = date(year - 1, mo, d) if (mo, d) != (2, 29) else day
    if day > today:
        raise InvalidInput("ghi.errors.future_date")
    if (today - day).days > backdate_days:
        raise InvalidInput("ghi.errors.too_old", days=backdate_days)
    return day


def check_note(note: str) -> str | None:
    """A note without personal data, or InvalidInput; empty → None."""
    text = note.strip()
    if not text:
        return None
    if len(text) > 500:
        raise InvalidInput("ghi.errors.note_too_long")
    if privacy.contains_personal_data(text):
        raise InvalidInput("ghi.errors.note_personal")
    return text


def _take(tokens: list[str], start: int, aliases: Mapping[str, _T]) -> tuple[_T | None, int]:
    """The alias spelled by 3, 2 or 1 tokens from `start` ("dich vu cong", "dien thoai", "nha")."""
    for width in (3, 2, 1):
        if start + width <= len(tokens):
            found = aliases.get("".join(_compact(t) for t in tokens[start : start + width]))
            if found is not None:
                return found, width
    return None, 0


def parse_shortcut(args: str, today: date, backdate_days: int) -> SessionDraft:
    """`<what> <where> [số người] [kết quả] [ngày] [mã hồ sơ]`; optional parts in any order."""
    tokens = args.split()
    if len(tokens) < 2:
        raise InvalidInput("ghi.errors.shortcut_short")
    activity, used = _take(tokens, 0, ACTIVITY_ALIASES)
    if activity is None:
        raise InvalidInput("ghi.errors.bad_activity", value=tokens[0][:30])
    place, used_place = _take(tokens, used, PLACE_ALIASES)
    if place is None:
        value = tokens[used] if used < len(tokens) else ""
        raise InvalidInput("ghi.errors.bad_place", value=value[:30])
    draft = SessionDraft(activity, place)
    rest = tokens[used + used_place :]
    i = 0
    while i < len(rest):
        tok = rest[i]
        pair = " ".join(rest[i : i + 2])
        # Two-word dates: "hôm qua", "thứ 2", "chủ nhật".
        if (
            i + 1 < len(rest)
            and not tok[0].isdigit()
            and (day := parse_day(pair, today, backdate_days)) is not None
        ):
            draft = replace(draft, day=day)
            i += 2
            continue
        c = _compact(tok)
        count = _COUNT.match(c)
        if c in ("nguoi", "ng"):
            pass
        elif count:
            draft = replace(draft, citizens=check_citizens(count.group(1)))
        elif c in OUTCOME_ALIASES:
            draft = replace(draft, result=OUTCOME_ALIASES[c])
        elif (day := parse_day(tok, today, backdate_days)) is not None:
            draft = replace(draft, day=day)
        elif (code := parse_code(tok)) is not None:
            draft = replace(draft, dossier_code=code)
        else:
            raise InvalidInput("ghi.errors.bad_token", value=tok[:30])
        i += 1
    return draft


def check_citizens(text: str) -> int:
    t = text.strip()
    if not t.isdigit():
        raise InvalidInput("ghi.errors.bad_count")
    n = int(t)
    if not 1 <= n <= MAX_CITIZENS:
        raise InvalidInput("ghi.errors.bad_count")
    return n


def occurred_at(day: date | None, now: datetime, tz: ZoneInfo) -> datetime:
    """Now for today; otherwise noon of that local day (the time of a late entry is unknown)."""
    if day is None or day == now.astimezone(tz).date():
        return now
    return datetime.combine(day, time(12, 0), tz)
