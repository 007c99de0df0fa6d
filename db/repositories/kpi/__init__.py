"""KPI queries: every indicator's measures aggregated IN SQL over a unit subtree
(`units.path LIKE 'prefix%'`), grouped by the ancestor N levels below the subtree's root.

base (scope, grouping, value types) <- measures | units <- bookkeeping (reports due, targets,
job runs). The services call these as `repo.<name>`; this package re-exports them."""

from __future__ import annotations

from db.repositories.kpi.base import (
    ALL,
    ONLINE_MODES,
    TOTAL,
    Measures,
    Span,
    UnitRow,
    analytics,
    group_key,
    per_unit,
    subtree,
)
from db.repositories.kpi.bookkeeping import (
    communes_with_report,
    due_dossiers,
    finish_job_run,
    job_run,
    last_job_runs,
    lock_job,
    targets_for,
    upsert_target,
)
from db.repositories.kpi.measures import (
    DOSSIER_MEASURES,
    commune_measures,
    help_measures,
    satisfaction_ratings,
    work_measures,
)
from db.repositories.kpi.units import (
    accounts,
    children,
    children_of_root,
    holders,
    person_locale,
    role_holders_anywhere,
    roots,
    team_leaders_under,
    unit_by_code,
    unit_by_id,
    units_by_ids,
    units_of_kind,
)

__all__ = [
    "ALL",
    "DOSSIER_MEASURES",
    "ONLINE_MODES",
    "TOTAL",
    "Measures",
    "Span",
    "UnitRow",
    "accounts",
    "analytics",
    "children",
    "children_of_root",
    "commune_measures",
    "communes_with_report",
    "due_dossiers",
    "finish_job_run",
    "group_key",
    "help_measures",
    "holders",
    "job_run",
    "last_job_runs",
    "lock_job",
    "per_unit",
    "person_locale",
    "role_holders_anywhere",
    "roots",
    "satisfaction_ratings",
    "subtree",
    "targets_for",
    "team_leaders_under",
    "unit_by_code",
    "unit_by_id",
    "units_by_ids",
    "units_of_kind",
    "upsert_target",
    "work_measures",
]
