"""/chitieu: leaders set an indicator's target for a unit and a quarter or year («/chitieu 19786 Tỷ lệ
hồ sơ trực tuyến quý 4 72,5»); words that fit several indicators offer them as choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.core import Button, Context, rows
from handlers.kpi import fmt, period_label, settings
from handlers.payloads import Payload
from handlers.router import Router, command_args
from services import kpi
from services.access import Action
from services.errors import InvalidInput, PermissionDenied
from services.kpi import targets
from services.kpi.settings import IndicatorDef, KpiSettings

router = Router()


@dataclass(frozen=True)
class SetTarget(Payload, prefix="kpt"):
    """/chitieu whose words fit several indicators: the one chosen completes the command."""

    unit: str
    indicator: str
    period: str  # the period key
    value: str  # as typed


async def leaders_only(ctx: Context) -> PermissionDenied:
    """/chitieu from an officer, a volunteer…: who sets targets, not «outside your unit»."""
    return PermissionDenied(
        "kpi.errors.leaders_only_kpi" if ctx.actor.can(Action.VIEW_KPI) else "kpi.errors.leaders_only"
    )


@router.command(
    "chitieu", help_key="kpi.cmd.chitieu", action=Action.SET_TARGETS, private_only=True, refuse=leaders_only
)
async def set_target(ctx: Context) -> None:
    """/chitieu MÃ <chỉ tiêu: mã hoặc tên tiếng Việt, có dấu hoặc không> <kỳ> <giá trị>."""
    cfg = settings(ctx)
    today = kpi.local_day(ctx.now, ctx.tz)
    parsed = _target_args(command_args(ctx).split(), today)
    if parsed is None:
        ctx.reply(_usage(ctx, cfg, today) + "\n" + ctx.t("kpi.codes", indicators=_indicator_list(ctx, cfg)))
        return
    code, indicator_text, period, raw = parsed
    found = targets.indicator_matches(cfg, indicator_text)
    if not found:
        raise InvalidInput("kpi.errors.unknown_indicator", indicator=indicator_text)
    if len(found) == 1:
        await _save_target(ctx, code, found[0], period, raw, today)
        return
    # Several fit («ty le truc tuyen»): everything else is checked now, the choice completes it.
    await targets.target_unit(ctx.session, ctx.actor, code)
    key = targets.target_period_key(period, today)
    targets.parse_value(raw)
    buttons = [Button(i.name(ctx.locale), SetTarget(code, i.id, key, raw).pack()) for i in found]
    ctx.reply(ctx.t("kpi.choose_indicator", words=indicator_text), rows(*buttons))


@router.typed(SetTarget)
async def set_target_chosen(ctx: Context, data: SetTarget) -> None:
    # The service checks the scope again: a payload is as forgeable as typed text.
    today = kpi.local_day(ctx.now, ctx.tz)
    await _save_target(
        ctx, data.unit, settings(ctx).indicator(data.indicator), data.period, data.value, today
    )


async def _save_target(
    ctx: Context, code: str, ind: IndicatorDef, period: str, raw: str, today: date
) -> None:
    cfg = settings(ctx)
    try:
        value = targets.parse_value(raw, ind)
    except InvalidInput as exc:
        if "indicator" in exc.params:
            exc.params["indicator"] = ind.name(ctx.locale)
        raise
    unit, key = await targets.set_target(ctx.session, ctx.actor, cfg, code, ind.id, period, value, raw, today)
    ctx.say(
        "kpi.target_set",
        indicator=ind.name(ctx.locale),
        unit=unit.name,
        period=period_label(kpi.parse_period(key), ctx.catalog, ctx.locale),
        value=fmt(ind, value, ctx.catalog, ctx.locale),
    )


def _target_args(parts: list[str], today: date) -> tuple[str, str, str, str] | None:
    """(unit code, indicator words, period words, value): the period is the longest run of words
    before the value that reads as one («quý 4», «Quý IV/2026», «năm nay»), else the last word."""
    if len(parts) < 4:
        return None
    middle = parts[1:-1]
    for width in (4, 3, 2):
        said = " ".join(middle[-width:])
        if len(middle) > width and targets.is_target_period(said, today):
            return parts[0], " ".join(middle[:-width]), said, parts[-1]
    return parts[0], " ".join(middle[:-1]), middle[-1], parts[-1]


def _usage(ctx: Context, cfg: KpiSettings, today: date) -> str:
    """How to type /chitieu, with the person's own unit code and real indicator names."""
    grant = next((g for g in ctx.actor.grants_for(Action.SET_TARGETS) if g.unit_code), None)
    rate = next((i for i in cfg.indicators if i.unit == "percent"), None)
    count = next((i for i in cfg.indicators if i.unit == "count"), None)
    if grant is None or rate is None or count is None:
        return ctx.t("kpi.help.chitieu")
    return ctx.t(
        "kpi.chitieu_usage",
        unit=grant.unit_name or grant.unit_code,
        code=grant.unit_code,
        rate=rate.name(ctx.locale),
        count=count.name(ctx.locale),
        quarter=(today.month - 1) // 3 + 1,
        year=today.year,
    )


def _indicator_list(ctx: Context, cfg: KpiSettings) -> str:
    return "\n".join(
        ctx.t("kpi.indicator_item", name=i.name(ctx.locale), unit=ctx.t(f"kpi.unit.{i.unit}"))
        for i in cfg.indicators
    )
