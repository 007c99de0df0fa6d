"""Targets per unit, indicator and period (quarter "2026-Q4" or year "2026"), inherited from the
nearest ancestor that has one; count targets are spread over shorter periods by days."""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import core as core_repo
from db.repositories import kpi as repo
from db.repositories.kpi.base import UnitRow
from services.access import Action, Actor
from services.errors import InvalidInput, NotFound
from services.kpi.periods import Period, parse_period, period_of, said_period
from services.kpi.settings import IndicatorDef, KpiSettings

# The CSV's columns, in the order the docs give them (and the error names them).
CSV_COLUMNS = ("unit_code", "indicator", "period", "target")


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    errors: list[tuple[int, str, dict[str, object]]]  # (line, catalog key, parameters)


def ancestors(unit: UnitRow) -> list[int]:
    """Ids from the unit itself up to the root (nearest first)."""
    return [int(x) for x in reversed(unit.path.strip("/").split("/")) if x]


def target_periods(period: Period) -> list[Period]:
    """Where to look for a target of `period`, in order: its own quarter/year, then the year."""
    if period.kind == "year":
        return [period]
    return [period_of("quarter", period.start), period_of("year", period.start)]


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", " ".join(text.strip().lower().split())).replace("đ", "d")
    return "".join(c for c in text if not unicodedata.combining(c))


def indicator_matches(settings: KpiSettings, text: str) -> list[IndicatorDef]:
    """The indicators `text` names: its id, or its Vietnamese or English name, with or without
    diacritics; else every indicator whose name has all these words (several: the person chooses)."""
    want = _fold(text).replace("_", " ")
    if not want:
        return []
    names = {
        ind.id: [_fold(ind.id).replace("_", " "), _fold(ind.name_vi), _fold(ind.name_en)]
        for ind in settings.indicators
    }
    exact = [i for i, ns in names.items() if want in ns]
    if len(exact) == 1:
        return [settings.indicator(exact[0])]
    words = want.split()
    close = [i for i, ns in names.items() if any(all(w in n.split() for w in words) for n in ns)]
    return [settings.indicator(i) for i in close]


def find_indicator(settings: KpiSettings, text: str) -> IndicatorDef:
    """The one indicator `text` names (indicator_matches); none or several: InvalidInput."""
    found = indicator_matches(settings, text)
    if len(found) != 1:
        raise InvalidInput("kpi.errors.unknown_indicator", indicator=text)
    return found[0]


MAX_TARGET = 10_000_000  # above any count a unit reports in a quarter or a year
MAX_SCORE = 5  # the satisfaction score is 1–5 stars


_QUARTER = r"(?:quy|q)\s*(iv|iii|ii|i|[1-4])"
_YEAR = r"(?:\s*[/-]\s*|\s+(?:nam\s+)?)(\d{4})"


def parse_target_period(text: str, today: date | None = None) -> str:
    """'2026-Q4', 'Quý IV/2026', 'quy 4/2026', 'Q4/2026', '2026', 'năm 2026' → '2026-Q4' / '2026';
    with `today`, also 'quý 4' (this year's), 'tháng 11', 'năm nay', 'quý này', 'quý trước'.
    Anything else comes back as typed (stripped)."""
    t = _fold(text)
    if m := re.fullmatch(_QUARTER + _YEAR, t):
        q = _ROMAN.get(m.group(1)) or int(m.group(1))
        return f"{m.group(2)}-Q{q}"
    if m := re.fullmatch(r"(?:nam\s*)?(\d{4})", t):
        return m.group(1)
    if today is not None:
        if m := re.fullmatch(_QUARTER, t):
            return f"{today.year}-Q{_ROMAN.get(m.group(1)) or int(m.group(1))}"
        if (m := re.fullmatch(r"thang\s*(\d{1,2})(?:" + _YEAR + ")?", t)) and 1 <= int(m.group(1)) <= 12:
            return f"{m.group(2) or today.year}-{int(m.group(1)):02d}"
        if (said := said_period(t, today)) is not None:
            return said.key
    return text.strip()


def is_target_period(text: str, today: date) -> bool:
    """`text` reads as a period (of any kind: a month is refused later, by name)."""
    try:
        parse_period(parse_target_period(text, today))
    except InvalidInput:
        return False
    return True


# A number as Vietnamese writes it: «12.000» is twelve thousand (the bot prints it so, and /baocao
# reads it so), «72,5» is seventy-two and a half. Groups of three set apart by one and the same mark
# are thousands; one mark followed by other than three digits (or after a leading 0) is a decimal.
_THOUSANDS = re.compile(r"[1-9]\d{0,2}([.,\s])\d{3}(?:\1\d{3})*")
_PLAIN = re.compile(r"\d+")
_FRACTION = re.compile(r"(\d+)[.,](\d+)")


def parse_value(text: str, indicator: IndicatorDef | None = None) -> float:
    """A target as typed: a count is a whole number («12.000» = 12000; «0,5» refused with what to
    type), a rate or score may have decimals («72,5», «4.5»)."""
    t = text.strip().removesuffix("%").strip()
    if _PLAIN.fullmatch(t) or _THOUSANDS.fullmatch(t):
        value = float(re.sub(r"\D", "", t))
    elif m := _FRACTION.fullmatch(t):
        if indicator is not None and indicator.unit == "count":
            raise InvalidInput(
                "kpi.errors.target_not_whole",
                value=text.strip(),
                indicator=indicator.name_vi,  # the handler puts the name in the person's language
            )
        value = float(f"{m.group(1)}.{m.group(2)}")
    else:  # «nan», «inf», «1e308», «-5», words
        raise InvalidInput("kpi.errors.bad_target", value=text)
    if not math.isfinite(value) or value > MAX_TARGET:
        raise InvalidInput("kpi.errors.bad_target", value=text)
    return value


