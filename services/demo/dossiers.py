"""Demo history of the communes' dossiers: a quarter of dossiers with their statuses and status
histories, and the weekly reports communes file. Deterministic (the caller's seeded random)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Base, Dossier, DossierEvent, Unit
from services.demo import kpi as demo_kpi
from services.dossiers.catalogue import procedures
from services.dossiers.records import Mode, Status


def table(model: type[Base]) -> Table:
    """The Core table: plain executemany inserts, much faster than ORM bulk inserts on SQLite."""
    return Base.metadata.tables[model.__tablename__]


PROVINCE = "46"
DEMO_COMMUNE = "19786"
WEEKS = 13
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Communes whose older weeks exist only as weekly reports (no dossier-level data before the bot).
REPORT_ONLY_EVERY = 5
DOSSIER_WEEKS_FOR_REPORT_ONLY = 4
# Communes with no online dossier at all in the last weeks (the ones a digest names).
NO_ONLINE_EVERY = 9
NO_ONLINE_WEEKS = 4


def _dossier(
    rng: random.Random, commune: Unit, seq: int, received: datetime, online_rate: float, now: datetime
) -> dict[str, Any]:
    procs = procedures()
    proc = procs[min(int(rng.expovariate(0.15)), len(procs) - 1)]
    if rng.random() < online_rate:
        mode = Mode.FULL_ONLINE if rng.random() < 0.45 else Mode.PARTIAL_ONLINE
    else:
        mode = Mode.COUNTER
    due = datetime.combine((received + timedelta(days=rng.choice((1, 3, 5, 7, 10, 15)))).date(), time(17), TZ)
    status, finished = Status.RECEIVED, None
    if due < now:
        roll = rng.random()
        if roll < 0.04:
            status = Status.PROCESSING  # overdue, still open
        elif roll < 0.07:
            status, finished = Status.REJECTED, received + timedelta(days=rng.randrange(1, 4))
        elif roll < 0.09:
            status = Status.WITHDRAWN
        else:
            # Most on time; about one in ten late.
            span = (due - received).total_seconds()
            delay = (
                span * rng.uniform(0.2, 0.95) if rng.random() < 0.9 else span + rng.randrange(3600, 5 * 86400)
            )
            finished = received + timedelta(seconds=delay)
            status = Status.RETURNED if rng.random() < 0.85 else Status.RESULT_READY
    else:
        status = rng.choices((Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT), weights=(3, 6, 1))[0]
    if finished is not None and finished > now:
        finished, status = None, Status.PROCESSING
    code = f"000.00.{commune.code}.H{PROVINCE}-{received.astimezone(TZ).strftime('%y%m%d')}-{seq:04d}"
    return {
        "code": code,
        "unit_id": commune.id,
        "procedure_code": proc.code,
        "procedure_name": proc.name,
        "mode": mode.value,
        "received_at": received,
        "due_at": due,
        "finished_at": finished,
        "post_return": rng.random() < 0.15,
        "status": status.value,
        "source": "demo",
        "recorded_by": None,
        "created_at": received,
        "updated_at": finished or received,
    }


async def dossiers_and_reports(
    session: AsyncSession,
    rng: random.Random,
    communes: list[Unit],
    first_monday: date,
    this_monday: date,
    now: datetime,
) -> None:
    dossiers: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    for index, commune in enumerate(communes):
        demo = commune.code == DEMO_COMMUNE
        per_week = rng.randint(6, 24)
        online_rate = rng.uniform(0.15, 0.8)
        services_offered = rng.randint(30, 60)
        report_only = not demo and index % REPORT_ONLY_EVERY == REPORT_ONLY_EVERY - 1
        no_online = not demo and index % NO_ONLINE_EVERY == NO_ONLINE_EVERY - 1
        seq: dict[str, int] = {}
        for week in range(WEEKS + 1):
            monday = first_monday + timedelta(weeks=week)
            weeks_ago = (this_monday - monday).days // 7
            rate = 0.0 if no_online and weeks_ago <= NO_ONLINE_WEEKS else online_rate
            n = max(0, round(rng.gauss(per_week, per_week / 4)))
            if report_only and weeks_ago > DOSSIER_WEEKS_FOR_REPORT_ONLY:
                online = round(n * rate)
                resolved = max(0, n - rng.randint(0, 5))
                reports.append(
                    {
                        "unit_id": commune.id,
                        "week_start": monday,
                        "received": n,
                        "received_online": online,
                        "received_full_online": round(online * 0.45),
                        "resolved": resolved,
                        "resolved_on_time": round(resolved * rng.uniform(0.85, 1.0)),
                        "overdue_open": rng.randint(0, 3),
                        "services_offered": services_offered,
                        "services_with_online": min(services_offered, round(services_offered * rate * 0.6)),
                        "status": "final",
                        "submitted_by": None,
                        "submitted_at": datetime.combine(monday + timedelta(days=7), time(9), TZ),
                    }
                )
                continue
            first = len(dossiers)
            for _ in range(n):
                day = monday + timedelta(days=rng.choice((0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5)))
                received = datetime.combine(day, time(rng.randrange(7, 17), rng.randrange(60)), TZ)
                if received > now:
                    continue
                key = day.isoformat()
                seq[key] = seq.get(key, 0) + 1
                dossiers.append(_dossier(rng, commune, seq[key], received, rate, now))
            if weeks_ago >= 1:
                # Communes with dossier-level data still file the weekly report (the KPIs take the
                # dossiers; the report says it was filed, and how many services are offered).
                # The demo ward has not filed its last two weeks yet: `/baocao` has work to do,
                # and the report reminder has someone to remind.
                filed = not (demo and weeks_ago <= DEMO_UNFILED_WEEKS)
                report = (
                    _report_from(rng, commune, monday, dossiers[first:], services_offered, demo)
                    if filed
                    else None
                )
                if report is not None:
                    reports.append(report)
    for i in range(0, len(dossiers), 2000):
        await session.execute(insert(table(Dossier)), dossiers[i : i + 2000])
    if reports:
        # Filed through the same service call as /baocao (services/demo/kpi.py).
        await demo_kpi.file_reports(session, reports)
    await _histories(session, rng, now)


DEMO_UNFILED_WEEKS = 2


def _report_from(
    rng: random.Random,
    commune: Unit,
    monday: date,
    week: list[dict[str, Any]],
    services_offered: int,
    demo: bool,
) -> dict[str, Any] | None:
    """The weekly report a commune files: most on time (Friday), some late (Monday), a few never."""
    luck = rng.random()
    if not demo and luck < 0.06:
        return None
    filed = monday + (timedelta(days=7) if not demo and luck < 0.2 else timedelta(days=4))
    online = [d for d in week if d["mode"] != Mode.COUNTER]
    full = [d for d in online if d["mode"] == Mode.FULL_ONLINE]
    resolved = max(0, len(week) - rng.randint(0, 3))
    return {
        "unit_id": commune.id,
        "week_start": monday,
        "received": len(week),
        "received_online": len(online),
        "received_full_online": len(full),
        "resolved": resolved,
        "resolved_on_time": round(resolved * rng.uniform(0.85, 1.0)),
        "overdue_open": rng.randint(0, 2),
        "services_offered": services_offered,
        "services_with_online": min(services_offered, len({d["procedure_name"] for d in online})),
        "status": "final",
        "submitted_by": None,
        "submitted_at": datetime.combine(filed, time(16), TZ),
    }


async def _histories(session: AsyncSession, rng: random.Random, now: datetime) -> None:
    """Status histories for the demo commune's dossiers (what /hoso → Lịch sử shows)."""
    commune = (await session.execute(select(Unit).where(Unit.code == DEMO_COMMUNE))).scalar_one_or_none()
    if commune is None:
        return
    rows = (
        await session.execute(
            select(Dossier.id, Dossier.status, Dossier.received_at, Dossier.finished_at).where(
                Dossier.unit_id == commune.id, Dossier.source == "demo"
            )
        )
    ).all()
    path = {
        Status.RECEIVED: [Status.RECEIVED],
        Status.PROCESSING: [Status.RECEIVED, Status.PROCESSING],
        Status.SUPPLEMENT: [Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT],
        Status.RESULT_READY: [Status.RECEIVED, Status.PROCESSING, Status.RESULT_READY],
        Status.RETURNED: [Status.RECEIVED, Status.PROCESSING, Status.RESULT_READY, Status.RETURNED],
        Status.REJECTED: [Status.RECEIVED, Status.REJECTED],
        Status.WITHDRAWN: [Status.RECEIVED, Status.WITHDRAWN],
    }
    events: list[dict[str, Any]] = []
    for dossier_id, status, received, finished in rows:
        steps = path[Status(status)]
        at = received
        prev: str | None = None
        for i, step in enumerate(steps):
            if step in (Status.RESULT_READY, Status.REJECTED) and finished is not None:
                at = finished
            elif i:
                at = min(now, at + timedelta(hours=rng.randrange(2, 48)))
            events.append(
                {
                    "dossier_id": dossier_id,
                    "at": at,
                    "status_from": prev,
                    "status_to": step.value,
                    "actor_id": None,
                    "note": None,
                }
            )
            prev = step.value
    for i in range(0, len(events), 2000):
        await session.execute(insert(table(DossierEvent)), events[i : i + 2000])
