"""/kpi, /xephang (buttons switch the indicator), /xuat (Excel); and the number formatting shared
with the digest, the reminders and /chitieu (handlers/targets.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from handlers import unit_pick
from handlers.core import Attachment, AttachmentKind, Button, Context, rows
from handlers.i18n import Catalog
from handlers.payloads import Payload
from handlers.router import Router, command_args, pass_on
from services import digest, kpi, units
from services.access import Action
from services.calendar import WEEKDAYS
from services.errors import InvalidInput, NotFound
from services.kpi import UnitRow
from services.kpi.figures import Figure, UnitFigures
from services.kpi.periods import Period
from services.kpi.settings import IndicatorDef, KpiSettings

router = Router()


@dataclass(frozen=True)
class RankBy(Payload, prefix="kpr"):
    """Rank the unit's children on another indicator (the ranking's buttons)."""

    indicator: str
    unit: str
    week: str


@dataclass(frozen=True)
class ExportTable(Payload, prefix="kpx"):
    """The unit's table for a week as Excel (the ranking's and the digest's button)."""

    unit: str
    week: str


class View(StrEnum):
    """What /kpi, /xephang and /xuat show, once the unit is known."""

    KPI = "kpi"
    RANKING = "xephang"
    EXCEL = "xuat"


@dataclass(frozen=True)
class ForUnit(Payload, prefix="kpu"):
    """One of the person's own units, picked for /kpi, /xephang or /xuat typed without a code."""

    view: View
    unit: str
    period: str


PICK_STATE = "kpi.unit"  # the question is open: its buttons, or a unit's code typed, answer it


def settings(ctx: Context) -> KpiSettings:
    return ctx.settings.kpi  # validated once at start-up


def number(value: float, digits: int = 1) -> str:
    text = f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text[: -(digits + 1)] if digits and text.endswith("," + "0" * digits) else text


def fmt(ind: IndicatorDef, value: float | None, catalog: Catalog, lang: str) -> str:
    if value is None:
        return catalog.text(lang, "kpi.no_data")
    if ind.unit == "percent":
        return number(value) + "%"
    if ind.unit == "score":
        return number(value, 2) + "/5"
    return number(value, 0)


def unit_name(unit: UnitRow, catalog: Catalog, lang: str) -> str:
    """A unit's name in KPI tables; a team closed since is marked so."""
    return catalog.text(lang, "kpi.closed_name", name=unit.name) if unit.closed else unit.name


def fmt_delta(ind: IndicatorDef, f: Figure, catalog: Catalog, lang: str) -> str:
    d = f.delta
    if d is None:
        return ""
    if abs(d) < 0.05:
        return catalog.text(lang, "kpi.delta_flat")
    shown = number(abs(d))
    return catalog.text(lang, "kpi.delta_up" if d > 0 else "kpi.delta_down", delta=shown)


def fmt_target(ind: IndicatorDef, f: Figure, catalog: Catalog, lang: str) -> str:
    if f.target is None:
        return ""
    return catalog.text(lang, "kpi.target", target=fmt(ind, f.target, catalog, lang))


def dates(period: Period) -> str:
    last = period.end - timedelta(days=1)
    return f"{period.start:%d/%m}–{last:%d/%m}"


ROMAN = ("I", "II", "III", "IV")


