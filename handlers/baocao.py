"""/baocao: a commune's weekly counts — guided (one number per step, each checked as it is given)
or on one line; every problem listed at once, and one answer fixed without retyping the rest."""

from __future__ import annotations

import re
from dataclasses import astuple
from datetime import date
from typing import TYPE_CHECKING

from handlers import baocao_text as wording
from handlers import unit_pick
from handlers.core import Button, Context, rows
from handlers.kpi import fmt
from handlers.router import Router, command_args
from services import kpi, reports
from services import units as unit_service
from services.access import Action
from services.calendar import Week
from services.errors import DomainError, InvalidInput, PermissionDenied

if TYPE_CHECKING:
    from db.models import Unit

router = Router()
OLD_WEEKS = 8  # a report for a week further back is confirmed first
_NUMBERS = re.compile(r"^[\d\s.,-]+$")
_FIX = re.compile(r"^\s*(?:sua|sửa|fix)?\s*(\d)\s*[:=.\s]\s*(-?[\d.,]+)\s*$", re.IGNORECASE)
_FIX_WORD = re.compile(r"^\s*(?:sua|sửa|fix)\s", re.IGNORECASE)


def _split(args: str) -> tuple[str, list[str]]:
    """(week spec, number tokens): numbers are the trailing run of plain integers — or the last eight
    tokens when at least eight look like numbers («1.200», «1,5»: parse_number then accepts or
    refuses each; a date spec such as «24.11» stays the week)."""
    tokens = args.split()
    i = len(tokens)
    while i > 0 and re.fullmatch(r"-?[\d.,]+", tokens[i - 1]):
        i -= 1
    if len(tokens) - i >= len(reports.FIELDS):
        i = len(tokens) - len(reports.FIELDS)
    else:
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
    named = await _unit_named(ctx, units, command_args(ctx))
    if named is None:
        return
    unit, args = named
    if unit is None and len(units) == 1:
        unit = units[0]
    if not _week_ok(ctx, _split(args)[0]):
        return
    if unit is None:  # an officer of several communes: which one, before anything is asked
        ctx.goto("baocao.unit", args=args)
        unit_pick.ask(ctx, "baocao.ask_unit", units, _unit_payload)
        return
    await _begin(ctx, unit, args)


async def _unit_named(ctx: Context, units: list[Unit], args: str) -> tuple[Unit | None, str] | None:
    """`/baocao 99001 …`: a commune code first (not one of the eight numbers) picks the unit; the code
    of a unit the officer does not report for is refused by name (None)."""
    tokens = args.split()
    if not tokens or not re.fullmatch(r"\d{3,}", tokens[0]):
        return None, args
    if len(tokens) == len(reports.FIELDS) and all(re.fullmatch(r"-?[\d.,]+", t) for t in tokens):
        return None, args  # the eight numbers themselves
    for unit in units:
        if unit.code == tokens[0]:
            return unit, " ".join(tokens[1:])
    try:
        other = await unit_service.get(ctx.session, tokens[0])
    except DomainError:
        return None, args  # not a unit: a count or a week, read as before
    held = unit_pick.listed(units)
    ctx.say("baocao.errors.not_your_unit", unit=unit_pick.label(other), units=held)
    return None


def _week_ok(ctx: Context, spec: str) -> bool:
    """The week typed can be reported (said at once, before a unit is asked)."""
    cal = wording.calendar(ctx)
    try:
        week = reports.pick_week(spec, ctx.now, cal)
    except InvalidInput as exc:
        ctx.say(exc.key, **exc.params)
        return False
    if week > cal.today(ctx.now):
        ctx.say("baocao.errors.future_week")
        return False
    return True


async def _begin(ctx: Context, unit: Unit, args: str) -> None:
    cal = wording.calendar(ctx)
    spec, numbers = _split(args)
    week = reports.pick_week(spec, ctx.now, cal)
    ctx.goto("baocao.ask", unit_id=unit.id, unit=unit.name, week=week.isoformat(), values=[])
    if numbers:
        if len(numbers) != len(reports.FIELDS):
            ctx.end()
            ctx.say("baocao.errors.count", expected=len(reports.FIELDS), got=len(numbers))
            return
        try:
            values = [reports.parse_number(n.lstrip("-")) for n in numbers]
        except InvalidInput as exc:
            ctx.end()
            ctx.say(exc.key, **exc.params)
            return
        if any(n.startswith("-") for n in numbers):
            ctx.end()
            ctx.say("baocao.errors.negative")
            return
        await _review(ctx, values)
        return
    intro = ctx.t(
        "baocao.intro",
        unit=unit.name,
        week=wording.week_label(ctx, week),
        n=len(reports.FIELDS),
        deadline=wording.deadline(ctx, week),
    )
    if cal.is_draft(Week(week), ctx.now):
        intro += "\n" + ctx.t("baocao.intro_draft", week=wording.week_label(ctx, week))
    existing = await reports.get(ctx.session, unit.id, week)
    if existing is not None:  # said now, not after the eighth answer
        old = wording.short(ctx, existing.counts)
        intro += "\n" + ctx.t(
            "baocao.intro_exists", week=wording.capital(wording.week_label(ctx, week)), counts=old
        )
        if reports.correction_files_late(existing, ctx.now, cal):
            intro += "\n" + wording.late_warning(ctx, week)
    ctx.reply(intro)
    await _ask(ctx)


