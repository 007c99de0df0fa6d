"""Help sessions: /ghi (guided, "same as last time", one-line shortcut), /sua (edit, delete), /tuan."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from handlers.core import Button, Context, rows
from handlers.router import Router, command_args
from services import dossiers, sessions
from services.access import Action
from services.errors import DomainError, InvalidInput
from services.sessions.values import Activity, Outcome, Place, SessionDraft, SessionView
from services.text import fold

router = Router()
COUNT_CHOICES = (1, 2, 3, 5)


def _cfg(ctx: Context) -> sessions.LoggingConfig:
    return sessions.config_from(ctx.config.get("logging"))


def summary(ctx: Context, activity: Activity, place: Place, citizens: int, result: Outcome | None) -> str:
    parts = [ctx.t(f"ghi.activity_short.{activity.value}"), ctx.t(f"ghi.place.{place.value}")]
    parts.append(ctx.t("ghi.people", n=citizens))
    if result is not None and result is not Outcome.DONE:
        parts.append(ctx.t(f"ghi.result.{result.value}"))
    return " · ".join(parts)


def _when(ctx: Context, view: SessionView) -> str:
    local = view.occurred_at.astimezone(ctx.tz)
    return local.strftime("%H:%M %d/%m")


def _draft_from_state(state: dict[str, Any]) -> SessionDraft:
    return SessionDraft(
        activity=Activity(state["activity"]),
        place=Place(state["place"]),
        citizens=int(state.get("citizens", 1)),
        result=Outcome(state.get("result", Outcome.DONE.value)),
        day=date.fromisoformat(state["day"]) if state.get("day") else None,
        dossier_code=state.get("dossier_code"),
        procedure=state.get("procedure"),
        note=state.get("note"),
    )


async def _save(ctx: Context, team_id: int, draft: SessionDraft) -> None:
    view = await sessions.log_session(ctx.session, ctx.actor, team_id, draft, ctx.now, ctx.tz)
    ctx.end()
    ctx.state = {"saved": view.id}  # a second tap of the same «Lưu» says "already saved"
    text = ctx.t(
        "ghi.saved",
        summary=summary(ctx, view.activity, view.place, view.citizens, view.result),
        when=_when(ctx, view),
    )
    ctx.reply(text, [[Button(ctx.t("ghi.buttons.undo"), f"ghi:undo:{view.id}")]])


def _already_saved(ctx: Context, view: SessionView) -> None:
    ctx.say(
        "ghi.already_saved",
        [[Button(ctx.t("ghi.buttons.undo"), f"ghi:undo:{view.id}")]],
        summary=summary(ctx, view.activity, view.place, view.citizens, view.result),
        when=_when(ctx, view),
    )


# --- /ghi ----------------------------------------------------------------------------------


@router.command(
    "ghi", help_key="ghi.cmd.ghi", action=Action.LOG_SESSION, denied_key="ghi.no_team", private_only=True
)
async def ghi(ctx: Context) -> None:
    teams = await sessions.teams(ctx.session, ctx.actor)
    if not teams:
        ctx.say("ghi.no_team")
        return
    args = command_args(ctx)
    if args:
        try:
            draft = sessions.parse_shortcut(args, ctx.local_now.date(), _cfg(ctx).backdate_days)
        except InvalidInput as exc:
            ctx.reply(ctx.t(exc.key, **exc.params) + "\n" + ctx.t("ghi.shortcut_hint"))
            return
        if len(teams) == 1:
            await _save(ctx, teams[0].id, draft)
            return
        ctx.goto("ghi.team", shortcut=args)
        _ask_team(ctx, teams)
        return
    if len(teams) > 1:
        ctx.goto("ghi.team")
        _ask_team(ctx, teams)
        return
    await _ask_what(ctx, teams[0].id)


def _ask_team(ctx: Context, teams: list[Any]) -> None:
    ctx.say("ghi.ask_team", rows(*(Button(t.name[:40], f"ghi:t:{t.id}") for t in teams), per_row=1))


async def _ask_what(ctx: Context, team_id: int) -> None:
    ctx.goto("ghi.what", team_id=team_id)
    buttons: list[Sequence[Button]] = []
    last = await sessions.last_session(ctx.session, ctx.actor.person_id)
    if last is not None:
        label = ctx.t(
            "ghi.buttons.same", summary=summary(ctx, last.activity, last.place, last.citizens, None)
        )
        buttons.append([Button(label[:60], f"ghi:same:{last.id}")])
    buttons.extend(
        rows(*(Button(ctx.t(f"ghi.activity.{a.value}"), f"ghi:a:{a.value}") for a in Activity), per_row=2)
    )
    ctx.say("ghi.ask_what", buttons)


def _ask_where(ctx: Context) -> None:
    ctx.goto("ghi.where")
    ctx.say(
        "ghi.ask_where", rows(*(Button(ctx.t(f"ghi.place.{p.value}"), f"ghi:p:{p.value}") for p in Place))
    )


def _ask_count(ctx: Context) -> None:
    ctx.goto("ghi.count")
    ctx.letter_choices = True  # a typed "4" is four people, never the fourth option
    ctx.say("ghi.ask_count", rows(*(Button(str(n), f"ghi:n:{n}") for n in COUNT_CHOICES), per_row=4))


def _ask_result(ctx: Context) -> None:
    ctx.goto("ghi.result")
    ctx.say(
        "ghi.ask_result",
        rows(*(Button(ctx.t(f"ghi.result.{r.value}"), f"ghi:r:{r.value}") for r in Outcome), per_row=1),
    )


def _ask_extra(ctx: Context) -> None:
    ctx.goto("ghi.extra")
    ctx.say("ghi.ask_extra", [[Button(ctx.t("ghi.buttons.save"), "ghi:save")]])


@router.callback("ghi")
async def ghi_button(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    kind, arg = parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""
    if kind == "undo" and arg.isdigit():
        view = await sessions.delete(ctx.session, ctx.actor, int(arg), ctx.now)
        ctx.say("ghi.undone", edit=True, summary=summary(ctx, view.activity, view.place, view.citizens, None))
        return
    if kind == "t" and arg.isdigit():
        teams = await sessions.teams(ctx.session, ctx.actor)
        team = next((t for t in teams if t.id == int(arg)), None)
        if team is None:
            ctx.say("errors.permission_denied")
            return
        shortcut = ctx.state.get("shortcut")
        if shortcut:
            draft = sessions.parse_shortcut(shortcut, ctx.local_now.date(), _cfg(ctx).backdate_days)
            await _save(ctx, team.id, draft)
            return
        await _ask_what(ctx, team.id)
        return
    if kind == "same" and arg.isdigit():
        last = await sessions.last_session(ctx.session, ctx.actor.person_id)
        if last is None:
            ctx.say("core.stale_button")
            return
        if last.id != int(arg):
            # This message offered a copy of session #arg; anything logged since (this very
            # button tapped before, or another /ghi) means its moment has passed: never a duplicate.
            _already_saved(ctx, last)
            return
        draft = SessionDraft(last.activity, last.place, last.citizens, last.result)
        await _save(ctx, last.unit_id, draft)
        return
    if "team_id" not in ctx.state or not (ctx.state_name or "").startswith("ghi."):
        saved = ctx.state.get("saved")
        if kind == "save" and ctx.state_name is None and isinstance(saved, int):
            last = await sessions.last_session(ctx.session, ctx.actor.person_id)
            if last is not None and last.id == saved:
                _already_saved(ctx, last)
                return
        ctx.say("ghi.stale")
        return
    if kind == "a" and arg in Activity.__members__.values():
        ctx.goto("ghi.where", activity=arg)
        _ask_where(ctx)
    elif kind == "p" and arg in Place.__members__.values() and "activity" in ctx.state:
        ctx.goto("ghi.count", place=arg)
        _ask_count(ctx)
    elif kind == "n" and arg.isdigit() and "place" in ctx.state:
        ctx.goto("ghi.result", citizens=int(arg))
        _ask_result(ctx)
    elif kind == "r" and arg in Outcome.__members__.values() and "citizens" in ctx.state:
        ctx.goto("ghi.extra", result=arg)
        _ask_extra(ctx)
    elif kind == "save" and "result" in ctx.state:
        await _save(ctx, int(ctx.state["team_id"]), _draft_from_state(ctx.state))
    else:
        ctx.say("ghi.stale")


@router.state("ghi")
async def ghi_typed(ctx: Context) -> None:
    text = (ctx.msg.text or "").strip()
    step = ctx.state_name
    key = fold(text).replace(" ", "")
    if step == "ghi.what" and key in sessions.ACTIVITY_ALIASES:
        ctx.goto("ghi.where", activity=sessions.ACTIVITY_ALIASES[key].value)
        _ask_where(ctx)
    elif step == "ghi.where" and key in sessions.PLACE_ALIASES:
        ctx.goto("ghi.count", place=sessions.PLACE_ALIASES[key].value)
        _ask_count(ctx)
    elif step == "ghi.count":
        try:
            n = sessions.check_citizens(key.removesuffix("nguoi"))
        except InvalidInput as exc:
            ctx.say(exc.key)
            _ask_count(ctx)
            return
        ctx.goto("ghi.result", citizens=n)
        _ask_result(ctx)
    elif step == "ghi.result" and key in sessions.OUTCOME_ALIASES:
        ctx.goto("ghi.extra", result=sessions.OUTCOME_ALIASES[key].value)
        _ask_extra(ctx)
    elif step == "ghi.extra":
        await _extra(ctx, text)
    else:
        ctx.say("ghi.use_buttons")
        if step == "ghi.what":
            await _ask_what(ctx, int(ctx.state["team_id"]))
        elif step == "ghi.where":
            _ask_where(ctx)
        elif step == "ghi.result":
            _ask_result(ctx)


async def _extra(ctx: Context, text: str) -> None:
    """Optional details: a dossier code (and procedure), a late date, or a short note."""
    if len(text) > 500:
        ctx.say("ghi.errors.note_too_long")
        return
    first, _, rest = text.partition(" ")
    try:
        code = dossiers.parse_code(first)
        if code is not None:
            procedure = rest.strip() or None
            if procedure:
                found = dossiers.search_procedures(procedure, limit=1)
                procedure = found[0].name if found else procedure[:200]
            ctx.goto("ghi.extra", dossier_code=code, procedure=procedure)
            ctx.say("ghi.extra_code", [[Button(ctx.t("ghi.buttons.save"), "ghi:save")]], code=code)
            return
        day = sessions.parse_day(text, ctx.local_now.date(), _cfg(ctx).backdate_days)
        if day is not None:
            ctx.goto("ghi.extra", day=day.isoformat())
            ctx.say(
                "ghi.extra_day", [[Button(ctx.t("ghi.buttons.save"), "ghi:save")]], day=day.strftime("%d/%m")
            )
            return
        note = sessions.check_note(text)
    except DomainError as exc:
        ctx.say(exc.key, [[Button(ctx.t("ghi.buttons.save"), "ghi:save")]], **exc.params)
        return
    ctx.goto("ghi.extra", note=note)
    await _save(ctx, int(ctx.state["team_id"]), _draft_from_state(ctx.state))


# --- /sua ----------------------------------------------------------------------------------


@router.command(
    "sua", help_key="ghi.cmd.sua", action=Action.LOG_SESSION, denied_key="ghi.no_team", private_only=True
)
async def sua(ctx: Context) -> None:
    entries = await sessions.recent(ctx.session, ctx.actor.person_id, ctx.now)
    if not entries:
        ctx.say("ghi.sua_none")
        return
    buttons = [
        Button(
            f"{_when(ctx, v)} {summary(ctx, v.activity, v.place, v.citizens, v.result)}"[:60], f"sua:s:{v.id}"
        )
        for v in entries
    ]
    ctx.say("ghi.sua_pick", rows(*buttons, per_row=1))


@router.callback("sua")
async def sua_button(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) < 3 or not parts[2].isdigit():
        ctx.say("core.stale_button")
        return
    kind, sid = parts[1], int(parts[2])
    if kind == "s":
        ctx.say(
            "ghi.sua_what",
            rows(
                Button(ctx.t("ghi.buttons.edit_count"), f"sua:n:{sid}"),
                Button(ctx.t("ghi.buttons.edit_result"), f"sua:r:{sid}"),
                Button(ctx.t("ghi.buttons.delete"), f"sua:del:{sid}"),
                per_row=1,
            ),
            edit=True,
        )
    elif kind == "del":
        # Deleting is not undone by a tap: ask first, showing what would go.
        recent = await sessions.recent(ctx.session, ctx.actor.person_id, ctx.now)
        view = next((v for v in recent if v.id == sid), None)
        if view is None:
            ctx.say("core.stale_button")
            return
        ctx.say(
            "ghi.sua_confirm_delete",
            rows(
                Button(ctx.t("ghi.buttons.delete_yes"), f"sua:delok:{sid}"),
                Button(ctx.t("ghi.buttons.delete_no"), f"sua:keep:{sid}"),
            ),
            edit=True,
            summary=_when(ctx, view)
            + " "
            + summary(ctx, view.activity, view.place, view.citizens, view.result),
        )
    elif kind == "delok":
        view = await sessions.delete(ctx.session, ctx.actor, sid, ctx.now)
        ctx.say("ghi.undone", edit=True, summary=summary(ctx, view.activity, view.place, view.citizens, None))
    elif kind == "keep":
        ctx.say("ghi.sua_kept", edit=True)
    elif kind == "n":
        ctx.goto("ghi_sua.count", session_id=sid)
        ctx.say("ghi.ask_count")
    elif kind == "r":
        ctx.say(
            "ghi.ask_result",
            rows(
                *(Button(ctx.t(f"ghi.result.{r.value}"), f"sua:rr:{sid}:{r.value}") for r in Outcome),
                per_row=1,
            ),
        )
    elif kind == "rr" and len(parts) > 3 and parts[3] in Outcome.__members__.values():
        view = await sessions.update(ctx.session, ctx.actor, sid, ctx.now, result=Outcome(parts[3]))
        ctx.say(
            "ghi.updated",
            edit=True,
            summary=summary(ctx, view.activity, view.place, view.citizens, view.result),
        )
    else:
        ctx.say("core.stale_button")


@router.state("ghi_sua")
async def sua_typed(ctx: Context) -> None:
    try:
        n = sessions.check_citizens(fold(ctx.msg.text or "").replace(" ", "").removesuffix("nguoi"))
    except InvalidInput as exc:
        ctx.say(exc.key)
        return
    view = await sessions.update(ctx.session, ctx.actor, int(ctx.state["session_id"]), ctx.now, citizens=n)
    ctx.end()
    ctx.say("ghi.updated", summary=summary(ctx, view.activity, view.place, view.citizens, view.result))


# --- /tuan ---------------------------------------------------------------------------------


@router.command(
    "tuan", help_key="ghi.cmd.tuan", action=Action.LOG_SESSION, denied_key="ghi.no_team", private_only=True
)
async def tuan(ctx: Context) -> None:
    today = ctx.local_now.date()
    start = sessions.week_start_of(today)
    week = await sessions.week_summary(ctx.session, ctx.actor.person_id, start, ctx.tz)
    lines = [
        ctx.t(
            "ghi.week_title",
            start=start.strftime("%d/%m"),
            end=(start + timedelta(days=6)).strftime("%d/%m"),
            sessions=week.sessions,
            citizens=week.citizens,
        )
    ]
    for activity, n in sorted(week.by_activity.items(), key=lambda x: -x[1]):
        lines.append(ctx.t("ghi.week_line", activity=ctx.t(f"ghi.activity.{activity.value}"), n=n))
    if not week.sessions:
        lines.append(ctx.t("ghi.week_empty"))
    ctx.reply("\n".join(lines))
