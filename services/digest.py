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
from services.kpi.settings import TZ, KpiSettings
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
    n = settings.top
    best = ranked[:n]
    weakest = [r for r in ranked[-n:] if r not in best][::-1] if len(ranked) > n else []
    return Digest(unit, week, ind.id, total, tuple(rows), tuple(best), tuple(weakest), tuple(lagging_units))


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
    unit_name: Callable[[UnitRow], str] = lambda u: u.name,
) -> bytes:
    ind = settings.indicator(digest.indicator)
    rows = digest.rows
    percent = ind.unit == "percent"
    # A rate's target applies to every child; a count's target is the whole unit's, not a child's.
    target = digest.total.figures[ind.id].target if percent else None
    return chart.bar_chart(
        [unit_name(r.figures.unit) for r in rows],
        [r.figures.figures[ind.id].value for r in rows],
        target=target,
        title=title,
        target_label=target_label,
        no_data_label=no_data,
        percent=percent,
    )


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
            line += [
                None if f.value is None else round(f.value, 2),
                None if f.target is None else round(f.target, 2),
                source_name(f.source),
            ]
        append_row(ws, line)  # unit names are typed by people: never a live formula
    ws.column_dimensions["A"].width = 32
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
