"""The weekly digest for a leader of unit U, as typed values (text is rendered by handlers);
the Excel table; the chart."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.kpi.base import UnitRow
from services import chart, kpi, lagging
from services.access import Action, Actor
from services.export_safety import append_row
from services.kpi.figures import UnitFigures
from services.kpi.findings import Finding
from services.kpi.periods import Period
from services.kpi.settings import TZ, IndicatorDef, KpiSettings
from services.lagging import Lagging


@dataclass(frozen=True, slots=True)
class DigestRow:
    figures: UnitFigures
    rank: int | None
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    unit: UnitRow
    week: Period
    indicator: str  # the one the rows are ranked by (and charted)
    total: UnitFigures
    rows: tuple[DigestRow, ...]  # every child unit, ranked
    best: tuple[DigestRow, ...]
    weakest: tuple[DigestRow, ...]
    lagging: tuple[Lagging, ...]  # communes of the subtree with findings (as the reminders say)

    @property
    def has_data(self) -> bool:
        return self.total.has_data


TEAM_CHART_INDICATOR = "citizens_helped"


async def build(
    session: AsyncSession,
    unit: UnitRow,
    week: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    indicator: str | None = None,
    everywhere: dict[int, list[Finding]] | None = None,
) -> Digest:
    """Totals vs target, each child with ▲/▼ and rank, and the lagging communes of the subtree
    with their reasons — the same findings the Monday reminders send (services/lagging.py;
    `everywhere` is lagging.for_week's answer when the caller already has it)."""
    total, table = await kpi.child_table_with_total(session, None, unit, week, now, settings, tz)
    if indicator is None and table and all(uf.unit.kind == "team" for uf in table):
        # Dossiers belong to communes, not teams: a commune's teams are compared on their work.
        indicator = TEAM_CHART_INDICATOR
    ind = settings.indicator(indicator or settings.chart_indicator)
    lagging_units = await lagging.under(session, unit, week, now, settings, tz, everywhere=everywhere)
    by_unit = {lg.unit.id: lg.findings for lg in lagging_units}
    rows = [DigestRow(uf, rnk, by_unit.get(uf.unit.id, ())) for rnk, uf in kpi.rank(table, ind, settings)]
    ranked = [r for r in rows if r.rank is not None]
    best, weakest = ends(ranked, settings.top)
    return Digest(unit, week, ind.id, total, tuple(rows), tuple(best), tuple(weakest), tuple(lagging_units))


def ends(ranked: Sequence[DigestRow], n: int) -> tuple[list[DigestRow], list[DigestRow]]:
    """The best n and the weakest n (weakest first), each with every unit tied at its cut: a unit
    sharing the last shown rank is never hidden while others of that rank are listed. A unit is in
    one list only."""
    if n <= 0 or not ranked:
        return [], []
    best_cut = ranked[min(n, len(ranked)) - 1].rank
    best = [r for r in ranked if r.rank is not None and best_cut is not None and r.rank <= best_cut]
    if len(ranked) <= n:
        return best, []
    weak_cut = ranked[-n].rank
    weakest = [r for r in ranked if r.rank is not None and weak_cut is not None and r.rank >= weak_cut]
    # Worst first; units sharing a rank stay in name order.
    return best, sorted((r for r in weakest if r not in best), key=lambda r: -(r.rank or 0))


def capped(rows: Sequence[DigestRow], limit: int) -> tuple[tuple[DigestRow, ...], tuple[DigestRow, ...]]:
    """(named, counted) for a chat message: at most `limit` rows named. `ends` lists every unit
    tied at the cut, last and in name order, so the rows past `limit` all share one rank and
    value — said in one line, not forty names (the web page and the Excel keep them all)."""
    if limit <= 0 or len(rows) <= limit:
        return tuple(rows), ()
    rest = tuple(rows[limit:])
    if any(r.rank != rest[0].rank for r in rest):  # not a tie: ends() never makes one, name them all
        return tuple(rows), ()
    return tuple(rows[:limit]), rest


async def for_leader(
    session: AsyncSession,
    actor: Actor,
    unit_code: str,
    week: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    indicator: str | None = None,
) -> Digest:
    unit = await kpi.resolve_unit(session, actor, unit_code, Action.VIEW_KPI)
    return await build(session, unit, week, now, settings, tz, indicator=indicator)


def chart_png(
    digest: Digest,
    settings: KpiSettings,
    lang: str,
    *,
    title: str,
    target_label: str,
    no_data: str,
    each_target_label: str = "",
    unit_name: Callable[[UnitRow], str] = lambda u: u.name,
) -> bytes:
    """Each child's bar is coloured against that child's own target (its figures carry it, as in
    the Excel table); the parent's target is not a child's. One dashed line only when every child
    has the same target; `each_target_label` is the legend otherwise."""
    ind = settings.indicator(digest.indicator)
    rows = digest.rows
    return chart.bar_chart(
        [unit_name(r.figures.unit) for r in rows],
        [r.figures.figures[ind.id].value for r in rows],
        targets=[r.figures.figures[ind.id].target for r in rows],
        title=title,
        target_label=target_label,
        each_target_label=each_target_label or target_label,
        no_data_label=no_data,
        percent=ind.unit == "percent",
        higher_is_better=ind.higher_is_better,
    )


def excel_value(ind: IndicatorDef, value: float | None) -> float | int | None:
    """A figure as an Excel cell holds it: a rate or score as the number shown in chat (37.98 for
    37,98 %, with `excel_format` saying it is a percentage), a count whole as the chat shows it (a
    week's share of a quarter's target, 1150.68 sessions, is 1151)."""
    if value is None:
        return None
    return round(value, 2) if ind.unit in ("percent", "score") else round(value)


def excel_format(ind: IndicatorDef) -> str:
    """The cell number format for `excel_value`: rates read «38,0%» (the value stays 37.98, not a
    fraction), scores two decimals, counts whole with thousands separators."""
    return {"percent": '0.0"%"', "score": "0.00"}.get(ind.unit, "#,##0")


def xlsx(
    title: str,
    unit_header: str,
    rows: Sequence[UnitFigures],
    settings: KpiSettings,
    lang: str,
    *,
    source_name: Callable[[str], str],
    unit_name: Callable[[UnitRow], str] = lambda u: u.name,
    target_header: str,
    source_header: str,
    code_header: str = "Mã / code",
) -> bytes:
    """The full table: one row per unit, value / target / source per indicator."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "KPI"
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True)
    header: list[str] = [unit_header, code_header]
    for ind in settings.indicators:
        header += [ind.name(lang), f"{target_header}", f"{source_header}"]
    append_row(ws, header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for uf in rows:
        line: list[object] = [unit_name(uf.unit), uf.unit.code]
        for ind in settings.indicators:
            f = uf.figures[ind.id]
            line += [excel_value(ind, f.value), excel_value(ind, f.target), source_name(f.source)]
        append_row(ws, line)  # unit names are typed by people: never a live formula
        for i, ind in enumerate(settings.indicators):
            for col in (3 + 3 * i, 4 + 3 * i):  # value, target
                ws.cell(row=ws.max_row, column=col).number_format = excel_format(ind)
    ws.column_dimensions["A"].width = 32
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
