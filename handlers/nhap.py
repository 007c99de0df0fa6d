"""Officers send the one-stop system's export (.xlsx/.csv) as a document; /nhap explains how."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import ChatType, Context, Incoming, IncomingFile
from handlers.router import Router, say_private_only
from services import people, spreadsheet_guard, units
from services.access import Action, Grant
from services.dossiers import import_ as dossier_import
from services.dossiers.codes import parse_code
from services.dossiers.import_.profiles import HEADER_SEARCH_ROWS
from services.dossiers.scope import unit_segments
from services.errors import DomainError
from services.units import UnitKind

router = Router()
SHOWN_ERRORS = 15
MAX_UPLOAD = 20 * 1024 * 1024


# Spreadsheets the import cannot read: the officer is told to save them as .xlsx.
OTHER_SHEETS = (".xls", ".xlsb", ".ods", ".numbers")


@router.command("nhap", help_key="nhap.cmd.nhap", action=Action.IMPORT_DOSSIERS, private_only=True)
async def nhap(ctx: Context) -> None:
    """/nhap explains; /nhap as the caption of a file imports it (or says why it cannot)."""
    file = ctx.msg.file
    if file is not None:
        if await uploaded(ctx):
            return
        if not _is_sheet(file.name):
            ctx.say("nhap.errors.bad_type", name=file.name[-40:])
            return
    ctx.say("nhap.help.nhap")


def _held(ctx: Context) -> list[Grant]:
    """The units the person imports for (one grant a unit, in grant order)."""
    out: list[Grant] = []
    for grant in ctx.actor.grants_for(Action.IMPORT_DOSSIERS):
        if grant.unit_code and all(g.unit_code != grant.unit_code for g in out):
            out.append(grant)
    return out


def _caption_unit(caption: str | None) -> str | None:
    """A unit code in the caption («/nhap 99001», «99001», «99001 profile x»)."""
    words = (caption or "").split()
    if words and words[0].startswith("/"):
        words = words[1:]
    if words and words[0].lower() != "profile" and re.fullmatch(r"[0-9][0-9A-Za-z.-]{0,19}", words[0]):
        return words[0]
    return None


def _units_text(held: list[Grant]) -> str:
    return ", ".join(f"{g.unit_name} ({g.unit_code})" for g in held)


def _is_sheet(name: str) -> bool:
    return name.lower().endswith((".xlsx", ".xlsm", ".csv"))


def _profile(caption: str | None) -> str:
    """The column profile named in the caption («profile NAME», also after /nhap)."""
    words = (caption or "").split()
    if words and words[0].startswith("/"):
        words = words[1:]
    if words and _caption_unit(" ".join(words)) is not None:
        words = words[1:]
    if len(words) >= 2 and words[0].lower() == "profile":
        return words[1]
    return "generic"


@router.prepare_file()
async def prepare_upload(msg: Incoming, sessions: async_sessionmaker[AsyncSession]) -> Incoming:
    """Before the update's transaction, off the event loop: an importer's spreadsheet is checked
    and parsed in a bounded child process (services.spreadsheet_guard); others' files are left
    alone (nobody else can make the bot parse anything)."""
    file = msg.file
    if file is None or not _is_sheet(file.name) or len(file.data) > MAX_UPLOAD:
        return msg
    async with sessions() as session:
        actor = await people.find_actor(session, msg.channel, msg.user_id)
    if actor is None or not actor.grants_for(Action.IMPORT_DOSSIERS):
        return msg
    outcome: object
    try:
        outcome = await asyncio.to_thread(
            spreadsheet_guard.collect_sheet, file.data, file.name, profile=_profile(msg.text)
        )
    except DomainError as exc:
        outcome = exc
    return replace(msg, file=replace(file, prepared=outcome))


async def _rows(file: IncomingFile, profile: str) -> dossier_import.Sheet:
    """The rows the preparer parsed; without it (a caller that skipped it), the same bounded
    child, from here."""
    prepared = file.prepared
    if prepared is None:
        prepared = await asyncio.to_thread(
            spreadsheet_guard.collect_sheet, file.data, file.name, profile=profile
        )
    if isinstance(prepared, DomainError):
        raise prepared
    if not isinstance(prepared, spreadsheet_guard.Collected):
        raise TypeError(f"prepared upload: {type(prepared).__name__}")
    rows = prepared.rows
    return dossier_import.Sheet(iter(rows), len(rows), lambda: None, "guarded", prepared.sheet)


@router.file()
async def uploaded(ctx: Context) -> bool:
    file = ctx.msg.file
    if file is None:
        return False
    held = _held(ctx)
    if not held:
        return False
    if not _is_sheet(file.name):
        if not file.name.lower().endswith(OTHER_SHEETS):
            return False
        # An old-format export (.xls…): never read, and never answered as a file of no use.
        ctx.say("nhap.errors.bad_type", name=file.name[-40:])
        return True
    if ctx.msg.chat_type is ChatType.GROUP:  # /nhap is private: its row report is not for the group
        say_private_only(ctx, "nhap", "nhap")
        return True
    if len(file.data) > MAX_UPLOAD:
        ctx.say("nhap.errors.too_large", mb=MAX_UPLOAD // (1024 * 1024))
        return True
    profile = _profile(ctx.msg.text)
    caption_unit = _caption_unit(ctx.msg.text)
    if caption_unit is not None and not await _holds(ctx, caption_unit):
        ctx.say("nhap.errors.caption_unit_not_held", unit=caption_unit[:20], units=_units_text(held))
        return True
    try:
        sheet = await _rows(file, profile)
        plan = await _by_commune(ctx, sheet, profile)
        default = caption_unit or (held[0].unit_code if len(held) == 1 else None)
        if default is None and (len(plan.groups) == 1 or not plan.unmarked):
            # The codes that name a commune name this one (or every row is named or refused).
            default = next(iter(plan.groups), held[0].unit_code)
        if default is None:
            example = held[0].unit_code or ""
            ctx.say("nhap.errors.which_commune", count=len(held), units=_units_text(held), example=example)
            return True
        summaries = []
        for code, rows in plan.split(default):
            part = dossier_import.Sheet(iter(rows), len(rows), lambda: None, "guarded", sheet.name)
            summaries.append(
                await dossier_import.import_file(
                    ctx.session, ctx.actor, part, file.name, code, ctx.now, ctx.tz, profile=profile
                )
            )
    except DomainError as exc:
        ctx.reply(ctx.t(exc.key, **exc.params) + "\n" + ctx.t("nhap.nothing_imported"))
        return True
    ctx.reply(_report(ctx, file.name, summaries, plan.foreign))
    return True


async def _holds(ctx: Context, code: str) -> bool:
    """The caption's unit exists and the person may import for it."""
    try:
        path = (await units.get(ctx.session, code)).path
    except DomainError:
        return False
    return ctx.actor.can(Action.IMPORT_DOSSIERS, path)


