"""What /ghi and /sua share: how a logged help session is shown, and the refusal a volunteer whose
team was closed gets from either command."""

from __future__ import annotations

from handlers.core import Context
from services import membership
from services.errors import PermissionDenied
from services.sessions.values import Activity, Outcome, Place, SessionView


def summary(ctx: Context, activity: Activity, place: Place, citizens: int, result: Outcome | None) -> str:
    parts = [ctx.t(f"ghi.activity_short.{activity.value}"), ctx.t(f"ghi.place.{place.value}")]
    parts.append(ctx.t("ghi.people", n=citizens))
    if result is not None and result is not Outcome.DONE:
        parts.append(ctx.t(f"ghi.result.{result.value}"))
    return " · ".join(parts)


def when(ctx: Context, view: SessionView) -> str:
    return view.occurred_at.astimezone(ctx.tz).strftime("%H:%M %d/%m")


async def team_closed(ctx: Context) -> PermissionDenied | None:
    """A volunteer whose team was closed hears that (and whom to ask), not «ask your team leader»."""
    team = await membership.closed_team_of(ctx.session, ctx.actor.person_id)
    return PermissionDenied("ghi.team_closed", team=team) if team else None
