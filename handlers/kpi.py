"""/kpi, /xephang (buttons switch the indicator), /xuat (Excel), /chitieu (leaders set targets);
and the number formatting shared with the digest and reminders."""

from __future__ import annotations

from datetime import timedelta

from handlers.core import Attachment, AttachmentKind, Button, Context, rows
from handlers.i18n import Catalog
from handlers.router import Router, command_args
from services import digest, kpi
from services.access import Action
from services.kpi import targets
from services.kpi.figures import Figure, UnitFigures
from services.kpi.periods import Period
from services.kpi.settings import IndicatorDef, KpiSettings

router = Router()


def settings(ctx: Context) -> KpiSettings:
    return kpi.settings_from(ctx.config)


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
                value=fmt(ind, f.value, catalog, lang),
                delta=fmt_delta(ind, f, catalog, lang) if with_delta else "",
                target=fmt_target(ind, f, catalog, lang),
                source=catalog.text(lang, f"kpi.source.{f.source}"),
            )
        )
    return out


def _args(ctx: Context) -> tuple[str | None, Period | None]:
    parts = command_args(ctx).split()
    code = parts[0] if parts else None
    period = kpi.parse_period(parts[1]) if len(parts) > 1 else None
    return code, period


def this_week(ctx: Context) -> Period:
    return kpi.period_of("week", kpi.local_day(ctx.now, ctx.tz))


@router.command("kpi", "chitieutuan", help_key="kpi.cmd.kpi", action=Action.VIEW_KPI)
async def show_kpi(ctx: Context) -> None:
    cfg = settings(ctx)
    code, week = _args(ctx)
    wk, quarter = await kpi.unit_report(ctx.session, ctx.actor, code, ctx.now, cfg, ctx.tz, week)
    lang = ctx.locale
    lines = [ctx.t("kpi.title", unit=wk.unit.name, week=wk.period.key, dates=dates(wk.period))]
    if not wk.has_data:
        lines.append(ctx.t("kpi.no_data_week", week=wk.period.key, unit=wk.unit.name))
    else:
        lines += figure_lines(wk, cfg, ctx.catalog, lang)
    lines += ["", ctx.t("kpi.quarter_title", quarter=quarter.period.key)]
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
    lines = [ctx.t("kpi.rank_title", indicator=ind.name(lang), unit=unit.name, week=week.key)]
    for rnk, uf in kpi.rank(table, ind):
        f = uf.figures[ind.id]
        if rnk is None:
            lines.append(ctx.t("kpi.rank_none", name=uf.unit.name))
        else:
            lines.append(
                ctx.t(
                    "kpi.rank_line",
                    rank=rnk,
                    name=uf.unit.name,
                    value=fmt(ind, f.value, ctx.catalog, lang),
                    delta=fmt_delta(ind, f, ctx.catalog, lang),
                )
            )
    buttons = [
        Button(("• " if i.id == ind.id else "") + i.name(lang), f"kpr:{i.id}:{unit.code}:{week.key}")
        for i in cfg.indicators
        if i.id != "satisfaction"
    ]
    buttons.append(Button(ctx.t("kpi.buttons.excel"), f"kpx:{unit.code}:{week.key}"))
    ctx.reply("\n".join(lines), rows(*buttons), edit=edit)


@router.command("xephang", help_key="kpi.cmd.xephang", action=Action.VIEW_KPI)
async def ranking(ctx: Context) -> None:
    code, week = _args(ctx)
    await _ranking(ctx, code, None, week or this_week(ctx), edit=False)


@router.callback("kpr")
async def ranking_switch(ctx: Context) -> None:
    # Payload kpr:<indicator>:<unit code>:<week>; permissions are checked again by the service.
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 4:
        ctx.say("core.stale_button")
        return
    await _ranking(ctx, parts[2], parts[1], kpi.parse_period(parts[3]), edit=True)


async def send_excel(ctx: Context, code: str | None, week: Period) -> None:
    cfg = settings(ctx)
    unit = await kpi.resolve_unit(ctx.session, ctx.actor, code, Action.VIEW_KPI)
    total, table = await kpi.child_table_with_total(ctx.session, ctx.actor, unit, week, ctx.now, cfg, ctx.tz)
    lang = ctx.locale
    caption = ctx.t("kpi.export_caption", unit=unit.name, week=week.key)
    data = digest.xlsx(
        caption,
        ctx.t("kpi.excel.unit"),
        [total, *table],
        cfg,
        lang,
        source_name=lambda s: ctx.t(f"kpi.source.{s}"),
        target_header=ctx.t("kpi.excel.target"),
        source_header=ctx.t("kpi.excel.source"),
        code_header=ctx.t("kpi.excel.code"),
    )
    name = f"kpi-{unit.code}-{week.key}.xlsx"
    ctx.reply(caption, attachment=Attachment(AttachmentKind.DOCUMENT, name, data, caption))


@router.command("xuat", help_key="kpi.cmd.xuat", action=Action.VIEW_KPI)
async def export(ctx: Context) -> None:
    code, week = _args(ctx)
    await send_excel(ctx, code, week or this_week(ctx))


@router.callback("kpx")
async def export_button(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    if len(parts) != 3:
        ctx.say("core.stale_button")
        return
    await send_excel(ctx, parts[1], kpi.parse_period(parts[2]))


@router.command("chitieu", help_key="kpi.cmd.chitieu", action=Action.SET_TARGETS, private_only=True)
async def set_target(ctx: Context) -> None:
    cfg = settings(ctx)
    parts = command_args(ctx).split()
    if len(parts) != 4:
        ctx.reply(ctx.t("kpi.help.chitieu") + "\n" + ctx.t("kpi.codes", indicators=", ".join(cfg.ids)))
        return
    code, indicator, period, raw = parts
    value = targets.parse_value(raw)
    unit, key = await targets.set_target(ctx.session, ctx.actor, cfg, code, indicator, period, value)
    ind = cfg.indicator(indicator)
    ctx.say(
        "kpi.target_set",
        indicator=ind.name(ctx.locale),
        unit=unit.name,
        period=key,
        value=fmt(ind, value, ctx.catalog, ctx.locale),
    )