@router.state("baocao.unit")
async def unit_typed(ctx: Context) -> None:
    """Text while the commune is asked: the question again (a typed code picks it too)."""
    units = await reports.commune_units(ctx.session, ctx.actor)
    unit = unit_pick.typed(units, ctx.msg.text)
    if unit is not None:
        await _begin(ctx, unit, str(ctx.state.get("args", "")))
        return
    unit_pick.ask(ctx, "baocao.ask_unit", units, _unit_payload)


def _unit_payload(unit: Unit) -> str:
    return f"bc:u:{unit.id}"


async def _previous(ctx: Context) -> reports.ReportView | None:
    week = Week(date.fromisoformat(ctx.state["week"]))
    return await reports.get(ctx.session, int(ctx.state["unit_id"]), week.previous().start)


async def _ask(ctx: Context) -> None:
    i = len(ctx.state["values"])
    name = reports.FIELDS[i]
    prev = await _previous(ctx)
    hint = ctx.t("baocao.hint", value=getattr(prev.counts, name)) if prev else ""
    ctx.reply(ctx.t("baocao.step", i=i + 1, n=len(reports.FIELDS), question=ctx.t(f"baocao.q.{name}")) + hint)


@router.state("baocao.ask")
async def typed(ctx: Context) -> None:
    text = (ctx.msg.text or "").strip()
    if _FIX_WORD.match(text):
        await _fix_earlier(ctx, text)
        return
    try:
        if not _NUMBERS.match(text):
            raise InvalidInput("baocao.errors.not_a_number", value=text[:20])
        value = reports.parse_number(text)
    except InvalidInput as exc:
        ctx.say(exc.key, **exc.params)
        await _ask(ctx)
        return
    values = [*ctx.state["values"], value]
    # Checked now, against the answers already given: the officer retypes this one number only.
    wrong = [p for p in reports.problems(list(values)) if p.field == len(values) - 1]
    if wrong:
        ctx.reply("\n".join(wording.problem_text(ctx, p) for p in wrong))
        await _ask(ctx)
        return
    ctx.goto("baocao.ask", values=values)
    if len(values) < len(reports.FIELDS):
        await _ask(ctx)
        return
    await _review(ctx, values)


async def _fix_earlier(ctx: Context, text: str) -> None:
    """'sửa 2 15' during the guided questions: change an answer already given, then go on."""
    values = [int(v) for v in ctx.state["values"]]
    m = _FIX.match(text)
    if not m or not 1 <= int(m.group(1)) <= len(values):
        ctx.say("baocao.fix_during", last=max(len(values), 1))
        await _ask(ctx)
        return
    try:
        if m.group(2).startswith("-"):
            raise InvalidInput("baocao.errors.negative")
        value = reports.parse_number(m.group(2))
    except InvalidInput as exc:
        ctx.say(exc.key, **exc.params)
        await _ask(ctx)
        return
    changed = [*values[: int(m.group(1)) - 1], value, *values[int(m.group(1)) :]]
    wrong = reports.problems(list(changed))
    if wrong:
        ctx.reply("\n".join(wording.problem_text(ctx, p) for p in wrong))
        await _ask(ctx)
        return
    ctx.goto("baocao.ask", values=changed)
    i = int(m.group(1)) - 1
    ctx.say("baocao.fixed", name=ctx.t(f"baocao.name.{reports.FIELDS[i]}"), value=value)
    await _ask(ctx)


async def _review(ctx: Context, values: list[int]) -> None:
    """Every problem at once, with the numbered answers; or on to saving."""
    found = reports.problems(list(values))
    if not found:
        await _finish(ctx, values)
        return
    ctx.goto("baocao.fix", values=values)
    lines = [ctx.t("baocao.problems", count=len(found))]
    lines += [f"• {wording.problem_text(ctx, p)}" for p in found]
    lines += ["", wording.numbered(ctx, values), "", ctx.t("baocao.fix_how", example=found[0].field + 1)]
    ctx.reply("\n".join(lines))


@router.state("baocao.fix")
async def fix(ctx: Context) -> None:
    """'2 15' (answer number, new value) changes one answer; eight numbers replace them all."""
    text = (ctx.msg.text or "").strip()
    values = [int(v) for v in ctx.state["values"]]
    tokens = text.split()
    m = _FIX.match(text)
    if len(tokens) == len(reports.FIELDS) and all(re.fullmatch(r"\d+", t) for t in tokens):
        values = [reports.parse_number(t) for t in tokens]
    elif m and 1 <= int(m.group(1)) <= len(reports.FIELDS):
        try:
            if m.group(2).startswith("-"):
                raise InvalidInput("baocao.errors.negative")
            value = reports.parse_number(m.group(2))
        except InvalidInput as exc:
            ctx.say(exc.key, **exc.params)
            return
        values[int(m.group(1)) - 1] = value
    else:
        ctx.say("baocao.fix_how", example=1)
        return
    await _review(ctx, values)


