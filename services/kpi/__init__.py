"""Indicators, targets and the rules that name lagging units.

Layers (import-linter keeps them): findings | runs -> figures -> targets -> periods -> settings.
New code imports the submodule that owns a name; this package re-exports the surface its
callers (dialogs, jobs, CLI) use as `kpi.<name>`.
"""

from __future__ import annotations

from db.repositories.kpi.base import UnitRow
from services.kpi.figures import (
    DossierSourced,
    Figure,
    UnitFigures,
    child_table,
    child_table_with_total,
    dossier_sourced,
    figures_for,
    rank,
    rankable,
    unit_report,
)
from services.kpi.findings import (
    Finding,
    commune_findings,
    evaluate,
    is_below,
    lagging_streaks,
    report_status,
)
from services.kpi.periods import (
    Period,
    local_day,
    parse_period,
    period_of,
    report_deadline,
    said_period,
    week_period,
)
from services.kpi.runs import (
    DueDossiers,
    communes,
    communes_reported,
    due_dossiers,
    holders_of,
    job_done,
    last_runs,
    leaders,
    lock_job,
    record_job,
    unit_staff,
    units_by_ids,
)
from services.kpi.scope import own_units, resolve_unit
from services.kpi.settings import TZ, IndicatorDef, KpiSettings, settings_from

__all__ = [
    "TZ",
    "DossierSourced",
    "DueDossiers",
    "Figure",
    "Finding",
    "IndicatorDef",
    "KpiSettings",
    "Period",
    "UnitFigures",
    "UnitRow",
    "child_table",
    "child_table_with_total",
    "commune_findings",
    "communes",
    "communes_reported",
    "dossier_sourced",
    "due_dossiers",
    "evaluate",
    "figures_for",
    "holders_of",
    "is_below",
    "job_done",
    "lagging_streaks",
    "last_runs",
    "leaders",
    "local_day",
    "lock_job",
    "own_units",
    "parse_period",
    "period_of",
    "rank",
    "rankable",
    "record_job",
    "report_deadline",
    "report_status",
    "resolve_unit",
    "said_period",
    "settings_from",
    "unit_report",
    "unit_staff",
    "units_by_ids",
    "week_period",
]
