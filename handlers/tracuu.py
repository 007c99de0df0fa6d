"""Dossier status look-up for anyone: /tracuu CODE or a bare code; subscribe to changes."""

from __future__ import annotations

from handlers.core import Button, Context
from handlers.router import CANCEL_PAYLOAD, Router, cancel_as_typed, command_args, pass_on
from services import dossiers, privacy
from services.dossiers.codes import FULL_CODE_EXAMPLE
from services.dossiers.records import DossierView, Status
from services.errors import NotFound
from services.text import fold_words as fold_phrase

router = Router()
MAX_CODE_IN_PAYLOAD = 64 - len("tc:sub:")


def _date(ctx: Context, view: DossierView) -> str:
    if view.due_at is None:
        return ctx.t("tracuu.no_due")
    return view.due_at.astimezone(ctx.tz).strftime("%d/%m/%Y")


def status_text(ctx: Context, view: DossierView, *, staff: bool = False) -> str:
    """The public answer: status, due date, lateness, next step — never anyone's personal data.
    `staff`: the commune's own volunteers and officers, who read the procedure as it was typed."""
    if staff:
        procedure: str | None = privacy.redact(view.procedure_name)
    else:
        procedure = dossiers.public_procedure(view)
    lines = [
        ctx.t(
            "tracuu.card",
            code=view.code,
            procedure=procedure if procedure is not None else ctx.t("tracuu.procedure_unlisted"),
            unit=view.unit_name,
        ),
        ctx.t("tracuu.status_line", status=ctx.t(f"dossier.status.{view.status.value}")),
        ctx.t("tracuu.received_line", date=view.received_at.astimezone(ctx.tz).strftime("%d/%m/%Y")),
        ctx.t("tracuu.due_line", date=_date(ctx, view)),
    ]
    if view.overdue:
        lines.append(ctx.t("tracuu.overdue"))
    elif view.late:
        lines.append(ctx.t("tracuu.late"))
    lines.append(next_step(ctx, view))
    return "\n".join(lines)


# While the agency still holds an overdue dossier, the citizen is owed a written apology with a
# new date (Phiếu xin lỗi và hẹn lại ngày trả kết quả: Decree 61/2018/NĐ-CP art. 19, kept by Decree
# 118/2025/NĐ-CP which replaced it on 1 July 2025). Waiting for the citizen's papers is not that case.
_APOLOGY_OWED = frozenset({Status.RECEIVED, Status.PROCESSING})


def next_step(ctx: Context, view: DossierView) -> str:
    """What to do now; an overdue dossier never says "wait for the due date"."""
    if view.overdue and view.status in _APOLOGY_OWED:
        return ctx.t("tracuu.next_overdue.apology", unit=view.unit_name)
    if view.overdue and view.status is Status.SUPPLEMENT:
        return ctx.t("tracuu.next_overdue.supplement", unit=view.unit_name)
    return ctx.t(f"tracuu.next.{view.status.value}")


