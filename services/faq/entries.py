"""The FAQ knowledge base: one validated YAML file per how-to entry, in the shipped `knowledge/`
directory and an optional local one filled by a commune officer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services import yamlfile

__all__ = ["Category", "FaqEntry", "KnowledgeBaseError", "Where", "load_entries", "load_entry"]


class Where(StrEnum):
    """Where a citizen can do the procedure."""

    PORTAL = "portal"
    VNEID = "vneid"
    COUNTER = "counter"
    APP = "app"
    BANK = "bank"


class Category(StrEnum):
    PROCEDURE = "procedure"
    DIGITAL_SKILL = "digital_skill"


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
_Url = Annotated[str, StringConstraints(pattern=r"^https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?$")]
# A source may be an older http:// page; the bot never links it, it is for reviewers.
_SourceUrl = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+\.[a-z]{2,}(/\S*)?$")]


class Source(BaseModel):
    """Where a reviewer checked the entry: a page, the legal document it states, that document's date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: _SourceUrl
    document: _Text
    date: date


class FaqEntry(BaseModel):
    """One how-to answer, as written in `knowledge/<id>.yaml`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: _Slug
    title: _Text
    title_en: _Text
    synonyms: tuple[_Text, ...] = Field(min_length=1)
    audience: _Text
    where: tuple[Where, ...] = Field(min_length=1)
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    documents: tuple[_Text, ...] = ()
    steps: tuple[_Text, ...] = Field(min_length=1)
    fee: _Text | None = None
    processing_time: _Text | None = None
    legal_basis: tuple[_Text, ...] = ()
    # The official page the answer's button opens; none when no official page does the job.
    portal_url: _Url | None = None
    sources: tuple[Source, ...] = ()
    last_reviewed: date  # the day someone checked the entry against its sources
    needs_review: _Text | None = None  # what is still unchecked; `tocns faq check` warns
    category: Category


class KnowledgeBaseError(ValueError):
    """A knowledge-base file is missing, unreadable or invalid; names the file and the field."""

    def __init__(self, path: Path, field: str | None, message: str) -> None:
        self.path = path
        self.field = field
        self.message = message
        where = f"{path}: field '{field}'" if field else str(path)
        super().__init__(f"{where}: {message}")


def load_entry(path: Path) -> FaqEntry:
    """Read and validate one YAML entry; its id must equal the file stem."""
    try:
        raw: Any = yamlfile.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(path, None, f"cannot read YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(path, None, "expected a mapping of fields")
    try:
        entry = FaqEntry.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise KnowledgeBaseError(path, field, first["msg"]) from exc
    if entry.id != path.stem:
        raise KnowledgeBaseError(path, "id", f"'{entry.id}' must equal the file name '{path.stem}'")
    return entry


def load_entries(dirs: Iterable[Path | str]) -> tuple[FaqEntry, ...]:
    """Load every `*.yaml` in the given directories, in order; duplicate ids are an error."""
    entries: list[FaqEntry] = []
    seen: dict[str, Path] = {}
    for directory in map(Path, dirs):
        if not directory.is_dir():
            raise KnowledgeBaseError(directory, None, "knowledge directory does not exist")
        for path in sorted(directory.glob("*.yaml")):
            if path.name.startswith("_"):
                continue  # _legal.yaml and other registries are not entries
            entry = load_entry(path)
            if entry.id in seen:
                duplicate = f"duplicate id '{entry.id}' (also {seen[entry.id]})"
                raise KnowledgeBaseError(path, "id", duplicate)
            seen[entry.id] = path
            entries.append(entry)
    return tuple(entries)
