"""/sua: edit the number of people or the result of a help session of the last 24 hours, or delete it
(after a confirmation). Services check that the session is the person's and that they still may."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core import Button, Context, rows
from handlers.ghi_entry import summary, team_closed, when
from handlers.payloads import Payload
from handlers.router import Router
from services import sessions
from services.access import Action
from services.errors import InvalidInput
from services.sessions.values import Outcome
from services.text import fold

router = Router(private_only=True)
EDIT_COUNT = "ghi_sua.count"  # waiting for the new number of people


@dataclass(frozen=True)
class Edit(Payload, prefix="sua"):
    """What to do with one session: s (show choices), n (count), r (result), del, delok, keep."""

    action: str
    session_id: int


@dataclass(frozen=True)
class SetResult(Payload, prefix="sua.rr"):
    session_id: int
    result: Outcome


@router.command(
    "sua", help_key="ghi.cmd.sua", action=Action.LOG_SESSION, denied_key="ghi.no_team", refuse=team_closed
)
async def sua(ctx: Context) -> None:
    entries = await sessions.recent(ctx.session, ctx.actor, ctx.now)  # only those still editable
    if not entries:
        ctx.say("ghi.sua_none")
        return
    buttons = [
        Button(
            f"{when(ctx, v)} {summary(ctx, v.activity, v.place, v.citizens, v.result)}"[:60],
            Edit("s", v.id).pack(),
        )
        for v in entries
    ]
    ctx.say("ghi.sua_pick", rows(*buttons, per_row=1))


@router.typed(Edit)
async def edit(ctx: Context, data: Edit) -> None:
    sid = data.session_id
    if data.action == "keep":
        ctx.say("ghi.sua_kept", edit=True)
        return
    # Still editable now (own, in the window, a team one is in and still open)? Said at the first
    # tap, naming the entry's team — not at the end of the dialog.
    view = await sessions.editable(ctx.session, ctx.actor, sid, ctx.now)
    if data.action == "s":
        ctx.say(
            "ghi.sua_what",
            rows(
                Button(ctx.t("ghi.buttons.edit_count"), Edit("n", sid).pack()),
                Button(ctx.t("ghi.buttons.edit_result"), Edit("r", sid).pack()),
                Button(ctx.t("ghi.buttons.delete"), Edit("del", sid).pack()),
                per_row=1,
            ),
            edit=True,
        )
    elif data.action == "del":
        # Deleting is not undone by a tap: ask first, showing what would go.
        ctx.say(
            "ghi.sua_confirm_delete",
            rows(
                Button(ctx.t("ghi.buttons.delete_yes"), Edit("delok", sid).pack()),
                Button(ctx.t("ghi.buttons.delete_no"), Edit("keep", sid).pack()),
            ),
            edit=True,
            summary=when(ctx, view)
            + " "
            + summary(ctx, view.activity, view.place, view.citizens, view.result),
        )
    elif data.action == "delok":
        view = await sessions.delete(ctx.session, ctx.actor, sid, ctx.now)
        ctx.say("ghi.undone", edit=True, summary=summary(ctx, view.activity, view.place, view.citizens, None))
    elif data.action == "n":
        ctx.goto(EDIT_COUNT, session_id=sid)
        ctx.say("ghi.ask_count_typed")  # no number buttons here: the text must not promise them
    elif data.action == "r":
        ctx.say(
            "ghi.ask_result",
            rows(
                *(Button(ctx.t(f"ghi.result.{r.value}"), SetResult(sid, r).pack()) for r in Outcome),
                per_row=1,
            ),
        )
    else:
        ctx.say("core.stale_button")


@router.typed(SetResult)
async def set_result(ctx: Context, data: SetResult) -> None:
    view = await sessions.update(ctx.session, ctx.actor, data.session_id, ctx.now, result=data.result)
    ctx.say(
        "ghi.updated", edit=True, summary=summary(ctx, view.activity, view.place, view.citizens, view.result)
    )


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
