"""Column profiles of the one-stop systems' exports (data/import_profiles/*.yaml) and finding
the header row with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from services.dossiers.records import Mode, Status
from services.errors import InvalidInput, NotFound
from services.text import fold

PROFILES_DIR = Path(__file__).resolve().parents[3] / "data" / "import_profiles"
HEADER_SEARCH_ROWS = 10
FIELDS = (
    "code",
    "procedure_name",
    "procedure_code",
    "received",
    "due",
    "finished",
    "status",
    "mode",
    "unit",
    "post",
)
REQUIRED = ("code", "procedure_name", "received")


class ImportStructureError(InvalidInput):
    """The file as a whole cannot be imported (nothing is stored)."""

    key = "nhap.errors.structure"


@dataclass(frozen=True)
class Profile:
    """How one vendor's export names its columns and values (see data/import_profiles/*.yaml)."""

    name: str
    columns: dict[str, tuple[str, ...]]  # field → folded header aliases
    statuses: dict[str, Status]  # folded value → status
    modes: dict[str, Mode]  # folded value → mode
    labels: dict[str, str] = field(default_factory=dict)  # field → its first header, as written
    yes: frozenset[str] = frozenset({"co", "x", "yes", "1", "true", "buu chinh"})


def _folded(values: Any) -> tuple[str, ...]:
    return tuple(" ".join(fold(str(v)).split()) for v in values or ())


def load_profile(name: str = "generic") -> Profile:
    path = PROFILES_DIR / f"{name}.yaml"
    if not name.replace("_", "").replace("-", "").isalnum() or not path.is_file():
        raise NotFound("nhap.errors.no_profile", name=name)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    columns = {f: _folded(a) for f, a in (data.get("columns") or {}).items() if f in FIELDS}
    for f in REQUIRED:
        if f not in columns:
            raise InvalidInput("nhap.errors.bad_profile", name=name, field=f)
    statuses = {
        alias: Status(status)
        for status, aliases in (data.get("statuses") or {}).items()
        for alias in _folded(aliases)
    }
    modes = {
        alias: Mode(mode) for mode, aliases in (data.get("modes") or {}).items() for alias in _folded(aliases)
    }
    labels = {f: str(a[0]) for f, a in (data.get("columns") or {}).items() if f in FIELDS and a}
    return Profile(name, columns, statuses, modes, labels=labels)


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def _norm_header(value: Any) -> str:
    return " ".join(fold(str(value)).replace("*", " ").replace(":", " ").split()) if value is not None else ""


def _labels(head: list[tuple[int, list[Any]]], idx: int) -> list[tuple[str, str]]:
    """(folded label, label as written) of each cell of head[idx]; a header merged vertically
    leaves its label in the row above: fall back to it."""
    above = head[idx - 1][1] if idx > 0 else []
    labels = []
    for c, value in enumerate(head[idx][1]):
        raw = value
        label = _norm_header(value)
        if not label and c < len(above):
            raw = above[c]
            label = _norm_header(raw)
        labels.append((label, " ".join(str(raw).split()) if label else ""))
    return labels


def find_header(head: list[tuple[int, list[Any]]], profile: Profile) -> tuple[int, dict[str, int]]:
    """(header row number, field → column index) from the first rows; merged cells tolerated."""
    best: tuple[int, int, dict[str, int]] | None = None
    for idx, (n, _cells) in enumerate(head):
        labels = [label for label, _raw in _labels(head, idx)]
        mapping: dict[str, int] = {}
        for f, aliases in profile.columns.items():
            for c, label in enumerate(labels):
                if label and label in aliases and c not in mapping.values():
                    mapping[f] = c
                    break
        score = sum(1 for f in REQUIRED if f in mapping) * 100 + len(mapping)
        if mapping and (best is None or score > best[1]):
            best = (n, score, mapping)
    if best is None:
        raise ImportStructureError("nhap.errors.no_header", rows=HEADER_SEARCH_ROWS)
    missing = [f for f in REQUIRED if f not in best[2]]
    if missing:
        names = ", ".join(f"«{profile.labels.get(f, f)}»" for f in missing)
        raise ImportStructureError("nhap.errors.missing_columns", columns=names)
    return best[0], best[2]


def has_header(head: list[tuple[int, list[Any]]], profile: Profile) -> bool:
    """Whether these first rows hold a header with every required column (picks the sheet)."""
    try:
        find_header(head, profile)
    except ImportStructureError:
        return False
    return True


# Folded starts of a header that names a date or a time limit («Ngày …», «Thời gian …», «Hạn …»).
_DATE_LIKE = ("ngay", "thoi gian", "thoi han", "han ", "date")


def ignored_date_columns(
    head: list[tuple[int, list[Any]]], header_row: int, mapping: dict[str, int]
) -> list[str]:
    """Headers that look like a date but map to no field, as written: the summary names them, so
    a result date under an unknown name is not dropped without a word."""
    used = set(mapping.values())
    for idx, (n, _cells) in enumerate(head):
        if n == header_row:
            return [
                raw
                for c, (label, raw) in enumerate(_labels(head, idx))
                if c not in used and label.startswith(_DATE_LIKE)
            ]
    return []
