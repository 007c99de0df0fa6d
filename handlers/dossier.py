"""/hoso: record a citizen's submission, move it through its statuses, show its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from handlers.core import Button, Context, rows, short_label
from handlers.router import Router, command_args
from handlers.tracuu import status_text
from services import dossiers, procedure_search
from services.access import Action
from services.dossiers.codes import CODE_EXAMPLE
from services.dossiers.records import DossierInput, DossierView, Mode, Status
from services.errors import DomainError, InvalidInput, NotFound, PermissionDenied

router = Router()


async def _units(ctx: Context) -> list[tuple[int, str]]:
    units = await dossiers.acting_units(ctx.session, ctx.actor, Action.RECORD_DOSSIER)
    return [(u.id, u.name) for u in units]


@router.command("hoso", help_key="dossier.cmd.hoso", action=Action.RECORD_DOSSIER, private_only=True)
async def hoso(ctx: Context) -> None:
    if not ctx.actor.grants_for(Action.RECORD_DOSSIER) and not ctx.actor.grants_for(
        Action.UPDATE_DOSSIER_STATUS
    ):
        raise PermissionDenied(action=Action.RECORD_DOSSIER.value)
    args = command_args(ctx)
    if not args:
        ctx.goto("hoso.code")
        ctx.say("dossier.ask_code", example=CODE_EXAMPLE)
        return
    code = dossiers.extract_code(args)
    if code is None:
        ctx.say("dossier.errors.bad_code", example=CODE_EXAMPLE)
        return
    await _open(ctx, code)


async def _open(ctx: Context, code: str) -> None:
    try:
        view = await dossiers.get_for_staff(ctx.session, ctx.actor, code, ctx.now)
    except NotFound:
        await _start_record(ctx, code)
        return
    except PermissionDenied:
        ctx.end()
        own = await _in_own_commune(ctx, code)
        if own is None:
            ctx.say("dossier.other_unit", code=code)
            return
        view = own
    ctx.end()
    await _card(ctx, view)


async def _in_own_commune(ctx: Context, code: str) -> DossierView | None:
    """A volunteer's grant is on their team, inside the commune the dossier belongs to: the
    dossiers of their own commune (the ones they record) are theirs to open."""
    view = await dossiers.lookup(ctx.session, code, ctx.now)
    commune_path = await dossiers.unit_path(ctx.session, view.unit_id)
    for unit in await dossiers.acting_units(ctx.session, ctx.actor, Action.RECORD_DOSSIER):
        if commune_path and unit.path.startswith(commune_path):
            return view
    return None


async def _card(ctx: Context, view: DossierView, *, edit: bool = False) -> None:
    path = await dossiers.unit_path(ctx.session, view.unit_id)
    buttons: list[Sequence[Button]] = []
    if ctx.actor.can(Action.UPDATE_DOSSIER_STATUS, path):
        buttons.extend(
            rows(
                *(
                    Button(ctx.t(f"dossier.move.{s.value}"), f"hs:st:{view.id}:{s.value}")
                    for s in dossiers.next_statuses(view.status)
                ),
                per_row=2,
            )
        )
    if dossiers.may_see_history(ctx.actor, path):  # what the button's handler checks
        buttons.append([Button(ctx.t("dossier.buttons.history"), f"hs:h:{view.id}")])
    mode = ctx.t(f"dossier.mode.{view.mode.value}")
    card = status_text(ctx, view, staff=True)
    ctx.reply(card + "\n" + ctx.t("dossier.mode_line", mode=mode), buttons, edit=edit)


async def _start_record(ctx: Context, code: str) -> None:
    units = await _units(ctx)
    if not units:
        ctx.end()
        ctx.say("dossier.not_found_no_record", code=code)
        return
    ctx.goto("hoso.unit", code=code)
    if len(units) > 1:
        ctx.say("dossier.ask_unit", rows(*(Button(n[:40], f"hs:u:{i}") for i, n in units), per_row=1))
        return
    ctx.goto("hoso.proc", unit_id=units[0][0])
    ctx.say("dossier.ask_procedure", code=code)


@router.state("hoso")
async def typed(ctx: Context) -> None:
    text = (ctx.msg.text or "").strip()
    step = ctx.state_name
    try:
        if step == "hoso.code":
            code = dossiers.extract_code(text)
            if code is None:
                ctx.say("dossier.errors.bad_code", example=CODE_EXAMPLE)
                return
            await _open(ctx, code)
        elif step == "hoso.proc":
            _procedure_typed(ctx, text)
        elif step == "hoso.received":
            day = dossiers.parse_day_text(text, ctx.local_now.date())
            if day > ctx.local_now.date():
                raise InvalidInput("dossier.errors.future_date")
            _ask_due(ctx, day.isoformat())
        elif step == "hoso.due":
            day = dossiers.parse_day_text(text, ctx.local_now.date())
            if day.isoformat() < str(ctx.state.get("received")):
                raise InvalidInput("dossier.errors.due_before_received")
            _ask_post(ctx, day.isoformat())
        else:
            ctx.say("dossier.use_buttons")
    except DomainError as exc:
        ctx.say(exc.key, **exc.params)
        if step == "hoso.received":
            _ask_received(ctx)
        elif step == "hoso.due":
            _ask_due(ctx, str(ctx.state.get("received")))


def _procedure_typed(ctx: Context, text: str) -> None:
    if not 2 <= len(text) <= 300:
        ctx.say("dossier.errors.procedure_length")
        return
    dossiers.check_procedure_text(text)  # before anything is kept, the dialog state included
    hits = procedure_search.search(text, limit=5)
    buttons = [Button(short_label(p.name, 60), f"hs:p:{p.code}") for p in hits]
    buttons.append(Button(ctx.t("dossier.buttons.as_typed", text=short_label(text, 30)), "hs:pf"))
    ctx.goto("hoso.proc", proc_text=text)
    if not hits:
        ctx.say("dossier.no_procedure_match", rows(*buttons, per_row=1))
        return
    # Labels are cut to fit a phone; the message keeps every full name.
    names = "\n".join(f"• {p.name}" for p in hits)
    ctx.reply(ctx.t("dossier.pick_procedure") + "\n" + names, rows(*buttons, per_row=1))


def _ask_mode(ctx: Context) -> None:
    ctx.goto("hoso.mode")
    ctx.say(
        "dossier.ask_mode",
        rows(*(Button(ctx.t(f"dossier.mode.{m.value}"), f"hs:m:{m.value}") for m in Mode), per_row=1),
    )


def _ask_received(ctx: Context) -> None:
    ctx.goto("hoso.received")
    ctx.say(
        "dossier.ask_received",
        rows(
            Button(ctx.t("dossier.buttons.today"), "hs:rd:0"),
            Button(ctx.t("dossier.buttons.yesterday"), "hs:rd:1"),
        ),
    )


def _ask_due(ctx: Context, received: str) -> None:
    ctx.goto("hoso.due", received=received)
    ctx.say("dossier.ask_due", [[Button(ctx.t("dossier.buttons.no_due"), "hs:dd:none")]])


def _ask_post(ctx: Context, due: str | None) -> None:
    ctx.goto("hoso.post", due=due)
    ctx.say(
        "dossier.ask_post",
        rows(
            Button(ctx.t("dossier.buttons.post_yes"), "hs:post:1"),
            Button(ctx.t("dossier.buttons.post_no"), "hs:post:0"),
        ),
    )


async def _save(ctx: Context, post: bool) -> None:
    from datetime import date

    s = ctx.state
    received_day = date.fromisoformat(s["received"])
    received_at = ctx.now if received_day == ctx.local_now.date() else dossiers.at_local(received_day, ctx.tz)
    due = dossiers.at_local(date.fromisoformat(s["due"]), ctx.tz, end_of_day=True) if s.get("due") else None
    data = DossierInput(
        code=s["code"],
        procedure_name=s["procedure_name"],
        procedure_code=s.get("procedure_code"),
        mode=Mode(s["mode"]),
        received_at=received_at,
        due_at=due,
        post_return=post,
    )
    view = await dossiers.record(ctx.session, ctx.actor, int(s["unit_id"]), data, ctx.now)
    ctx.end()
    ctx.say("dossier.saved", code=view.code)
    await _card(ctx, view)


@router.callback("hs")
async def pressed(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    kind = parts[1] if len(parts) > 1 else ""
    arg = parts[2] if len(parts) > 2 else ""
    if kind == "st" and arg.isdigit() and len(parts) > 3 and parts[3] in Status.__members__.values():
        await _move(ctx, int(arg), Status(parts[3]))
        return
    if kind == "h" and arg.isdigit():
        await _history(ctx, int(arg))
        return
    step = ctx.state_name or ""
    if not step.startswith("hoso.") or "code" not in ctx.state:
        ctx.say("dossier.stale")
        return
    if kind == "u" and arg.isdigit() and step == "hoso.unit":
        if int(arg) not in [i for i, _n in await _units(ctx)]:
            raise PermissionDenied(action=Action.RECORD_DOSSIER.value)
        ctx.goto("hoso.proc", unit_id=int(arg))
        ctx.say("dossier.ask_procedure", code=ctx.state["code"])
    elif kind == "p" and step == "hoso.proc" and (proc := dossiers.procedure_by_code(arg)) is not None:
        ctx.goto("hoso.proc", procedure_name=proc.name, procedure_code=proc.code)
        _ask_mode(ctx)
    elif kind == "pf" and step == "hoso.proc" and ctx.state.get("proc_text"):
        ctx.goto("hoso.proc", procedure_name=ctx.state["proc_text"], procedure_code=None)
        _ask_mode(ctx)
    elif kind == "m" and step == "hoso.mode" and arg in Mode.__members__.values():
        ctx.goto("hoso.mode", mode=arg)
        _ask_received(ctx)
    elif kind == "rd" and step == "hoso.received" and arg in ("0", "1"):
        _ask_due(ctx, (ctx.local_now.date() - timedelta(days=int(arg))).isoformat())
    elif kind == "dd" and step == "hoso.due":
        _ask_post(ctx, None)
    elif kind == "post" and step == "hoso.post" and arg in ("0", "1"):
        await _save(ctx, arg == "1")
    else:
        ctx.say("dossier.stale")


async def _move(ctx: Context, dossier_id: int, new: Status) -> None:
    code = await dossiers.code_of(ctx.session, dossier_id)
    try:
        change = await dossiers.change_status(ctx.session, ctx.actor, code, new, ctx.now)
    except InvalidInput as exc:
        if exc.key != "dossier.errors.bad_transition":
            raise
        current = Status(exc.params["status_from"])
        ctx.say(
            exc.key,
            code=code,
            status_from=ctx.t(f"dossier.status.{current.value}"),
            status_to=ctx.t(f"dossier.status.{new.value}"),
        )
        return
    ctx.say("dossier.moved", code=code, status=ctx.t(f"dossier.status.{new.value}"))
    await _card(ctx, change.dossier)
    for person_id in change.subscribers:
        await ctx.notify(
            person_id,
            f"tracuu.notify.{new.value}",
            kind="dossier_status",
            idempotency=f"dossier:{change.dossier.id}:{change.event_id}",
            code=code,
        )


async def _history(ctx: Context, dossier_id: int) -> None:
    code = await dossiers.code_of(ctx.session, dossier_id)
    events = await dossiers.history(ctx.session, ctx.actor, code)
    lines = [ctx.t("dossier.history_title", code=code)]
    for e in events:
        lines.append(
            ctx.t(
                "dossier.history_line",
                at=e.at.astimezone(ctx.tz).strftime("%d/%m/%Y %H:%M"),
                status=ctx.t(f"dossier.status.{e.status_to.value}"),
            )
        )
    ctx.reply("\n".join(lines))
