"""Officers send the one-stop system's export (.xlsx/.csv) as a document; /nhap explains how."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import ChatType, Context, Incoming, IncomingFile
from handlers.router import Router, say_private_only
from services import people, spreadsheet_guard
from services.access import Action
from services.dossiers import import_ as dossier_import
from services.errors import DomainError

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


def _unit_code(ctx: Context) -> str | None:
    for grant in ctx.actor.grants_for(Action.IMPORT_DOSSIERS):
        if grant.unit_code:
            return grant.unit_code
    return None


def _is_sheet(name: str) -> bool:
    return name.lower().endswith((".xlsx", ".xlsm", ".csv"))


def _profile(caption: str | None) -> str:
    """The column profile named in the caption («profile NAME», also after /nhap)."""
    words = (caption or "").split()
    if words and words[0].startswith("/"):
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
    unit_code = _unit_code(ctx)
    if unit_code is None:
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
    try:
        sheet = await _rows(file, profile)
        summary = await dossier_import.import_file(
            ctx.session, ctx.actor, sheet, file.name, unit_code, ctx.now, ctx.tz, profile=profile
        )
    except DomainError as exc:
        ctx.reply(ctx.t(exc.key, **exc.params) + "\n" + ctx.t("nhap.nothing_imported"))
        return True
    lines = [
        ctx.t(
            "nhap.summary",
            name=file.name[-60:],
            rows=summary.rows,
            new=summary.new,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected=summary.rejected,
        )
    ]
    lines.extend(ctx.t(key, **params) for key, params in summary.notes())
    for row, key, params in summary.errors[:SHOWN_ERRORS]:
        lines.append(ctx.t("nhap.row_error", row=row, reason=ctx.t(key, **params)))
    if summary.rejected > SHOWN_ERRORS:
        lines.append(ctx.t("nhap.more_errors", n=summary.rejected - SHOWN_ERRORS))
    ctx.reply("\n".join(lines))
    return True
