"""Help sessions: /ghi (guided, "same as last time", one-line shortcut) and /tuan; /sua is in ghi_edit.py.

The guided /ghi is a dialog declared once (the table at the bottom): each step asks with buttons
and takes the answer the same way whether it was tapped or typed ("dvc", "tai nha", "3 nguoi").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from handlers.core import Button, Context, rows
from handlers.dialog import Dialog, State, States, Step, step_button
from handlers.payloads import Payload
from handlers.router import Router, command_args
from services import dossiers, membership, sessions
from services.access import Action
from services.errors import DomainError, InvalidInput, PermissionDenied
from services.sessions.values import Activity, Outcome, Place, SessionDraft, SessionView
from services.text import fold

router = Router(private_only=True)
E = TypeVar("E", Activity, Place, Outcome)
COUNT_CHOICES = (1, 2, 3, 5)


class Ask(States, prefix="ghi"):
    team = State()
    what = State()
    where = State()
    count = State()
    result = State()
    extra = State()


@dataclass(frozen=True)
class Undo(Payload, prefix="ghi.undo"):
    session_id: int


@dataclass(frozen=True)
class SameAsLast(Payload, prefix="ghi.same"):
    """Log again the session this button was shown for (once: a second tap says it is saved)."""

    session_id: int


@dataclass(frozen=True)
class Save(Payload, prefix="ghi.save"):
    """Save the guided dialog as it stands (the optional details are optional)."""


def summary(ctx: Context, activity: Activity, place: Place, citizens: int, result: Outcome | None) -> str:
    parts = [ctx.t(f"ghi.activity_short.{activity.value}"), ctx.t(f"ghi.place.{place.value}")]
    parts.append(ctx.t("ghi.people", n=citizens))
    if result is not None and result is not Outcome.DONE:
        parts.append(ctx.t(f"ghi.result.{result.value}"))
    return " · ".join(parts)


def when(ctx: Context, view: SessionView) -> str:
    return view.occurred_at.astimezone(ctx.tz).strftime("%H:%M %d/%m")


def _backdate_days(ctx: Context) -> int:
    return ctx.settings.logging.backdate_days


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
        when=when(ctx, view),
    )
    ctx.reply(text, [[Button(ctx.t("ghi.buttons.undo"), Undo(view.id).pack())]])


def _already_saved(ctx: Context, view: SessionView) -> None:
    ctx.say(
        "ghi.already_saved",
        [[Button(ctx.t("ghi.buttons.undo"), Undo(view.id).pack())]],
        summary=summary(ctx, view.activity, view.place, view.citizens, view.result),
        when=when(ctx, view),
    )


def _save_button(ctx: Context) -> list[list[Button]]:
    return [[Button(ctx.t("ghi.buttons.save"), Save().pack())]]


# --- /ghi ----------------------------------------------------------------------------------


async def team_closed(ctx: Context) -> PermissionDenied | None:
    """A volunteer whose team was closed hears that (and whom to ask), not «ask your team leader»."""
    team = await membership.closed_team_of(ctx.session, ctx.actor.person_id)
    return PermissionDenied("ghi.team_closed", team=team) if team else None


@router.command(
    "ghi", help_key="ghi.cmd.ghi", action=Action.LOG_SESSION, denied_key="ghi.no_team", refuse=team_closed
)
async def ghi(ctx: Context) -> None:
    teams = await sessions.teams(ctx.session, ctx.actor)
    if not teams:
        ctx.say("ghi.no_team")
        return
    args = command_args(ctx)
    if args:
        try:
            draft = sessions.parse_shortcut(args, ctx.local_now.date(), _backdate_days(ctx))
        except InvalidInput as exc:
            ctx.reply(ctx.t(exc.key, **exc.params) + "\n" + ctx.t("ghi.shortcut_hint"))
            return
        if len(teams) == 1:
            await _save(ctx, teams[0].id, draft)
            return
        ctx.state["shortcut"] = args
    if len(teams) > 1:
        await DIALOG.ask(ctx, Ask.team)
        return
    ctx.state["team_id"] = teams[0].id
    await DIALOG.ask(ctx, Ask.what)


# Each step: how to ask (buttons whose answer is the value) and how to take the answer, tapped or typed.


async def ask_team(ctx: Context) -> None:
    teams = await sessions.teams(ctx.session, ctx.actor)
    buttons = (step_button(t.name[:40], Ask.team, str(t.id)) for t in teams)
    ctx.say("ghi.ask_team", rows(*buttons, per_row=1))


async def take_team(ctx: Context, value: str) -> None:
    teams = await sessions.teams(ctx.session, ctx.actor)  # only the teams the person is in *now*
    typed = fold(value)
    team = next((t for t in teams if str(t.id) == value or fold(t.name) == typed), None)
    if team is None:
        ctx.say("ghi.use_buttons")
        await ask_team(ctx)
        return
    shortcut = ctx.state.get("shortcut")
    if shortcut:
        await _save(
            ctx, team.id, sessions.parse_shortcut(shortcut, ctx.local_now.date(), _backdate_days(ctx))
        )
        return
    ctx.state["team_id"] = team.id
    await DIALOG.ask(ctx, Ask.what)


async def ask_what(ctx: Context) -> None:
    buttons: list[Sequence[Button]] = []
    last = await sessions.last_session(ctx.session, ctx.actor.person_id)
    if last is not None:
        label = ctx.t(
            "ghi.buttons.same", summary=summary(ctx, last.activity, last.place, last.citizens, None)
        )
        buttons.append([Button(label[:60], SameAsLast(last.id).pack())])
    activities = (step_button(ctx.t(f"ghi.activity.{a.value}"), Ask.what, a.value) for a in Activity)
    buttons.extend(rows(*activities, per_row=2))
    ctx.say("ghi.ask_what", buttons)


async def take_what(ctx: Context, value: str) -> None:
    await _take_choice(ctx, value, Activity, sessions.ACTIVITY_ALIASES, Ask.what, "activity", Ask.where)


def ask_where(ctx: Context) -> None:
    places = (step_button(ctx.t(f"ghi.place.{p.value}"), Ask.where, p.value) for p in Place)
    ctx.say("ghi.ask_where", rows(*places))


async def take_where(ctx: Context, value: str) -> None:
    await _take_choice(ctx, value, Place, sessions.PLACE_ALIASES, Ask.where, "place", Ask.count)


def ask_count(ctx: Context) -> None:
    ctx.letter_choices = True  # a typed "4" is four people, never the fourth option
    counts = (step_button(str(n), Ask.count, str(n)) for n in COUNT_CHOICES)
    ctx.say("ghi.ask_count", rows(*counts, per_row=4))


async def take_count(ctx: Context, value: str) -> None:
    try:
        citizens = sessions.check_citizens(fold(value).replace(" ", "").removesuffix("nguoi"))
    except InvalidInput as exc:
        ctx.say(exc.key)
        ask_count(ctx)
        return
    ctx.state["citizens"] = citizens
    await DIALOG.ask(ctx, Ask.result)


def ask_result(ctx: Context) -> None:
    results = (step_button(ctx.t(f"ghi.result.{r.value}"), Ask.result, r.value) for r in Outcome)
    ctx.say("ghi.ask_result", rows(*results, per_row=1))


async def take_result(ctx: Context, value: str) -> None:
    await _take_choice(ctx, value, Outcome, sessions.OUTCOME_ALIASES, Ask.result, "result", Ask.extra)


def ask_extra(ctx: Context) -> None:
    ctx.say("ghi.ask_extra", _save_button(ctx))


async def take_extra(ctx: Context, text: str) -> None:
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
            ctx.state.update(dossier_code=code, procedure=procedure)
            ctx.say("ghi.extra_code", _save_button(ctx), code=code)
            return
        day = sessions.parse_day(text, ctx.local_now.date(), _backdate_days(ctx))
        if day is not None:
            ctx.state["day"] = day.isoformat()
            ctx.say("ghi.extra_day", _save_button(ctx), day=day.strftime("%d/%m"))
            return
        note = sessions.check_note(text)
    except DomainError as exc:
        ctx.say(exc.key, _save_button(ctx), **exc.params)
        return
    ctx.state["note"] = note
    await _save(ctx, int(ctx.state["team_id"]), _draft_from_state(ctx.state))


async def _take_choice(
    ctx: Context, value: str, kind: type[E], aliases: dict[str, E], here: State, field: str, then: State
) -> None:
    """A step whose answer is one of an enum's values: keep it and ask the next step, or say to use
    the buttons and ask this one again."""
    choice = _choice(value, kind, aliases)
    if choice is None:
        ctx.say("ghi.use_buttons")
        await DIALOG.ask(ctx, here)
        return
    ctx.state[field] = choice.value
    await DIALOG.ask(ctx, then)


def _choice(value: str, kind: type[E], aliases: dict[str, E]) -> E | None:
    """A button's value (the enum's) or typed words that mean one (aliases, folded, spaces removed)."""
    if value in {e.value for e in kind}:
        return kind(value)
    return aliases.get(fold(value).replace(" ", ""))


@router.typed(Save)
async def save(ctx: Context, _: Save) -> None:
    if ctx.state_name == Ask.extra and "result" in ctx.state:
        await _save(ctx, int(ctx.state["team_id"]), _draft_from_state(ctx.state))
        return
    saved = ctx.state.get("saved")
    if ctx.state_name is None and isinstance(saved, int):
        last = await sessions.last_session(ctx.session, ctx.actor.person_id)
        if last is not None and last.id == saved:
            _already_saved(ctx, last)
            return
    ctx.say("ghi.stale")


@router.typed(SameAsLast)
async def same_as_last(ctx: Context, data: SameAsLast) -> None:
    last = await sessions.last_session(ctx.session, ctx.actor.person_id)
    if last is None:
        ctx.say("core.stale_button")
        return
    if last.id != data.session_id:
        # This message offered a copy of that session; anything logged since (this very button
        # tapped before, or another /ghi) means its moment has passed: never a duplicate.
        _already_saved(ctx, last)
        return
    await _save(ctx, last.unit_id, SessionDraft(last.activity, last.place, last.citizens, last.result))


@router.typed(Undo)
async def undo(ctx: Context, data: Undo) -> None:
    view = await sessions.delete(ctx.session, ctx.actor, data.session_id, ctx.now)
    ctx.say("ghi.undone", edit=True, summary=summary(ctx, view.activity, view.place, view.citizens, None))


# --- /tuan ---------------------------------------------------------------------------------


@router.command(
    "tuan", help_key="ghi.cmd.tuan", action=Action.LOG_SESSION, denied_key="ghi.no_team", refuse=team_closed
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


# --- the guided /ghi, as a graph ----------------------------------------------------------------

DIALOG = router.dialog(
    Dialog(
        Ask,
        {
            Ask.team: Step(ask=ask_team, take=take_team),  # only with several teams
            Ask.what: Step(ask=ask_what, take=take_what),  # «như lần trước» skips to saving
            Ask.where: Step(ask=ask_where, take=take_where),
            Ask.count: Step(ask=ask_count, take=take_count),
            Ask.result: Step(ask=ask_result, take=take_result),
            Ask.extra: Step(ask=ask_extra, take=take_extra),  # optional details, then «Lưu»
        },
        stale_key="ghi.stale",
    )
)
