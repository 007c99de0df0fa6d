"""Citizens' dossiers: codes, the procedures catalogue, records and their status lifecycle, and
the import of the one-stop system's export (`services.dossiers.import_`).

New code imports the submodule that owns a name; this package re-exports the surface the
dialogs use as `dossiers.<name>`."""

from __future__ import annotations

from services.dossiers.catalogue import Procedure, procedure_by_code, procedures, search_procedures
from services.dossiers.codes import (
    CODE_EXAMPLE,
    code_in_sentence,
    extract_code,
    is_tail,
    looks_like_code_attempt,
    parse_code,
)
from services.dossiers.records import (
    TRANSITIONS,
    DossierInput,
    DossierView,
    Mode,
    Status,
    acting_units,
    at_local,
    change_status,
    check_procedure_text,
    code_of,
    get_for_staff,
    history,
    lookup,
    may_see_history,
    next_statuses,
    parse_day_text,
    public_procedure,
    record,
    subscribe,
    unit_path,
)

__all__ = [
    "CODE_EXAMPLE",
    "TRANSITIONS",
    "DossierInput",
    "DossierView",
    "Mode",
    "Procedure",
    "Status",
    "acting_units",
    "at_local",
    "change_status",
    "check_procedure_text",
    "code_in_sentence",
    "code_of",
    "extract_code",
    "get_for_staff",
    "history",
    "is_tail",
    "looks_like_code_attempt",
    "lookup",
    "may_see_history",
    "next_statuses",
    "parse_code",
    "parse_day_text",
    "procedure_by_code",
    "procedures",
    "public_procedure",
    "record",
    "search_procedures",
    "subscribe",
    "unit_path",
]
