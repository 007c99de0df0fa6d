"""Checking one row of the export: dates, code, status, mode; a RowError names what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from services.dossiers.codes import CODE, parse_code
from services.dossiers.import_.profiles import FIELDS, Profile
from services.dossiers.records import CLOSED, FINISHING, Mode, Status
from services.text import fold

_EXCEL_EPOCH = datetime(1899, 12, 30)
# Statuses that say the dossier was resolved: the KPI counts it resolved (and on time or late) by
# its result date, so such a row without one is refused rather than stored as never resolved.
NEEDS_RESULT_DATE = FINISHING | {Status.RETURNED}
FINISHED_POS = FIELDS.index("finished")


class RowError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


_MIDNIGHT = time(0, 0)
_END_OF_DAY = time(23, 59, 59)
_MORNING = time(8, 0)


def parse_when(value: Any, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime | None:
    """An Excel date, an Excel serial number, or 'dd/mm/yyyy[ HH:MM[:SS]]' / 'yyyy-mm-dd' text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        if end_of_day and local.time() == _MIDNIGHT:
            local = local.replace(hour=23, minute=59, second=59)
        return local
    if isinstance(value, date):
        return datetime.combine(value, _END_OF_DAY if end_of_day else _MORNING, tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise RowError("nhap.row.bad_date", value=str(value))
        naive = _EXCEL_EPOCH + timedelta(days=float(value))
        return parse_when(naive, tz, end_of_day=end_of_day)
    text = str(value).strip()
    day_part, _, time_part = text.partition(" ")
    try:
        day = _parse_day(day_part)
        time_part = time_part.strip()
        if time_part:
            clock = _parse_clock(time_part)
            if not (end_of_day and clock == _MIDNIGHT):
                return datetime.combine(day, clock, tz)
    except (ValueError, TypeError):
        raise RowError("nhap.row.bad_date", value=text[:20]) from None
    return datetime.combine(day, _END_OF_DAY if end_of_day else _MORNING, tz)


# An export repeats the same days and clock times: parse each text once.
@lru_cache(maxsize=4096)
def _parse_day(text: str) -> date:
    if "-" in text and len(text.split("-")[0]) == 4:
        y, m, d = (int(x) for x in text.split("-"))
    else:
        d, m, y = (int(x) for x in text.replace("-", "/").replace(".", "/").split("/"))
    if y < 100:
        y += 2000
    return date(y, m, d)


@lru_cache(maxsize=4096)
def _parse_clock(text: str) -> time:
    hms = [int(x) for x in text.split(":")]
    hms += [0] * (3 - len(hms))
    return time(hms[0], hms[1], hms[2])


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    code: str
    unit_code: str | None
    values: dict[str, Any]


# The compared columns, in the order of the values tuple a parsed row carries.
COMPARED = (
    "procedure_name",
    "procedure_code",
    "mode",
    "received_at",
    "due_at",
    "finished_at",
    "status",
    "post_return",
)
DATE_POS = frozenset({3, 4, 5})
STATUS_POS = 6
_CACHE_MAX = 4096
_MISSING: Any = object()


def _clean(value: Any) -> Any:
    """Strip text; a whole float is an int (calamine reads 19786 as 19786.0, openpyxl as 19786)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if type(value) is date:  # calamine gives a date-only cell as a date, openpyxl as midnight
        return datetime(value.year, value.month, value.day)
    return value


class RowParser:
    """parse_row's checks with the column positions and value look-ups prepared once per file."""

    def __init__(
        self, mapping: dict[str, int], profile: Profile, tz: ZoneInfo, now: datetime | None = None
    ) -> None:
        self.positions = [mapping.get(f) for f in FIELDS]
        self.profile = profile
        self.tz = tz
        # Nothing can have happened after today (the rest of today in local time is allowed: the
        # one-stop server's clock and ours need not agree to the minute).
        self.tomorrow = None if now is None else _start_of_next_day(now, tz)
        self.statuses: dict[str, Status | None] = {}
        self.modes: dict[str, Mode | None] = {}
        self.posts: dict[Any, bool] = {}

    def parse(self, cells: list[Any]) -> tuple[str, str | None, tuple[Any, ...]]:
        """(code, unit code or None, values in COMPARED order); RowError for a bad row."""
        width = len(cells)
        raw = [cells[c] if c is not None and c < width else None for c in self.positions]
        # Text and datetimes (most cells) inline; the rest through _clean.
        code_, name, proc_code, received_, due_, finished_, status_, mode_, unit, post = [
            v.strip() if v.__class__ is str else v if v is None or v.__class__ is datetime else _clean(v)
            for v in raw
        ]
        if code_ is None or code_ == "":
            raise RowError("nhap.row.no_code")
        typed = str(code_)
        # Most codes are already written as stored: skip parse_code's clean-up for them.
        code = typed.upper() if len(typed) <= 80 and CODE.match(typed.upper()) else parse_code(typed)
        if code is None:
            raise RowError("nhap.row.bad_code", value=str(code_)[:40])
        if not name:
            raise RowError("nhap.row.no_procedure")
        tz = self.tz
        received = parse_when(received_, tz)
        if received is None:
            raise RowError("nhap.row.no_received")
        due = parse_when(due_, tz, end_of_day=True)
        finished = parse_when(finished_, tz)
        if due is not None and due < received - timedelta(days=1):
            raise RowError("nhap.row.due_before_received")
        tomorrow = self.tomorrow
        if tomorrow is not None:
            if received >= tomorrow:
                raise RowError("nhap.row.received_in_future", value=_day(received, tz))
            if finished is not None and finished >= tomorrow:
                raise RowError("nhap.row.finished_in_future", value=_day(finished, tz))
        # By calendar day: a date-only cell reads as midnight (or 08:00) while the received time
        # may carry its clock, so a same-day result can look hours "early".
        if finished is not None and finished.astimezone(tz).date() < received.astimezone(tz).date():
            raise RowError(
                "nhap.row.finished_before_received",
                finished=_day(finished, tz),
                received=_day(received, tz),
            )
        if status_ is not None and status_ != "":
            status = self._lookup(self.statuses, self.profile.statuses, status_)
            if status is None:
                raise RowError("nhap.row.bad_status", value=str(status_)[:40])
            if finished is not None and status not in CLOSED:
                raise RowError("nhap.row.finished_not_closed", value=str(status_)[:40])
            if finished is None and status in NEEDS_RESULT_DATE:
                no_column = self.positions[FINISHED_POS] is None
                key = "nhap.row.closed_no_date_column" if no_column else "nhap.row.closed_no_date"
                raise RowError(key, value=str(status_)[:40])
        else:
            status = Status.RESULT_READY if finished else Status.RECEIVED
        if mode_ is not None and mode_ != "":
            mode = self._lookup(self.modes, self.profile.modes, mode_)
            if mode is None:
                raise RowError("nhap.row.bad_mode", value=str(mode_)[:40])
        else:
            mode = Mode.COUNTER
        post_return = self.posts.get(post, _MISSING)
        if post_return is _MISSING:
            post_return = post is not None and fold(str(post)) in self.profile.yes
            if len(self.posts) < _CACHE_MAX:
                self.posts[post] = post_return
        values = (
            str(name)[:300],
            str(proc_code)[:60] if proc_code else None,
            mode.value,
            received,
            due,
            finished,
            status.value,
            post_return,
        )
        return code, str(unit) if unit is not None and unit != "" else None, values

    @staticmethod
    def _lookup(cache: dict[str, Any], table: dict[str, Any], raw: Any) -> Any:
        key = str(raw)
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            found = table.get(" ".join(fold(key).split()))
            if len(cache) < _CACHE_MAX:
                cache[key] = found
        return found


# A total or footer line of the export: «Tổng cộng: 8 hồ sơ», «Tổng số: 8», «Cộng: 8», «Total».
_TOTAL_WORDS = ("tong cong", "tong so", "total")
_SHORT_TOTAL_WORDS = ("tong:", "tong ", "cong:", "cong ")
# A real row needs a code, a procedure and a received date (3 cells): a line of at most 2 filled
# cells can never be imported.
_FOOTER_MAX_CELLS = 2


def is_footer(cells: list[Any]) -> bool:
    """A total / footer line (skipped and counted apart, not refused): its first filled cell is a
    total word — a real row's is its number or its code."""
    filled = [c for c in cells if c is not None and not (isinstance(c, str) and not c.strip())]
    if not filled or not isinstance(filled[0], str):
        return False
    first = " ".join(fold(filled[0]).split()) + " "
    if first.startswith(_TOTAL_WORDS):
        return True
    return len(filled) <= _FOOTER_MAX_CELLS and first.startswith(_SHORT_TOTAL_WORDS)


def _start_of_next_day(now: datetime, tz: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), _MIDNIGHT, tz)


def _day(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%d/%m/%Y")


def parse_row(
    n: int,
    cells: list[Any],
    mapping: dict[str, int],
    profile: Profile,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> ParsedRow:
    code, unit, values = RowParser(mapping, profile, tz, now).parse(cells)
    return ParsedRow(n, code, unit, dict(zip(COMPARED, values, strict=True)))
