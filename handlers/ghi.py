"""Help sessions: /ghi (guided, "same as last time", one-line shortcut) and /tuan; /sua is in ghi_edit.py,
how an entry is shown (for both) in ghi_entry.py.

The guided /ghi is a dialog declared once (the table at the bottom): each step asks with buttons
and takes the answer the same way whether it was tapped or typed ("dvc", "tai nha", "3 nguoi").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from handlers.core import Button, Context, rows
from handlers.dialog import Dialog, State, States, Step, Take, step_button
from handlers.ghi_entry import summary, team_closed, when
from handlers.payloads import Payload
from handlers.router import Router, command_args
from services import dossiers, sessions
from services.access import Action
from services.errors import DomainError, InvalidInput
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


async def _team_name(ctx: Context, team_id: int) -> str | None:
    """The team's name while the person may log for it now (still in it, still open), else None."""
    teams = await sessions.teams(ctx.session, ctx.actor)
    return next((t.name for t in teams if t.id == team_id), None)


async def _save(ctx: Context, team_id: int, draft: SessionDraft) -> None:
    team = await _team_name(ctx, team_id)
    if team is None:  # left or removed from the team, or it was closed, since it was picked
        ctx.end()
        ctx.say("ghi.team_gone")
        return
    view = await sessions.log_session(ctx.session, ctx.actor, team_id, draft, ctx.now, ctx.tz)
    ctx.end()
    ctx.state = {"saved": view.id}  # a second tap of the same «Lưu» says "already saved"
    text = ctx.t(
        "ghi.saved",
        summary=summary(ctx, view.activity, view.place, view.citizens, view.result),
        when=when(ctx, view),
        team=team,  # with several teams, which one it counts for; always said, it costs a few words
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
    ctx.state.update(team_id=team.id, picked_team=True)  # «↩ Quay lại» from «what» comes back here
    await DIALOG.ask(ctx, Ask.what)


async def ask_what(ctx: Context) -> None:
    buttons: list[Sequence[Button]] = []
    last = await sessions.last_session(ctx.session, ctx.actor.person_id)
    if last is not None:
        # Everything the copy will carry, the result included (not cut: a cut label hid it).
        copied = summary(ctx, last.activity, last.place, last.citizens, last.result)
        buttons.append([Button(ctx.t("ghi.buttons.same", summary=copied), SameAsLast(last.id).pack())])
    activities = (step_button(ctx.t(f"ghi.activity.{a.value}"), Ask.what, a.value) for a in Activity)
    buttons.extend(rows(*activities, per_row=2))
    ctx.say("ghi.ask_what", [*buttons, *_back(ctx)])


async def take_what(ctx: Context, value: str) -> None:
    await _take_choice(ctx, value, Activity, sessions.ACTIVITY_ALIASES, Ask.what, "activity", Ask.where)


def ask_where(ctx: Context) -> None:
    places = (step_button(ctx.t(f"ghi.place.{p.value}"), Ask.where, p.value) for p in Place)
    ctx.say("ghi.ask_where", [*rows(*places), *_back(ctx)])


async def take_where(ctx: Context, value: str) -> None:
    await _take_choice(ctx, value, Place, sessions.PLACE_ALIASES, Ask.where, "place", Ask.count)


def ask_count(ctx: Context) -> None:
    ctx.letter_choices = True  # a typed "4" is four people, never the fourth option
    counts = (step_button(str(n), Ask.count, str(n)) for n in COUNT_CHOICES)
    ctx.say("ghi.ask_count", [*rows(*counts, per_row=4), *_back(ctx)])


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
    ctx.say("ghi.ask_result", [*rows(*results, per_row=1), *_back(ctx)])


async def take_result(ctx: Context, value: str) -> None:
    await _take_choice(ctx, value, Outcome, sessions.OUTCOME_ALIASES, Ask.result, "result", Ask.extra)


def ask_extra(ctx: Context) -> None:
    ctx.say("ghi.ask_extra", [*_save_button(ctx), *_back(ctx)])


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
    if ctx.state_name != Ask.what or "team_id" not in ctx.state:
        ctx.say("ghi.stale")  # the /ghi that offered it was cancelled or moved on
        return
    # The copy counts for the team of *this* /ghi (picked, or the only one), not the last
    # session's: that may be another team of theirs, one they left, or one since closed.
    draft = SessionDraft(last.activity, last.place, last.citizens, last.result)
    await _save(ctx, int(ctx.state["team_id"]), draft)


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


# --- «↩ Quay lại»: back one step, the earlier answers kept --------------------------------------

_BACK_WORDS = frozenset({"quaylai", "quaylui", "trolai", "back"})  # folded, spaces removed
_PREVIOUS = {
    Ask.what: Ask.team,  # only when this /ghi asked for the team
    Ask.where: Ask.what,
    Ask.count: Ask.where,
    Ask.result: Ask.count,
    Ask.extra: Ask.result,
}


def _previous(ctx: Context) -> State | None:
    here = State(ctx.state_name or "")
    if here == Ask.what and not ctx.state.get("picked_team"):
        return None  # the first step of this /ghi: nothing to go back to
    return _PREVIOUS.get(here)


def _back(ctx: Context) -> list[list[Button]]:
    """The «↩ Quay lại» row under a step's question, on every step but the first."""
    here = State(ctx.state_name or "")
    if _previous(ctx) is None:
        return []
    return [[step_button(ctx.t("ghi.buttons.back"), here, "back")]]


def back_or(take: Take) -> Take:
    """A step's `take` that first hears «↩ Quay lại» (tapped, or typed «quay lại», «back»)."""

    async def take_or_back(ctx: Context, value: str) -> None:
        previous = _previous(ctx)
        if previous is not None and fold(value).replace(" ", "") in _BACK_WORDS:
            await DIALOG.ask(ctx, previous)
            return
        await take(ctx, value)

    return take_or_back


# --- the guided /ghi, as a graph ----------------------------------------------------------------

DIALOG = router.dialog(
    Dialog(
        Ask,
        {
            Ask.team: Step(ask=ask_team, take=take_team),  # only with several teams
            Ask.what: Step(ask=ask_what, take=back_or(take_what)),  # «như lần trước» skips to saving
            Ask.where: Step(ask=ask_where, take=back_or(take_where)),
            Ask.count: Step(ask=ask_count, take=back_or(take_count)),
            Ask.result: Step(ask=ask_result, take=back_or(take_result)),
            Ask.extra: Step(ask=ask_extra, take=back_or(take_extra)),  # optional details, then «Lưu»
        },
        stale_key="ghi.stale",
    )
)