async def answer(ctx: Context, code: str) -> None:
    if not await privacy.lookup_allowed(ctx.session, ctx.actor.person_id, ctx.now, code):
        ctx.end()
        ctx.say("tracuu.too_many", minutes=int(privacy.LOOKUP_WINDOW.total_seconds() // 60))
        return
    try:
        view = await dossiers.lookup(ctx.session, code, ctx.now)
    except NotFound:
        if dossiers.is_tail(code):  # «H46-260910-0001»: the end of the code on the receipt
            ctx.say("tracuu.partial_code", code=code, example=FULL_CODE_EXAMPLE)
        else:
            ctx.say("tracuu.not_found", code=code)
        return
    payload = f"tc:sub:{code}" if len(code.encode()) <= MAX_CODE_IN_PAYLOAD else "tc:sub"
    if payload == "tc:sub":
        ctx.goto("tracuu.sub", code=code)
    ctx.reply(status_text(ctx, view), [[Button(ctx.t("tracuu.buttons.subscribe"), payload)]])


def ask_code(ctx: Context) -> None:
    """Wait for a code, with a way out («Huỷ»; a numbered choice where there are no buttons)."""
    ctx.goto("tracuu.code")
    ctx.say("tracuu.ask_code", _cancel_row(ctx), example=FULL_CODE_EXAMPLE)


def _cancel_row(ctx: Context) -> list[list[Button]]:
    return [[Button(ctx.t("core.buttons.cancel"), CANCEL_PAYLOAD)]]


def _code_of(text: str) -> str | None:
    return dossiers.extract_code(text) or dossiers.code_in_sentence(text)


@router.command("tracuu", help_key="tracuu.cmd.tracuu")
async def tracuu(ctx: Context) -> None:
    args = command_args(ctx)
    if not args:
        ask_code(ctx)
        return
    code = _code_of(args)
    if code is None:
        ctx.say("tracuu.bad_code", example=FULL_CODE_EXAMPLE)
        return
    await answer(ctx, code)


# «huỷ», «thôi không cần nữa», «bỏ qua»… (folded): the person leaves the look-up, as with /huy.
# «thôi» alone or with what follows it in a refusal, never «thời gian…» (folds the same).
_CANCEL_FIRST = frozenset({"huy", "cancel", "stop", "quit", "exit", "thoat"})
_AFTER_THOI = frozenset({"khong", "ko", "k", "nhe", "nha", "a", "ah", "vay", "bo", "di", "khoi", "de", "thi"})
_CANCEL_PHRASES = ("khong can", "ko can", "khoi can", "bo qua", "dung lai", "khong tra nua", "de sau")


def is_cancel(text: str) -> bool:
    said = fold_phrase(text)
    words = said.split()
    if not words or len(words) > 8 or any(c.isdigit() for c in said):
        return False
    if words[0] in _CANCEL_FIRST or said == "khoi":
        return True
    if words[0] == "thoi" and (len(words) == 1 or words[1] in _AFTER_THOI):
        return True
    return any(p in said for p in _CANCEL_PHRASES)


def _tries_a_code(text: str) -> bool:
    """Short, with a run of three digits or more: a code mistyped or cut short, worth a second try.
    Words alone, a question, a request for a person are not: they leave the look-up."""
    tokens = text.split()
    return dossiers.looks_like_code_attempt(text) or (
        len(tokens) <= 6 and any(sum(c.isdigit() for c in t) >= 3 for t in tokens)
    )


@router.state("tracuu")
async def typed_code(ctx: Context) -> None:
    text = ctx.msg.text or ""
    code = _code_of(text)
    if code is None and ctx.state_name == "tracuu.sub":
        await pass_on(ctx)  # only waiting for a possible «subscribe» press
        return
    if code is not None:
        ctx.end()
        await answer(ctx, code)
    elif is_cancel(text):
        await cancel_as_typed(ctx)
    elif _tries_a_code(text):
        ctx.say("tracuu.bad_code", _cancel_row(ctx), example=FULL_CODE_EXAMPLE)
    else:
        await pass_on(ctx)  # not a code at all: handled as if the look-up had not been asked


@router.text(priority=10)
async def bare_code(ctx: Context) -> bool:
    """A message that is essentially one dossier code; ordinary questions pass through."""
    text = ctx.msg.text or ""
    code = dossiers.extract_code(text) or dossiers.code_in_sentence(text)
    if code is not None:
        await answer(ctx, code)
        return True
    if dossiers.looks_like_code_attempt(text):
        ctx.say("tracuu.bad_code", example=FULL_CODE_EXAMPLE)
        return True
    return False


# "hồ sơ của tôi đã xong chưa?" without a code: the look-up is the answer, not a how-to entry.
_STATUS_WORDS = (
    "xong chua",
    "den dau",
    "toi dau",
    "the nao roi",
    "co ket qua chua",
    "bao gio co",
    "tra cuu",
    "kiem tra",
)


@router.text(priority=12)
async def status_question(ctx: Context) -> bool:
    said = fold_phrase(ctx.msg.text or "")
    if "ho so" not in said or not any(w in said for w in _STATUS_WORDS):
        return False
    ask_code(ctx)
    return True


@router.callback("tc")
async def subscribe(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":", 2)
    code = parts[2] if len(parts) > 2 else str(ctx.state.get("code") or "")
    code = dossiers.parse_code(code) or ""
    if not code:
        ctx.say("core.stale_button")
        return
    try:
        added = await dossiers.subscribe(ctx.session, ctx.actor.person_id, code)
    except NotFound:
        ctx.say("tracuu.not_found", code=code)
        return
    if ctx.state_name == "tracuu.sub":
        ctx.end()
    ctx.say("tracuu.subscribed" if added else "tracuu.already_subscribed", code=code)
