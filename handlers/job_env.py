"""What a job body gets and gives: the environment it runs in (JobEnv: a read-only session, the
catalog, the settings, the clock) and the messages it wants sent (Queued), plus the period a run
covers. The bodies themselves are in jobs.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Reply, push_reply
from handlers.i18n import Catalog
from handlers.kpi import moment_label, period_label
from services import kpi, people
from services.kpi.periods import Period
from services.kpi.settings import KpiSettings


@dataclass(frozen=True, slots=True)
class Queued:
    """One message a job wants sent; the scheduler writes these to the outbox in short batches."""

    person_id: int
    reply: Reply
    kind: str
    key: str


@dataclass
class JobEnv:
    session: AsyncSession
    catalog: Catalog
    settings: KpiSettings
    tz: ZoneInfo
    default_locale: str
    now: datetime
    _locales: dict[int, str] | None = None
    # Set by the scheduler: messages are collected here instead of written in the job's session
    # (then a read-only one), and `pause` ends that session's transaction before slow rendering.
    out: list[Queued] | None = None
    pause: Callable[[], Awaitable[None]] | None = None
    # A preview of a week under way (`jobs run --partial`): every message says so, and its keys are
    # its own — the week's real send, once the week is over, still goes out.
    preview: bool = False
    _rendered: dict[Hashable, bytes] = field(default_factory=dict)

    async def lang(self, person_id: int) -> str:
        self._locales = self._locales or {}
        if person_id not in self._locales:
            actor = await people.load_actor(self.session, person_id)
            self._locales[person_id] = actor.locale or self.default_locale
        return self._locales[person_id]

    def t(self, lang: str, key: str, **params: object) -> str:
        return self.catalog.text(lang, key, **params)

    async def render(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """Render once per key (a unit's chart, per language), in a thread, outside any transaction."""
        if key not in self._rendered:
            if self.pause is not None:
                await self.pause()
            self._rendered[key] = await asyncio.to_thread(make)
        return self._rendered[key]

    def week(self, period: str) -> Period:
        return kpi.parse_period(period, self.settings.week_starts)

    def label(self, period: Period, lang: str) -> str:
        return period_label(period, self.catalog, lang)

    def deadline(self, week: Period, lang: str) -> str:
        return moment_label(
            kpi.report_deadline(week.start, self.settings, self.tz), self.tz, self.catalog, lang
        )


def period_for(
    job: str, now: datetime, settings: KpiSettings, tz: ZoneInfo, week: Period | None = None
) -> str | None:
    """The period a run of `job` at `now` covers (its idempotency period); None: nothing to do."""
    today = kpi.local_day(now, tz)
    cal = settings.calendar(tz)
    if job in ("weekly_digest", "lagging_reminders"):
        return week.key if week else cal.last_complete_week(now).key
    if job == "report_reminder":
        return week.key if week else cal.open_week(now).key
    if job == "due_alert":
        return today.isoformat()
    if job == "quarter_end":
        quarter = kpi.period_of("quarter", week.start if week else today)
        left = (quarter.end - today).days
        return quarter.key if week or 0 < left <= settings.quarter_end_days_before else None
    raise ValueError(f"unknown job {job!r}")


async def send(env: JobEnv, person_id: int, reply: Reply, *, kind: str, key: str) -> int:
    if env.preview:
        day = kpi.local_day(env.now, env.tz)
        # An early report reminder is not a half-week's figures: it says the scheduled one follows.
        which = "jobs.preview_note_reminder" if kind == "report_reminder" else "jobs.preview_note"
        note = env.t(await env.lang(person_id), which, day=f"{day:%d/%m/%Y}")
        reply = replace(reply, text=f"{note}\n\n{reply.text}")
        key = f"preview:{env.now:%Y%m%dT%H%M%S}:{key}"
    if env.out is not None:
        env.out.append(Queued(person_id, reply, kind, key))
        return 1
    return await push_reply(env.session, person_id, reply, kind=kind, idempotency=key)
