"""The legal-document registry (`knowledge/_legal.yaml`) and the review check of the knowledge base.

An answer that cites a replaced decree sends a citizen the wrong way, and a date of review that
nobody refreshes says nothing. `check_knowledge` loads the entries and every `_legal.yaml` next to
them and reports:

- an **error** for a citation (`legal_basis` or a source's `document`) of a document the registry
  says was replaced on or before `today`;
- a **warning** for an entry not reviewed for 12 months, an entry with `needs_review`, an entry
  without sources, and a cited document number the registry does not know;
- an **error** for a labelled question of `_asked.yaml` (`services.faq.learned`) whose id is not an
  entry, naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.faq.entries import FaqEntry, KnowledgeBaseError, load_entries
from services.faq.learned import check_asked

__all__ = [
    "LEGAL_FILE",
    "REVIEW_EVERY",
    "KnowledgeReport",
    "LegalDocument",
    "check_knowledge",
    "load_registry",
]

LEGAL_FILE = "_legal.yaml"
REVIEW_EVERY = timedelta(days=365)

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# "Nghị định 61/2018/NĐ-CP", "Thông tư 75/2022/TT-BTC", "Quyết định 45/2016/QĐ-TTg", "Luật 41/2024/QH15".
_NUMBER = re.compile(r"\b\d{1,4}/\d{4}/[A-ZĐa-zđ0-9-]+")


class LegalDocument(BaseModel):
    """One document of the registry: what it is, from when it applies, what replaced it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: _Text | None = None  # "118/2025/NĐ-CP"; laws also have one ("68/2020/QH14")
    title: _Text  # how entries cite it when there is no number: "Luật Cư trú 2020"
    effective: date | None = None  # None: not yet checked
    replaced_by: _Text | None = None
    replaced_on: date | None = None
    source: _Text | None = None  # where the replacement was checked (URL)
    aliases: tuple[_Text, ...] = ()  # other ways entries cite it

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.number, self.title, *self.aliases) if n)

    def replaced(self, today: date) -> bool:
        return self.replaced_by is not None and (self.replaced_on is None or self.replaced_on <= today)


class _Registry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    documents: tuple[LegalDocument, ...] = Field(min_length=1)


def load_registry(dirs: Iterable[Path | str]) -> tuple[LegalDocument, ...]:
    """Every document of the `_legal.yaml` files found in the given directories."""
    found: list[LegalDocument] = []
    for directory in map(Path, dirs):
        path = directory / LEGAL_FILE
        if not path.is_file():
            continue
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
            found += _Registry.model_validate(raw).documents
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KnowledgeBaseError(path, None, f"cannot read YAML: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or None
            raise KnowledgeBaseError(path, field, first["msg"]) from exc
    return tuple(found)


@dataclass(frozen=True, slots=True)
class KnowledgeReport:
    """What `tocns faq check` prints: entries loaded, errors (fail) and warnings (print only)."""

    entries: tuple[FaqEntry, ...]
    registry: tuple[LegalDocument, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _citations(entry: FaqEntry) -> list[str]:
    return [*entry.legal_basis, *(s.document for s in entry.sources)]


def _cites(citation: str, doc: LegalDocument) -> bool:
    """Whether a citation names the document: its number, or its title as a whole phrase."""
    text = _key(citation)
    if doc.number and _key(doc.number) in text:
        return True
    for name in (doc.title, *doc.aliases):
        # A bare alias ("Luật Việc làm") must not match a newer law cited with its year.
        if re.search(rf"(?<!\w){re.escape(_key(name))}(?![\w/])(?!\s+\d{{4}})", text):
            return True
    return False


def check_entries(
    entries: Sequence[FaqEntry], registry: Sequence[LegalDocument], today: date
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for entries against the registry on `today`."""
    errors: list[str] = []
    warnings: list[str] = []
    known_numbers = {_key(d.number) for d in registry if d.number}
    for entry in entries:
        for citation in _citations(entry):
            for doc in registry:
                if doc.replaced(today) and _cites(citation, doc):
                    since = f" since {doc.replaced_on:%Y-%m-%d}" if doc.replaced_on else ""
                    errors.append(f"{entry.id}: cites '{citation}', replaced by {doc.replaced_by}{since}")
            for number in _NUMBER.findall(citation):
                if _key(number) not in known_numbers:
                    warnings.append(f"{entry.id}: '{number}' is not in {LEGAL_FILE}")
        if today - entry.last_reviewed > REVIEW_EVERY:
            warnings.append(f"{entry.id}: not reviewed since {entry.last_reviewed:%Y-%m-%d}")
        if entry.needs_review:
            warnings.append(f"{entry.id}: needs review: {entry.needs_review}")
        if not entry.sources:
            warnings.append(f"{entry.id}: no sources")
    return errors, warnings


def check_knowledge(
    dirs: Sequence[Path | str], today: date, registry_dirs: Sequence[Path | str] = ()
) -> KnowledgeReport:
    """Load and validate the entries of `dirs` (KnowledgeBaseError on a bad file), then check them
    against the registries of `registry_dirs` and `dirs` (a local directory may add documents)."""
    entries = load_entries(dirs)
    unique = dict.fromkeys(Path(d).resolve() for d in (*registry_dirs, *dirs))
    registry = load_registry(unique)
    errors, warnings = check_entries(entries, registry, today)
    # A local directory's labelled questions may name shipped entries too (the bot loads both).
    checked = {Path(d).resolve() for d in dirs}
    others = [d for d in registry_dirs if Path(d).resolve() not in checked]
    known = {e.id for e in entries} | {e.id for e in load_entries(others)}
    errors += check_asked(dirs, known)
    return KnowledgeReport(entries, registry, tuple(errors), tuple(dict.fromkeys(warnings)))
