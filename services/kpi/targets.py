"""Targets per unit, indicator and period (quarter "2026-Q4" or year "2026"), inherited from the
nearest ancestor that has one; count targets are spread over shorter periods by days."""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import core as core_repo
from db.repositories import kpi as repo
from db.repositories.kpi.base import UnitRow
from services.access import Action, Actor
from services.errors import InvalidInput, NotFound
from services.kpi.periods import Period, parse_period, period_of
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


def find_indicator(settings: KpiSettings, text: str) -> IndicatorDef:
    """An indicator by its id, or its Vietnamese or English name, with or without diacritics;
    a few words of the name are enough when only one indicator has them all."""
    want = _fold(text).replace("_", " ")
    if not want:
        raise InvalidInput("kpi.errors.unknown_indicator", indicator=text)
    names = {
        ind.id: [_fold(ind.id).replace("_", " "), _fold(ind.name_vi), _fold(ind.name_en)]
        for ind in settings.indicators
    }
    exact = [i for i, ns in names.items() if want in ns]
    if len(exact) == 1:
        return settings.indicator(exact[0])
    words = want.split()
    close = [i for i, ns in names.items() if any(all(w in n.split() for w in words) for n in ns)]
    if len(close) == 1:
        return settings.indicator(close[0])
    raise InvalidInput("kpi.errors.unknown_indicator", indicator=text)


MAX_TARGET = 10_000_000  # above any count a unit reports in a quarter or a year
MAX_SCORE = 5  # the satisfaction score is 1–5 stars


def parse_target_period(text: str) -> str:
    """'2026-Q4', 'Quý IV/2026', 'quy 4/2026', 'Q4/2026', '2026', 'năm 2026' → '2026-Q4' / '2026'."""
    t = _fold(text)
    if m := re.fullmatch(r"(?:quy|q)\s*(iv|iii|ii|i|[1-4])\s*[/-]\s*(\d{4})", t):
        q = _ROMAN.get(m.group(1)) or int(m.group(1))
        return f"{m.group(2)}-Q{q}"
    if m := re.fullmatch(r"(?:nam\s*)?(\d{4})", t):
        return m.group(1)
    return text.strip()


def parse_value(text: str) -> float:
    try:
        value = float(text.strip().rstrip("%").replace(",", "."))
    except ValueError:
        raise InvalidInput("kpi.errors.bad_target", value=text) from None
    # float() also reads «nan», «inf», «1e308»: no target is any of those.
    if not math.isfinite(value) or value < 0 or value > MAX_TARGET:
        raise InvalidInput("kpi.errors.bad_target", value=text)
    return value


def _check(settings: KpiSettings, indicator: str, period_text: str, value: float, typed: str | None) -> str:
    ind = settings.indicator(indicator)
    period = parse_period(parse_target_period(period_text))
    if period.kind not in ("quarter", "year"):
        raise InvalidInput("kpi.errors.target_period", value=period_text)
    if (ind.unit == "percent" and value > 100) or (ind.unit == "score" and value > MAX_SCORE):
        # Echo what was typed («160»), not the float («160.0»).
        raise InvalidInput("kpi.errors.bad_target", value=typed if typed is not None else f"{value:g}")
    return period.key


async def set_target(
    session: AsyncSession,
    actor: Actor,
    settings: KpiSettings,
    unit_code: str,
    indicator: str,
    period_text: str,
    value: float,
    typed: str | None = None,
) -> tuple[UnitRow, str]:
    """A leader sets a target for a unit in scope; returns (unit, period key). `typed` is the
    value as the person wrote it, for the refusal."""
    unit = await repo.unit_by_code(session, unit_code)
    if unit is None:
        raise NotFound("errors.unit_not_found", code=unit_code)
    # A leader, of another unit: say so, not who else could do it.
    key = "kpi.errors.target_out_of_scope"
    actor.require_in_scope(Action.SET_TARGETS, unit.path, key, unit=unit.name, code=unit.code)
    key = _check(settings, indicator, period_text, value, typed)
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
            value = parse_value(r["target"])
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