@dataclass
class _Plan:
    """The file's rows by the commune their dossier code names (`000.00.<commune>.H46-…`,
    `H46.<commune>-…`): rows naming a commune the officer holds go to it, rows naming one they do
    not hold are refused, rows naming none go to the import's unit."""

    head: list[tuple[int, list[Any]]]
    groups: dict[str, list[tuple[int, list[Any]]]] = field(default_factory=dict)
    unmarked: list[tuple[int, list[Any]]] = field(default_factory=list)
    foreign: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def split(self, default: str) -> list[tuple[str, list[tuple[int, list[Any]]]]]:
        """(unit code, rows with the header above them), the import's own unit first."""
        groups = {default: list(self.unmarked)}
        for code, rows in self.groups.items():
            groups.setdefault(code, []).extend(rows)
        return [(code, self.head + sorted(rows, key=lambda r: r[0])) for code, rows in groups.items()]


async def _by_commune(ctx: Context, sheet: dossier_import.Sheet, profile: str) -> _Plan:
    rows = list(sheet.rows)
    try:
        header_row, mapping = dossier_import.find_header(
            rows[:HEADER_SEARCH_ROWS], dossier_import.load_profile(profile)
        )
    except DomainError:  # the import itself says what is wrong with the file
        return _Plan(head=[], unmarked=rows)
    plan = _Plan(head=[r for r in rows if r[0] <= header_row])
    column = mapping["code"]
    named: dict[str, units.UnitView | None] = {}
    for n, cells in rows:
        if n <= header_row:
            continue
        code = parse_code(str(cells[column])) if column < len(cells) and cells[column] is not None else None
        commune = None
        for segment in unit_segments(code) if code else []:
            if segment not in named:
                try:
                    named[segment] = await units.get(ctx.session, segment)
                except DomainError:
                    named[segment] = None
            found = named[segment]
            if found is not None and found.kind == UnitKind.COMMUNE:
                commune = found
                break
        if commune is None:
            plan.unmarked.append((n, cells))
        elif ctx.actor.can(Action.IMPORT_DOSSIERS, commune.path):
            plan.groups.setdefault(commune.code, []).append((n, cells))
        else:
            unit = f"{commune.name} ({commune.code})"
            plan.foreign.append((n, "nhap.row.code_other_commune", {"code": code, "unit": unit}))
    return plan


def _report(
    ctx: Context,
    name: str,
    summaries: list[dossier_import.ImportSummary],
    foreign: list[tuple[int, str, dict[str, Any]]],
) -> str:
    """One summary line per commune imported for (naming it), the notes, then the row errors."""
    lines = []
    errors = list(foreign)
    for i, summary in enumerate(summaries):
        if summary.rows == 0 and len(summaries) > 1:
            continue
        extra = len(foreign) if i == 0 else 0  # refused before the import: counted once, with the first
        lines.append(
            ctx.t(
                "nhap.summary",
                name=name[-60:],
                unit=summary.unit,
                rows=summary.rows + extra,
                new=summary.new,
                updated=summary.updated,
                unchanged=summary.unchanged,
                rejected=summary.rejected + extra,
            )
        )
        errors.extend(summary.errors)
    for summary in summaries:
        lines.extend(ctx.t(key, **params) for key, params in summary.notes(ctx.locale))
    errors.sort(key=lambda e: e[0])
    for row, key, params in errors[:SHOWN_ERRORS]:
        lines.append(ctx.t("nhap.row_error", row=row, reason=ctx.t(key, **params)))
    if len(errors) > SHOWN_ERRORS:
        lines.append(ctx.t("nhap.more_errors", n=len(errors) - SHOWN_ERRORS))
    return "\n".join(lines)