def period_label(period: Period, catalog: Catalog, lang: str) -> str:
    """'tuần 47/2026 (16/11–22/11)', 'Quý IV/2026', 'tháng 11/2026', 'năm 2026'."""
    if period.kind == "week":
        year, number = int(period.key[:4]), int(period.key[-2:])
        return catalog.text(lang, "kpi.label.week", number=number, year=year, dates=dates(period))
    if period.kind == "quarter":
        q = ROMAN[(period.start.month - 1) // 3]
        return catalog.text(lang, "kpi.label.quarter", quarter=q, year=period.start.year)
    if period.kind == "month":
        return catalog.text(lang, "kpi.label.month", month=period.start.month, year=period.start.year)
    return catalog.text(lang, "kpi.label.year", year=period.start.year)


def moment_label(when: datetime, tz: ZoneInfo, catalog: Catalog, lang: str) -> str:
    """'17:00 thứ Sáu 20/11/2026'."""
    local = when.astimezone(tz)
    day = catalog.text(lang, f"kpi.weekday.{WEEKDAYS[local.weekday()]}")
    return catalog.text(
        lang, "kpi.label.moment", time=f"{local:%H:%M}", weekday=day, date=f"{local:%d/%m/%Y}"
    )


def figure_lines(
    uf: UnitFigures, cfg: KpiSettings, catalog: Catalog, lang: str, *, with_delta: bool = True
) -> list[str]:
    out = []
    for ind in cfg.indicators:
        f = uf.figures[ind.id]
        if ind.id == "satisfaction" and f.source == "none":
            continue  # no ratings table yet: say nothing rather than "no data" every week
        out.append(
            catalog.text(
                lang,
                "kpi.line",
                name=ind.name(lang),
                value=fmt(ind, f.value, catalog, lang)
                + (
                    catalog.text(lang, "kpi.ratings", count=int(f.denominator or 0))
                    if ind.unit == "score"
                    else ""
                ),
                delta=fmt_delta(ind, f, catalog, lang) if with_delta else "",
                target=fmt_target(ind, f, catalog, lang),
                source=catalog.text(lang, f"kpi.source.{f.source}"),
            )
        )
    return out


_PERIOD_SHAPE = re.compile(r"\d{4}-(?:W\d{1,2}|Q\d|\d{1,2})", re.IGNORECASE)


async def _args(ctx: Context) -> tuple[str | None, Period | None]:
    """`[CODE] [period]`: a period alone («/kpi 2026-W49») is the person's own unit's, unless a
    unit has that code."""
    parts = command_args(ctx).split()
    said = _said_period(ctx, parts)  # «tuần trước», «quý này»… as people say them
    if said is not None:
        return (parts[0] if len(parts) > 2 else None), said
    code = parts[0] if parts else None
    week_starts = settings(ctx).week_starts
    if len(parts) == 1 and code is not None:
        try:
            alone = kpi.parse_period(code, week_starts)
        except InvalidInput:
            # Shaped like a period but none («2026-W60», «9999-W52»): say so, unless a unit has that code.
            if _PERIOD_SHAPE.fullmatch(code) and not await _is_unit(ctx, code):
                raise
            alone = None
        if alone is not None and not await _is_unit(ctx, code):
            return None, alone
    period = kpi.parse_period(parts[1], week_starts) if len(parts) > 1 else None
    return code, period


def _said_period(ctx: Context, parts: list[str]) -> Period | None:
    """«/kpi tuan truoc», «/kpi 19786 quý này»: the period the last two words name, else None (it
    used to answer «Kỳ «truoc» chưa đúng», quoting half of what was typed)."""
    if len(parts) < 2 or len(parts) > 3:
        return None
    return kpi.said_period(" ".join(parts[-2:]), kpi.local_day(ctx.now, ctx.tz), settings(ctx).week_starts)


async def _is_unit(ctx: Context, code: str) -> bool:
    try:
        await units.get(ctx.session, code)
    except NotFound:
        return False
    return True


def this_week(ctx: Context) -> Period:
    """The default week of /kpi, /xephang, /xuat: the last complete reporting week."""
    return kpi.week_period(settings(ctx).calendar(ctx.tz).last_complete_week(ctx.now))


async def _view(ctx: Context, view: View) -> None:
    """/kpi, /xephang, /xuat: the unit typed, else the person's own one. Someone whose role is held
    for several communes (or teams) is asked which, with the period they typed kept, never shown
    the first of them in silence; a district or province leader gets their area as before."""
    code, period = await _args(ctx)
    period = period or this_week(ctx)
    if code is None:
        own = await kpi.own_units(ctx.session, ctx.actor, Action.VIEW_KPI)
        if len(own) > 1:
            ctx.goto(PICK_STATE, view=view.value, period=period.key)
            unit_pick.ask(
                ctx,
                f"kpi.ask_unit.{view.value}",
                own,
                lambda u: ForUnit(view, u.code, period.key).pack(),
                week=period_label(period, ctx.catalog, ctx.locale),
            )
            return
        code = own[0].code
    await _show(ctx, view, code, period)


async def _show(ctx: Context, view: View, code: str, period: Period) -> None:
    if view is View.KPI:
        await _unit_kpi(ctx, code, period)
    elif view is View.RANKING:
        await _ranking(ctx, code, None, period, edit=False)
    else:
        await send_excel(ctx, code, period)


@router.typed(ForUnit)
async def unit_pressed(ctx: Context, data: ForUnit) -> None:
    # The question stays up, so the other unit is one tap away. Scope is checked again by the
    # service: the role may have been taken away since the question was asked.
    await _show(ctx, data.view, data.unit, kpi.parse_period(data.period, settings(ctx).week_starts))


@router.state(PICK_STATE, quiet=True)
async def unit_typed(ctx: Context) -> None:
    """One of the units' codes typed as the answer; any other text goes where it would have gone."""
    own = await kpi.own_units(ctx.session, ctx.actor, Action.VIEW_KPI)
    unit = unit_pick.typed(own, ctx.msg.text)
    if unit is None:
        await pass_on(ctx)
        return
    view, period = View(ctx.state["view"]), kpi.parse_period(ctx.state["period"], settings(ctx).week_starts)
    ctx.end()
    await _show(ctx, view, unit.code, period)


@router.command("kpi", "chitieutuan", help_key="kpi.cmd.kpi", action=Action.VIEW_KPI)
async def show_kpi(ctx: Context) -> None:
    await _view(ctx, View.KPI)


async def _unit_kpi(ctx: Context, code: str, week: Period) -> None:
    cfg = settings(ctx)
    wk, quarter = await kpi.unit_report(ctx.session, ctx.actor, code, ctx.now, cfg, ctx.tz, week)
    lang = ctx.locale
    label = period_label(wk.period, ctx.catalog, lang)
    lines = [ctx.t("kpi.title", unit=wk.unit.name, week=label)]
    if not wk.has_data:
        lines.append(ctx.t("kpi.no_data_week", week=label, unit=wk.unit.name))
    else:
        lines += figure_lines(wk, cfg, ctx.catalog, lang)
    if quarter is not None:
        lines += ["", ctx.t("kpi.quarter_title", quarter=period_label(quarter.period, ctx.catalog, lang))]
        lines += figure_lines(quarter, cfg, ctx.catalog, lang, with_delta=False)
    ctx.reply("\n".join(lines))


async def _ranking(
    ctx: Context, code: str | None, indicator: str | None, week: Period, *, edit: bool
) -> None:
    cfg = settings(ctx)
    unit = await kpi.resolve_unit(ctx.session, ctx.actor, code, Action.VIEW_KPI)
    table = await kpi.child_table(ctx.session, ctx.actor, unit, week, ctx.now, cfg, ctx.tz)
    if not table:
        ctx.say("kpi.no_children", unit=unit.name, edit=edit)
        return
    if indicator is None:
        # Dossiers belong to communes: a commune's teams are ranked on their own work by default.
        teams = all(uf.unit.kind == "team" for uf in table)
        indicator = digest.TEAM_CHART_INDICATOR if teams else cfg.chart_indicator
    ind = cfg.indicator(indicator)
    lang = ctx.locale
    label = period_label(week, ctx.catalog, lang)
    lines = [ctx.t("kpi.rank_title", indicator=ind.name(lang), unit=unit.name, week=label)]
    apart: list[str] = []
    for rnk, uf in kpi.rank(table, ind, cfg):
        f = uf.figures[ind.id]
        name = unit_name(uf.unit, ctx.catalog, lang)
        if rnk is None:
            if f.value is None:
                apart.append(ctx.t("kpi.rank_none", name=name))
            else:
                apart.append(ctx.t("kpi.rank_few", name=name, count=number(f.denominator or 0, 0)))
        else:
            lines.append(
                ctx.t(
                    "kpi.rank_line",
                    rank=rnk,
                    name=name,
                    value=fmt(ind, f.value, ctx.catalog, lang),
                    delta=fmt_delta(ind, f, ctx.catalog, lang),
                )
            )
    if apart:
        lines += ["", ctx.t("kpi.rank_apart", least=cfg.rank_min_denominator), *apart]
    buttons = [
        Button(("• " if i.id == ind.id else "") + i.name(lang), RankBy(i.id, unit.code, week.key).pack())
        for i in cfg.indicators
        if i.id != "satisfaction"
    ]
    buttons.append(Button(ctx.t("kpi.buttons.excel"), ExportTable(unit.code, week.key).pack()))
    ctx.reply("\n".join(lines), rows(*buttons), edit=edit)


@router.command("xephang", help_key="kpi.cmd.xephang", action=Action.VIEW_KPI)
async def ranking(ctx: Context) -> None:
    await _view(ctx, View.RANKING)


@router.typed(RankBy)
async def ranking_switch(ctx: Context, data: RankBy) -> None:
    # Permissions are checked again by the service: a payload is as forgeable as typed text.
    week = kpi.parse_period(data.week, settings(ctx).week_starts)
    await _ranking(ctx, data.unit, data.indicator, week, edit=True)


async def send_excel(ctx: Context, code: str | None, week: Period) -> None:
    cfg = settings(ctx)
    unit = await kpi.resolve_unit(ctx.session, ctx.actor, code, Action.VIEW_KPI)
    total, table = await kpi.child_table_with_total(ctx.session, ctx.actor, unit, week, ctx.now, cfg, ctx.tz)
    lang = ctx.locale
    caption = ctx.t("kpi.export_caption", unit=unit.name, week=period_label(week, ctx.catalog, lang))
    data = digest.xlsx(
        caption,
        ctx.t("kpi.excel.unit"),
        [total, *table],
        cfg,
        lang,
        source_name=lambda s: ctx.t(f"kpi.source.{s}"),
        unit_name=lambda u: unit_name(u, ctx.catalog, lang),
        target_header=ctx.t("kpi.excel.target"),
        source_header=ctx.t("kpi.excel.source"),
        code_header=ctx.t("kpi.excel.code"),
    )
    name = f"kpi-{unit.code}-{week.key}.xlsx"
    ctx.reply(caption, attachment=Attachment(AttachmentKind.DOCUMENT, name, data, caption))


@router.command("xuat", help_key="kpi.cmd.xuat", action=Action.VIEW_KPI)
async def export(ctx: Context) -> None:
    await _view(ctx, View.EXCEL)


@router.typed(ExportTable)
async def export_button(ctx: Context, data: ExportTable) -> None:
    await send_excel(ctx, data.unit, kpi.parse_period(data.week, settings(ctx).week_starts))
