"""/baocao's wording: week labels, deadlines, the numbers as a list, a table or one line, and the
problems found in them (handlers/baocao.py asks and saves)."""

from __future__ import annotations

from datetime import date

from handlers.core import Context
from handlers.kpi import moment_label, period_label
from services import kpi, reports
from services.calendar import Calendar, Week


def calendar(ctx: Context) -> Calendar:
    return ctx.settings.kpi.calendar(ctx.tz)


def week_label(ctx: Context, week_start: date) -> str:
    return period_label(kpi.Period("week", week_start, Week(week_start).end), ctx.catalog, ctx.locale)


def capital(text: str) -> str:
    """A week label that opens a sentence: «Tuần 48/2026 …»."""
    return text[:1].upper() + text[1:]


def deadline(ctx: Context, week_start: date) -> str:
    return moment_label(calendar(ctx).deadline(Week(week_start)), ctx.tz, ctx.catalog, ctx.locale)


def short(ctx: Context, counts: reports.Counts) -> str:
    """The eight numbers on one line: «Tiếp nhận 120, Nộp trực tuyến 80, …»."""
    return ", ".join(
        ctx.t("baocao.short", name=ctx.t(f"baocao.name.{f}"), value=getattr(counts, f))
        for f in reports.FIELDS
    )


def late_warning(ctx: Context, week: date) -> str:
    """An on-time report corrected after the correction window is filed late (docs/kpi.md)."""
    until = moment_label(calendar(ctx).keeps_on_time_until(Week(week)), ctx.tz, ctx.catalog, ctx.locale)
    return ctx.t("baocao.replace_late", until=until, deadline=deadline(ctx, week))


def problem_text(ctx: Context, p: reports.Problem) -> str:
    params = dict(p.params)
    for k in ("part", "whole"):
        if k in params:
            params[k] = ctx.t(f"baocao.name.{params[k]}")
    return ctx.t(p.key, **params)


def numbered(ctx: Context, values: list[int]) -> str:
    return "\n".join(
        ctx.t("baocao.numbered", i=i + 1, name=ctx.t(f"baocao.name.{f}"), value=v)
        for i, (f, v) in enumerate(zip(reports.FIELDS, values, strict=True))
    )


def table(ctx: Context, counts: reports.Counts) -> str:
    return "\n".join(
        ctx.t("baocao.line", name=ctx.t(f"baocao.name.{f}"), value=getattr(counts, f)) for f in reports.FIELDS
    )
