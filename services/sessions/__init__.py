"""Help sessions logged by volunteers: vocabulary and values (values), the one-line shortcut and
dates (shortcut), storage and tallies (records).

New code imports the submodule that owns a name; this package re-exports the surface the
dialogs use as `sessions.<name>`."""

from __future__ import annotations

from services.sessions.records import (
    delete,
    editable,
    last_session,
    log_session,
    recent,
    teams,
    update,
    week_start_of,
    week_summary,
    week_tally,
)
from services.sessions.shortcut import (
    ACTIVITY_ALIASES,
    OUTCOME_ALIASES,
    PLACE_ALIASES,
    check_citizens,
    check_note,
    occurred_at,
    parse_day,
    parse_shortcut,
)
from services.sessions.values import (
    EDIT_WINDOW,
    MAX_CITIZENS,
    Activity,
    LoggingConfig,
    Outcome,
    Place,
    SessionDraft,
    SessionView,
    Tally,
    WeekSummary,
    config_from,
)

__all__ = [
    "ACTIVITY_ALIASES",
    "EDIT_WINDOW",
    "MAX_CITIZENS",
    "OUTCOME_ALIASES",
    "PLACE_ALIASES",
    "Activity",
    "LoggingConfig",
    "Outcome",
    "Place",
    "SessionDraft",
    "SessionView",
    "Tally",
    "WeekSummary",
    "check_citizens",
    "check_note",
    "config_from",
    "delete",
    "editable",
    "last_session",
    "log_session",
    "occurred_at",
    "parse_day",
    "parse_shortcut",
    "recent",
    "teams",
    "update",
    "week_start_of",
    "week_summary",
    "week_tally",
]