def target_period_key(period_text: str, today: date | None = None) -> str:
    """The key of the quarter or year `period_text` names; a week or a month is refused by name."""
    period = parse_period(parse_target_period(period_text, today))
    if period.kind not in ("quarter", "year"):
        raise InvalidInput("kpi.errors.target_period", value=period_text)
    return period.key


def _check(
    settings: KpiSettings,
    indicator: str,
    period_text: str,
    value: float,
    typed: str | None,
    today: date | None = None,
) -> str:
    ind = settings.indicator(indicator)
    key = target_period_key(period_text, today)
    if (ind.unit == "percent" and value > 100) or (ind.unit == "score" and value > MAX_SCORE):
        # Echo what was typed («160»), not the float («160.0»).
        raise InvalidInput("kpi.errors.bad_target", value=typed if typed is not None else f"{value:g}")
    return key


async def target_unit(session: AsyncSession, actor: Actor, unit_code: str) -> UnitRow:
    """The unit `unit_code`, when the actor may set its targets."""
    unit = await repo.unit_by_code(session, unit_code)
    if unit is None:
        raise NotFound("errors.unit_not_found", code=unit_code)
    # A leader, of another unit: say so, not who else could do it.
    key = "kpi.errors.target_out_of_scope"
    actor.require_in_scope(Action.SET_TARGETS, unit.path, key, unit=unit.name, code=unit.code)
    return unit


async def set_target(
    session: AsyncSession,
    actor: Actor,
    settings: KpiSettings,
    unit_code: str,
    indicator: str,
    period_text: str,
    value: float,
    typed: str | None = None,
    today: date | None = None,
) -> tuple[UnitRow, str]:
    """A leader sets a target for a unit in scope; returns (unit, period key). `typed` is the
    value as the person wrote it, for the refusal; `today` reads periods said in words."""
    unit = await target_unit(session, actor, unit_code)
    key = _check(settings, indicator, period_text, value, typed, today)
    await repo.upsert_target(session, unit.id, indicator, key, value, actor.person_id)
    await core_repo.audit(
        session, actor.person_id, "kpi.target", f"unit:{unit.code}", {"indicator": indicator, "period": key}
    )
    return unit, key


async def import_csv(session: AsyncSession, data: str, settings: KpiSettings) -> ImportResult:
    """CSV `unit_code,indicator,period,target` (administrators, from the CLI). All or nothing."""
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    if not reader.fieldnames or not set(CSV_COLUMNS) <= {f.strip() for f in reader.fieldnames}:
        return ImportResult(0, [(1, "web.targets.csv_header", {"columns": ",".join(CSV_COLUMNS)})])
    rows: list[tuple[int, str, str, float]] = []
    errors: list[tuple[int, str, dict[str, object]]] = []
    for n, raw in enumerate(reader, start=2):
        r = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        try:
            unit = await repo.unit_by_code(session, r["unit_code"])
            if unit is None:
                raise NotFound("errors.unit_not_found", code=r["unit_code"])
            ind = settings.indicator(r["indicator"]) if r["indicator"] in settings.ids else None
            value = parse_value(r["target"], ind)
            key = _check(settings, r["indicator"], r["period"], value, r["target"])
            rows.append((unit.id, r["indicator"], key, value))
        except (InvalidInput, NotFound) as exc:
            errors.append((n, exc.key, dict(exc.params)))
    if not rows and not errors:
        errors.append((1, "web.targets.csv_empty", {}))
    if errors:
        return ImportResult(0, errors)
    for unit_id, indicator, key, value in rows:
        await repo.upsert_target(session, unit_id, indicator, key, value, None)
    return ImportResult(len(rows), [])


async def effective(
    session: AsyncSession, units: list[UnitRow], period: Period, settings: KpiSettings
) -> dict[tuple[int, str], float]:
    """(unit id, indicator) → target for `period`: own or nearest ancestor's, quarter before year;
    count targets scaled to the period's length. One query for all units.

    Rates and scores are inherited from the parent; counts are not: a province's "2,000 help
    sessions" is the sum of its communes' work, not what each commune must do."""
    lookups = target_periods(period)
    all_ids = sorted({a for u in units for a in ancestors(u)})
    rows = await repo.targets_for(session, all_ids, [p.key for p in lookups])
    table = {(u, i, p): t for u, i, p, t in rows}
    out: dict[tuple[int, str], float] = {}
    for unit in units:
        chain = ancestors(unit)
        for ind in settings.indicators:
            own = chain[:1] if ind.unit == "count" else chain
            for p in lookups:
                found = next((table[(a, ind.id, p.key)] for a in own if (a, ind.id, p.key) in table), None)
                if found is not None:
                    if ind.unit == "count":
                        found = found * period.days / p.days
                    out[(unit.id, ind.id)] = found
                    break
    return out
