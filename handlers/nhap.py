"""Officers send the one-stop system's export (.xlsx/.csv) as a document; /nhap explains how."""

from __future__ import annotations

from handlers.core import Context
from handlers.router import Router
from services.access import Action
from services.dossiers import import_ as dossier_import
from services.errors import DomainError

router = Router()
SHOWN_ERRORS = 15
MAX_UPLOAD = 20 * 1024 * 1024


@router.command("nhap", help_key="nhap.cmd.nhap", action=Action.IMPORT_DOSSIERS, private_only=True)
async def nhap(ctx: Context) -> None:
    ctx.say("nhap.help.nhap")


def _unit_code(ctx: Context) -> str | None:
    for grant in ctx.actor.grants_for(Action.IMPORT_DOSSIERS):
        if grant.unit_code:
            return grant.unit_code
    return None


@router.file()
async def uploaded(ctx: Context) -> bool:
    file = ctx.msg.file
    if file is None or not file.name.lower().endswith((".xlsx", ".xlsm", ".csv")):
        return False
    unit_code = _unit_code(ctx)
    if unit_code is None:
        return False
    if len(file.data) > MAX_UPLOAD:
        ctx.say("nhap.errors.too_large", mb=MAX_UPLOAD // (1024 * 1024))
        return True
    profile = "generic"
    caption = (ctx.msg.text or "").strip()
    if caption.lower().startswith("profile "):
        profile = caption.split(None, 1)[1].strip()
    try:
        summary = await dossier_import.import_file(
            ctx.session, ctx.actor, file.data, file.name, unit_code, ctx.now, ctx.tz, profile=profile
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
    for row, key, params in summary.errors[:SHOWN_ERRORS]:
        lines.append(ctx.t("nhap.row_error", row=row, reason=ctx.t(key, **params)))
    if summary.rejected > SHOWN_ERRORS:
        lines.append(ctx.t("nhap.more_errors", n=summary.rejected - SHOWN_ERRORS))
    ctx.reply("\n".join(lines))
    return True
