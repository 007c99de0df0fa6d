"""Demo targets: province 46 (Thành phố Huế) and its communes, this quarter and this year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from services import reports
from services.calendar import Calendar
from services.kpi.periods import local_day, period_of

DEMO_PROVINCE = "46"
PROVINCE_TARGETS = {"online_rate": 60.0, "full_online_rate": 35.0, "on_time_rate": 95.0,
                    "service_coverage": 80.0, "active_volunteers": 70.0, "report_on_time": 100.0}  # fmt: skip
YEAR_TARGETS = {"online_rate": 55.0}
# Counts are per unit (a province's target is the sum of its communes'), so each unit gets its own.
COMMUNE_YEAR_COUNTS = {"help_sessions": 1500.0, "citizens_helped": 4500.0}


async def seed(session: AsyncSession, now: datetime) -> None:
    """Idempotent: upserts the same targets every time."""
    province = await repo.unit_by_code(session, DEMO_PROVINCE)
    if province is None:
        return
    today = local_day(now)
    quarter, year = period_of("quarter", today).key, period_of("year", today).key
    for indicator, value in PROVINCE_TARGETS.items():
        await repo.upsert_target(session, province.id, indicator, quarter, value, None)
    for indicator, value in YEAR_TARGETS.items():
        await repo.upsert_target(session, province.id, indicator, year, value, None)
    communes = await repo.units_of_kind(session, province.path, "commune")
    for indicator, value in COMMUNE_YEAR_COUNTS.items():
        await repo.upsert_target(session, province.id, indicator, year, value * len(communes), None)
    # Wards (phường) are asked a little more online than rural communes (xã).
    for commune in communes:
        value = 65.0 if commune.name.startswith("Phường") else 55.0
        await repo.upsert_target(session, commune.id, "online_rate", quarter, value, None)
        for indicator, count in COMMUNE_YEAR_COUNTS.items():
            await repo.upsert_target(session, commune.id, indicator, year, count, None)


async def file_reports(
    session: AsyncSession, rows: Sequence[dict[str, Any]], cal: Calendar | None = None
) -> None:
    """The demo communes' weekly reports, each filed at its `submitted_at` through reports.file —
    the call /baocao makes — so drafts, deadlines and on-time marks follow the same calendar."""
    cal = cal or Calendar()
    for row in sorted(rows, key=lambda r: r["submitted_at"]):
        counts = reports.Counts(*(int(row[f]) for f in reports.FIELDS))
        await reports.file(
            session,
            row["unit_id"],
            row["week_start"],
            counts,
            row["submitted_at"],
            cal,
            person_id=row.get("submitted_by"),
        )
