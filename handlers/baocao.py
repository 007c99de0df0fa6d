"""/baocao: a commune's weekly counts — guided (one number per step) or on one line."""

from __future__ import annotations

import re
from dataclasses import astuple
from datetime import date, timedelta

from handlers.core import Button, Context, rows
from handlers.router import Router, command_args
from services import reports
from services.access import Action
from services.errors import DomainError, InvalidInput, PermissionDenied

router = Router()
_NUMBERS = re.compile(r"^[\d\s.,-]+$")


def _week_label(week_start: date) -> str:
    return f"{week_start.strftime('%d/%m')}–{(week_start + timedelta(days=6)).strftime('%d/%m/%Y')}"


def _split(args: str) -> tuple[str, list[str]]:
    """(week spec, number tokens): numbers are the trailing run of plain integers."""
    tokens = args.split()
    i = len(tokens)
    while i > 0 and re.fullmatch(r"-?\d+", tokens[i - 1]):
        i -= 1
    numbers = tokens[i:]
    spec = " ".join(tokens[:i])
    # "tuan 46" with no numbers: the 46 belongs to the week.
    if spec.lower() in ("tuan", "tuần", "week") and numbers:
        spec, numbers = f"{spec} {numbers[0]}", numbers[1:]
    return spec, numbers


@router.command("baocao", help_key="baocao.cmd.baocao", action=Action.SUBMIT_WEEKLY_REPORT, private_only=True)
async def baocao(ctx: Context) -> None:
    units = await reports.commune_units(ctx.session, ctx.actor)
    if not units:
        raise PermissionDenied(action=Action.SUBMIT_WEEKLY_REPORT.value)
    unit = units[0]
    spec, numbers = _split(command_args(ctx))
    try:
        week = reports.pick_week(spec, ctx.local_now.date())
    except InvalidInput as exc:
        ctx.say(exc.key, **exc.params)
        return
    if week > ctx.local_now.date():
        ctx.say("baocao.errors.future_week")
        return
    ctx.goto("baocao.ask", unit_id=unit.id, week=week.isoformat(), values=[])
    if numbers:
        try:
            values = [reports.parse_number(n) for n in numbers]
        except InvalidInput as exc:
            ctx.end()
            ctx.say(exc.key, **exc.params)
            return
        await _finish(ctx, values)
        return
    ctx.say("baocao.intro", unit=unit.name, week=_week_label(week), n=len(reports.FIELDS))
    await _ask(ctx)


async def _previous(ctx: Context) -> reports.ReportView | None:
    week = date.fromisoformat(ctx.state["week"])
    return await reports.get(ctx.session, int(ctx.state["unit_id"]), week - timedelta(days=7))


async def _ask(ctx: Context) -> None:
    i = len(ctx.state["values"])
    name = reports.FIELDS[i]
    prev = await _previous(ctx)
    hint = ctx.t("baocao.hint", value=getattr(prev.counts, name)) if prev else ""
    ctx.reply(ctx.t("baocao.step", i=i + 1, n=len(reports.FIELDS), question=ctx.t(f"baocao.q.{name}")) + hint)


@router.state("baocao.ask")
async def typed(ctx: Context) -> None:
    text = (ctx.msg.text or "").strip()
    try:
        if not _NUMBERS.match(text):
            raise InvalidInput("baocao.errors.not_a_number", value=text[:20])
        value = reports.parse_number(text)
    except InvalidInput as exc:
        ctx.say(exc.key, **exc.params)
        await _ask(ctx)
        return
    values = [*ctx.state["values"], value]
    ctx.goto("baocao.ask", values=values)
    if len(values) < len(reports.FIELDS):
        await _ask(ctx)
        return
    await _finish(ctx, values)


async def _finish(ctx: Context, values: list[int]) -> None:
    try:
        counts = reports.check(values)
    except InvalidInput as exc:
        ctx.end()
        params = dict(exc.params)
        for k in ("part", "whole"):
            if k in params:
                params[k] = ctx.t(f"baocao.name.{params[k]}")
        ctx.say(exc.key, **params)
        ctx.say("baocao.retry")
        return
    ctx.goto("baocao.confirm", values=list(astuple(counts)))
    week = date.fromisoformat(ctx.state["week"])
    existing = await reports.get(ctx.session, int(ctx.state["unit_id"]), week)
    if existing is not None:
        ctx.reply(
            _table(ctx, counts) + "\n\n" + ctx.t("baocao.replace_question", week=_week_label(week)),
            [
                rows(
                    Button(ctx.t("baocao.buttons.replace"), "bc:replace"),
                    Button(ctx.t("baocao.buttons.keep"), "bc:keep"),
                )[0]
            ],
        )
        return
    await _save(ctx, replace=False)


def _table(ctx: Context, counts: reports.Counts) -> str:
    return "\n".join(
        ctx.t("baocao.line", name=ctx.t(f"baocao.name.{f}"), value=getattr(counts, f)) for f in reports.FIELDS
    )


async def _save(ctx: Context, *, replace: bool) -> None:
    week = date.fromisoformat(ctx.state["week"])
    counts = reports.Counts(*(int(v) for v in ctx.state["values"]))
    view = await reports.save(
        ctx.session, ctx.actor, int(ctx.state["unit_id"]), week, counts, ctx.now, ctx.tz, replace=replace
    )
    ctx.end()
    key = "baocao.saved_draft" if view.status == "draft" else "baocao.saved"
    ctx.reply(ctx.t(key, week=_week_label(week)) + "\n" + _table(ctx, counts))


@router.callback("bc")
async def pressed(ctx: Context) -> None:
    if ctx.state_name != "baocao.confirm":
        ctx.say("baocao.stale", edit=True)
        return
    if ctx.msg.payload == "bc:replace":
        try:
            await _save(ctx, replace=True)
        except DomainError as exc:
            ctx.end()
            ctx.say(exc.key, **exc.params)
        return
    ctx.end()
    ctx.say("baocao.kept", edit=True)
