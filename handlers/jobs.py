"""Channel-neutral job bodies: build the digest / reminders / alerts and queue them in the outbox,
in each recipient's language, with the idempotency key (job, recipient, period)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.core import Attachment, AttachmentKind, Button, Reply
from handlers.job_env import JobEnv, send
from handlers.kpi import ExportTable, figure_lines, fmt, fmt_delta, moment_label, unit_name
from services import digest, kpi, lagging
from services.kpi.findings import Finding
from services.kpi.periods import Period
from services.kpi.settings import KpiSettings

JOBS = ("weekly_digest", "lagging_reminders", "report_reminder", "due_alert", "quarter_end")


async def run(job: str, env: JobEnv, period: str) -> int:
    """Run one job body for one period; returns outbox rows added (0 when already queued)."""
    body = {
        "weekly_digest": weekly_digest,
        "lagging_reminders": lagging_reminders,
        "report_reminder": report_reminder,
        "due_alert": due_alert,
        "quarter_end": quarter_end,
    }[job]
    return await body(env, period)


# --- weekly digest ------------------------------------------------------------------------------


def render_digest(d: digest.Digest, env: JobEnv, lang: str) -> str:
    cfg = env.settings
    t = env.t
    unit = d.unit.name
    week = env.label(d.week, lang)
    lines = [t(lang, "digest.title", week=week, unit=unit)]
    if not d.has_data:
        lines.append(t(lang, "digest.no_data", week=week, unit=unit))
    else:
        lines += [t(lang, "digest.totals"), *figure_lines(d.total, cfg, env.catalog, lang)]
    ind = cfg.indicator(d.indicator)

    def row(r: digest.DigestRow) -> str:
        f = r.figures.figures[ind.id]
        return t(
            lang,
            "digest.row",
            rank=r.rank,
            name=unit_name(r.figures.unit, env.catalog, lang),
            value=fmt(ind, f.value, env.catalog, lang),
            delta=fmt_delta(ind, f, env.catalog, lang),
        )

    def listed(rows: tuple[digest.DigestRow, ...]) -> list[str]:
        # A long tie at the cut (40 communes at 0 %) is counted, not listed name by name.
        named, tied = digest.capped(rows, cfg.top * 2)
        out = [row(r) for r in named]
        if tied:
            value = fmt(ind, tied[0].figures.figures[ind.id].value, env.catalog, lang)
            out.append(t(lang, "digest.tied_more", count=len(tied), value=value, rank=tied[0].rank))
        return out

    if d.has_data and d.best:
        lines += ["", t(lang, "digest.best", indicator=ind.name(lang)), *listed(d.best)]
    if d.has_data and d.weakest:
        lines += [t(lang, "digest.weakest"), *listed(d.weakest)]
    unranked = [unit_name(r.figures.unit, env.catalog, lang) for r in d.rows if r.rank is None]
    if d.has_data and unranked:
        names = ", ".join(unranked[: cfg.top * 2])
        more = len(unranked) - min(len(unranked), cfg.top * 2)
        lines.append(
            t(lang, "digest.unranked", names=names, least=cfg.rank_min_denominator)
            + (t(lang, "digest.unranked_more", count=more) if more else "")
        )
    lines.append("")
    if d.lagging:
        lines.append(t(lang, "digest.lagging", count=len(d.lagging)))
        shown = d.lagging[: cfg.top * 2]
        for lg in shown:
            reason = " ".join(reason_text(f, env, lang) for f in lg.findings)
            lines.append(t(lang, "digest.lagging_line", name=lg.unit.name, reason=reason))
        if len(d.lagging) > len(shown):
            lines.append(t(lang, "digest.lagging_more", count=len(d.lagging) - len(shown)))
    elif d.has_data and d.rows:
        lines.append(t(lang, "digest.none_lagging"))
    if d.has_data and d.rows:
        lines.append(t(lang, "digest.excel_hint"))
    return "\n".join(lines).strip()


async def weekly_digest(env: JobEnv, period: str) -> int:
    week = env.week(period)
    added = 0
    cache: dict[int, digest.Digest] = {}
    everywhere = await lagging.for_week(env.session, week, env.now, env.settings, env.tz)
    for person_id, unit in await kpi.leaders(env.session):
        d = cache.get(unit.id)
        if d is None:
            d = cache[unit.id] = await digest.build(
                env.session, unit, week, env.now, env.settings, env.tz, everywhere=everywhere
            )
        lang = await env.lang(person_id)
        key = f"weekly_digest:{person_id}:{unit.code}:{period}"
        buttons: tuple[tuple[Button, ...], ...] = ()
        if d.rows and d.has_data:
            buttons = ((Button(env.t(lang, "kpi.buttons.excel"), ExportTable(unit.code, week.key).pack()),),)
            buttons += ((Button(env.t(lang, "web.open_button"), f"web:{unit.code}:{week.key}"),),)
        text = render_digest(d, env, lang)
        added += await send(env, person_id, Reply(text, buttons), kind="weekly_digest", key=key)
        if d.rows and d.has_data:
            ind = env.settings.indicator(d.indicator)
            title = env.t(lang, "digest.chart_title", indicator=ind.name(lang), week=env.label(week, lang))
            png = await env.render(
                (unit.id, lang),
                functools.partial(
                    digest.chart_png,
                    d,
                    env.settings,
                    lang,
                    title=title,
                    target_label=env.t(lang, "digest.chart_target"),
                    each_target_label=env.t(lang, "digest.chart_target_each"),
                    no_data=env.t(lang, "digest.chart_no_data"),
                    unit_name=functools.partial(unit_name, catalog=env.catalog, lang=lang),
                ),
            )
            caption = env.t(
                lang,
                "digest.chart_caption",
                indicator=ind.name(lang),
                unit=unit.name,
                week=env.label(week, lang),
            )
            photo = Reply(
                caption,
                attachment=Attachment(AttachmentKind.PHOTO, f"{unit.code}-{week.key}.png", png, caption),
            )
            added += await send(env, person_id, photo, kind="weekly_digest", key=key + ":chart")
    return added


# --- lagging units ------------------------------------------------------------------------------


def reason_text(f: Finding, env: JobEnv, lang: str) -> str:
    ind = env.settings.indicator(f.indicator)
    return env.t(
        lang,
        f"reminders.reason.{f.rule}",
        indicator=ind.name(lang),
        value=fmt(ind, f.value, env.catalog, lang),
        target=fmt(ind, f.target, env.catalog, lang),
        at=moment_label(f.at, env.tz, env.catalog, lang) if f.at is not None else "",
    )


def suggestion(f: Finding, env: JobEnv, lang: str, week: Period) -> str:
    topic = f.indicator if f.rule == "below_target" else f.rule
    custom = env.settings.suggestions.get(topic, {})
    if week.kind != "week":  # a month's, quarter's or year's view: what to do is for this week
        now_week = env.settings.calendar(env.tz).open_week(env.now)
        week = Period("week", now_week.start, now_week.end)
    number = int(week.key[-2:])
    params = {"deadline": env.deadline(week, lang), "week": env.label(week, lang), "number": number}
    text = custom.get(lang) or custom.get("vi") or env.t(lang, f"reminders.suggest.{topic}", **params)
    return env.t(lang, "reminders.suggest_prefix", text=text)


def findings_text(found: list[Finding], env: JobEnv, lang: str, week: Period) -> list[str]:
    out = []
    for f in found:
        out += [f"• {reason_text(f, env, lang)}", f"  {suggestion(f, env, lang, week)}"]
    return out


async def lagging_reminders(env: JobEnv, period: str) -> int:
    """To each lagging commune's officers (and team leaders, minus the report they cannot file)
    its findings; to each leader of the unit above, one message listing every commune lagging
    `escalate_after_weeks` weeks running."""
    week = env.week(period)
    found_by_unit, streaks = await kpi.lagging_streaks(env.session, week, env.now, env.settings, env.tz)
    units = await kpi.units_by_ids(env.session, sorted(found_by_unit))
    officers = await kpi.holders_of(env.session, sorted(found_by_unit), "officer")
    added = 0
    for unit_id, found in sorted(found_by_unit.items()):
        unit = units[unit_id]
        for person_id in await kpi.unit_staff(env.session, unit):
            own = (
                found
                if person_id in officers.get(unit_id, [])
                else [f for f in found if f.rule != "report_missing"]
            )
            if not own:
                continue
            lang = await env.lang(person_id)
            text = "\n".join(
                [
                    env.t(lang, "reminders.lagging_title", week=env.label(week, lang), unit=unit.name),
                    *findings_text(own, env, lang, week),
                ]
            )
            key = f"lagging_reminders:{person_id}:{unit.code}:{period}"
            added += await send(env, person_id, Reply(text), kind="lagging_reminders", key=key)
    parents = await kpi.units_by_ids(env.session, sorted({units[u].parent_id or 0 for u in streaks}))
    leaders = await kpi.holders_of(env.session, sorted(parents), "leader")
    # One message per leader and week, listing the communes (by name).
    per_leader: dict[int, list[tuple[int, int]]] = {}
    led: dict[int, set[int]] = {}  # the units above those communes each leader leads (the Excel)
    for unit_id, weeks in streaks.items():
        parent = parents.get(units[unit_id].parent_id or 0)
        if parent is None:
            continue
        for person_id in leaders.get(parent.id, []):
            per_leader.setdefault(person_id, []).append((unit_id, weeks))
            led.setdefault(person_id, set()).add(parent.id)
    for person_id, items in sorted(per_leader.items()):
        lang = await env.lang(person_id)
        items.sort(key=lambda x: units[x[0]].name)
        lines = [
            env.t(
                lang,
                "reminders.escalate_title",
                count=len(items),
                weeks=env.settings.rules.escalate_after_weeks,
                week=env.label(week, lang),
            )
        ]
        shown = items[: env.settings.top * 4]
        for unit_id, weeks in shown:
            reasons = " ".join(reason_text(f, env, lang) for f in found_by_unit[unit_id])
            lines.append(
                env.t(lang, "reminders.escalate_line", unit=units[unit_id].name, weeks=weeks, reasons=reasons)
            )
        if len(items) > len(shown):
            lines.append(env.t(lang, "digest.lagging_more", count=len(items) - len(shown)))
        lines.append(env.t(lang, "reminders.escalate_ask"))
        # The Excel the "… và 21 đơn vị khác (xem Excel)" line points to: the digest's button.
        label = env.t(lang, "kpi.buttons.excel")
        above = sorted((parents[p] for p in led[person_id]), key=lambda u: u.name)
        buttons = tuple(
            (Button(label if len(above) == 1 else f"{label} {u.name}", ExportTable(u.code, week.key).pack()),)
            for u in above
        )
        key = f"lagging_escalation:{person_id}:{period}"
        reply = Reply("\n".join(lines), buttons)
        added += await send(env, person_id, reply, kind="lagging_reminders", key=key)
    return added


# --- weekly report, dossiers due, quarter end ---------------------------------------------------


async def report_reminder(env: JobEnv, period: str) -> int:
    """To the officers of every commune without the named week's report (the week /baocao
    files by default now)."""
    week = env.week(period)
    done = await kpi.communes_reported(env.session, week)
    communes = [c for c in await kpi.communes(env.session) if c.id not in done]
    officers = await kpi.holders_of(env.session, [c.id for c in communes], "officer")
    passed = kpi.report_deadline(week.start, env.settings, env.tz) <= env.now
    cal = env.settings.calendar(env.tz)
    command = "/baocao" if cal.open_week(env.now).key == week.key else f"/baocao tuan {int(week.key[-2:])}"
    added = 0
    for commune in communes:
        for person_id in officers.get(commune.id, []):
            lang = await env.lang(person_id)
            text = env.t(
                lang,
                "reminders.report_overdue" if passed else "reminders.report_reminder",
                week=env.label(week, lang),
                unit=commune.name,
                deadline=env.deadline(week, lang),
                command=command,
            )
            key = f"report_reminder:{person_id}:{commune.code}:{period}"
            added += await send(env, person_id, Reply(text), kind="report_reminder", key=key)
    return added


async def due_alert(env: JobEnv, period: str) -> int:
    due = await kpi.due_dossiers(env.session, env.now, env.settings, env.tz)
    units = await kpi.units_by_ids(env.session, sorted(due))
    officers = await kpi.holders_of(env.session, sorted(due), "officer")
    added = 0
    for unit_id, d in sorted(due.items()):
        for person_id in officers.get(unit_id, []):
            lang = await env.lang(person_id)
            parts = [
                env.t(lang, f"reminders.due_{name}", count=count)
                for name, count in (("overdue", d.overdue), ("today", d.today), ("tomorrow", d.tomorrow))
                if count
            ]
            lines = [env.t(lang, "reminders.due_alert", unit=units[unit_id].name, parts="; ".join(parts))]
            if d.codes:
                more = d.total - len(d.codes)
                codes = ", ".join(d.codes) + (
                    env.t(lang, "reminders.due_more", count=more) if more > 0 else ""
                )
                lines.append(env.t(lang, "reminders.due_codes", codes=codes))
            key = f"due_alert:{person_id}:{units[unit_id].code}:{period}"
            added += await send(env, person_id, Reply("\n".join(lines)), kind="due_alert", key=key)
    return added


async def quarter_end(env: JobEnv, period: str) -> int:
    quarter = env.week(period)
    days = (quarter.end - kpi.local_day(env.now, env.tz)).days
    added = 0
    for person_id, unit in await kpi.leaders(env.session):
        uf = (
            await kpi.figures_for(
                env.session, unit, [unit], 0, quarter, env.now, env.settings, env.tz, with_previous=False
            )
        )[0]
        at_risk = [i for i in env.settings.indicators if kpi.is_below(uf.figures[i.id], i, env.settings)]
        if not at_risk:
            continue
        lang = await env.lang(person_id)
        lines = [
            env.t(
                lang,
                "reminders.quarter_title",
                quarter=env.label(quarter, lang),
                days=max(days, 0),
                unit=unit.name,
            )
        ]
        for ind in at_risk:
            f = uf.figures[ind.id]
            lines.append(
                env.t(
                    lang,
                    "reminders.quarter_line",
                    indicator=ind.name(lang),
                    value=fmt(ind, f.value, env.catalog, lang),
                    target=fmt(ind, f.target, env.catalog, lang),
                )
            )
        key = f"quarter_end:{person_id}:{unit.code}:{period}"
        added += await send(env, person_id, Reply("\n".join(lines)), kind="quarter_end", key=key)
    return added


def week_before(now: datetime, tz: ZoneInfo, settings: KpiSettings | None = None) -> Period:
    """The last complete reporting week."""
    ws = settings.week_starts if settings is not None else 0
    return kpi.period_of("week", kpi.local_day(now, tz) - timedelta(days=7), ws)