async def _finish(ctx: Context, values: list[int]) -> None:
    counts = reports.check(values)
    ctx.goto("baocao.confirm", values=list(astuple(counts)))
    week = date.fromisoformat(ctx.state["week"])
    existing = await reports.get(ctx.session, int(ctx.state["unit_id"]), week)
    if existing is not None:
        question = [
            ctx.t(
                "baocao.replace_exists",
                week=wording.capital(wording.week_label(ctx, week)),
                counts=wording.short(ctx, existing.counts),
            )
        ]
        if reports.correction_files_late(existing, ctx.now, wording.calendar(ctx)):
            question.append(wording.late_warning(ctx, week))
        question.append(ctx.t("baocao.replace_question"))
        ctx.reply(
            wording.table(ctx, counts) + "\n\n" + "\n".join(question),
            [
                rows(
                    Button(ctx.t("baocao.buttons.replace"), "bc:replace"),
                    Button(ctx.t("baocao.buttons.keep"), "bc:keep"),
                )[0]
            ],
        )
        return
    weeks_ago = (wording.calendar(ctx).today(ctx.now) - week).days // 7
    if weeks_ago > OLD_WEEKS:  # «01/01/2020» typed for «01/12/2026»: asked, not filed late in silence
        ctx.reply(
            wording.table(ctx, counts)
            + "\n\n"
            + ctx.t(
                "baocao.old_week_question",
                week=wording.capital(wording.week_label(ctx, week)),
                weeks=weeks_ago,
            ),
            [
                rows(
                    Button(ctx.t("baocao.buttons.save_old"), "bc:save"),
                    Button(ctx.t("core.buttons.cancel"), "core:cancel"),
                )[0]
            ],
        )
        return
    await _save(ctx, replace=False)


async def _save(ctx: Context, *, replace: bool) -> None:
    week = date.fromisoformat(ctx.state["week"])
    counts = reports.Counts(*(int(v) for v in ctx.state["values"]))
    cal = wording.calendar(ctx)
    unit_id = int(ctx.state["unit_id"])
    view = await reports.save(
        ctx.session,
        ctx.actor,
        unit_id,
        week,
        counts,
        ctx.now,
        ctx.tz,
        replace=replace,
        cal=cal,
    )
    ctx.end()
    label, deadline = wording.week_label(ctx, week), wording.deadline(ctx, week)
    if view.status == "draft":
        opens = Week(week).end
        text = ctx.t(
            "baocao.saved_draft", week=wording.capital(label), opens=f"{opens:%d/%m}", deadline=deadline
        )
    elif reports.on_time(view, cal):
        text = ctx.t("baocao.saved", week=label, deadline=deadline)
    else:
        text = ctx.t("baocao.saved_late", week=label, deadline=deadline)
    ctx.reply(text + "\n" + wording.table(ctx, counts) + await _dossier_note(ctx, unit_id, week, counts))


async def _dossier_note(ctx: Context, unit_id: int, week: date, counts: reports.Counts) -> str:
    """The week already has imported dossiers: /kpi measures these indicators on them, not on the
    numbers just saved — said here, not discovered on /kpi."""
    cfg = ctx.settings.kpi
    counts_map = {f: float(getattr(counts, f)) for f in reports.FIELDS}
    found = await kpi.dossier_sourced(ctx.session, unit_id, week, counts_map, ctx.now, cfg, ctx.tz)
    if not found:
        return ""
    lines = ["", ctx.t("baocao.dossiers_used", week=wording.capital(wording.week_label(ctx, week)))]
    for d in found:
        name = d.indicator.name(ctx.locale)
        dossiers = fmt(d.indicator, d.dossiers.value, ctx.catalog, ctx.locale)
        if d.reported is not None and d.reported.value is not None:
            reported = fmt(d.indicator, d.reported.value, ctx.catalog, ctx.locale)
            lines.append(
                ctx.t(
                    "baocao.dossiers_line",
                    name=name,
                    dossiers=dossiers,
                    reported=reported,
                )
            )
        else:
            lines.append(ctx.t("baocao.dossiers_line_only", name=name, dossiers=dossiers))
    return "\n".join(lines)


@router.callback("bc")
async def pressed(ctx: Context) -> None:
    payload = ctx.msg.payload or ""
    if payload.startswith("bc:u:") and ctx.state_name == "baocao.unit":
        units = await reports.commune_units(ctx.session, ctx.actor)
        chosen = [u for u in units if _unit_payload(u) == payload]
        if chosen:
            await _begin(ctx, chosen[0], str(ctx.state.get("args", "")))
            return
    if ctx.state_name != "baocao.confirm":
        ctx.say("baocao.stale", edit=True)
        return
    if ctx.msg.payload in ("bc:replace", "bc:save"):
        try:
            await _save(ctx, replace=ctx.msg.payload == "bc:replace")
        except DomainError as exc:
            ctx.end()
            ctx.say(exc.key, **exc.params)
        return
    ctx.end()
    ctx.say("baocao.kept", edit=True)
