"""Demo data: Thành phố Huế with its 40 post-2025 communes, teams, and a person for every role.

Idempotent: running it twice changes nothing. Features add their own history through SEEDERS.
"""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Person, Unit
from db.repositories import core as repo
from services import people
from services import units as unit_tree
from services.access import Role
from services.demo import faq as demo_faq
from services.demo import kpi as demo_kpi
from services.demo import units as demo_units
from services.demo import work as demo_work
from services.errors import Conflict

DEMO_CHANNEL = "console"
DEMO_PROVINCE = "46"  # Thành phố Huế
DEMO_COMMUNE = "19786"  # Phường Thuận Hóa
DEMO_TEAM = "19786-1"
TEAMS_PER_COMMUNE = 3
TEAM_NAMES = ("Tổ dân phố 1", "Tổ dân phố 2", "Tổ dân phố 3", "Thôn 1", "Thôn 2", "Thôn 3")


@dataclass(frozen=True, slots=True)
class DemoUser:
    key: str  # the name given to `tocns chat --as`
    display_name: str
    role: Role
    unit_code: str | None
    description: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("dan", "Nguyễn Thị Lan", Role.CITIZEN, None, "người dân / citizen"),
    DemoUser("tnv", "Trần Văn Minh", Role.VOLUNTEER, DEMO_TEAM, "thành viên tổ / volunteer"),
    DemoUser("tnv2", "Đặng Thị Thu", Role.VOLUNTEER, DEMO_TEAM, "thành viên tổ / volunteer"),
    DemoUser("totruong", "Lê Thị Hoa", Role.TEAM_LEADER, DEMO_TEAM, "tổ trưởng / team leader"),
    DemoUser("canbo", "Phạm Quốc Bảo", Role.OFFICER, DEMO_COMMUNE, "cán bộ một cửa / officer"),
    DemoUser("lanhdao", "Hoàng Đức Thắng", Role.LEADER, DEMO_COMMUNE, "lãnh đạo phường / leader"),
    DemoUser("tinh", "Võ Thị Mai", Role.LEADER, DEMO_PROVINCE, "lãnh đạo thành phố / leader"),
    DemoUser("admin", "Quản trị hệ thống", Role.ADMIN, None, "quản trị / admin"),
)

Seeder = Callable[[AsyncSession, datetime], Awaitable[None]]
# Later features register their own history here (help sessions, dossiers, reports…).
SEEDERS: list[Seeder] = [demo_units.seed, demo_kpi.seed, demo_work.seed, demo_faq.seed]


def read_units_csv(path: Path) -> list[unit_tree.UnitRow]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [
            unit_tree.UnitRow(
                r["code"].strip(), r["name"].strip(), r["kind"].strip(), r["parent_code"].strip() or None
            )
            for r in csv.DictReader(fh)
        ]


def team_rows(communes: list[unit_tree.UnitRow]) -> list[unit_tree.UnitRow]:
    rows: list[unit_tree.UnitRow] = []
    for commune in communes:
        # Wards have "tổ dân phố", rural communes have "thôn".
        names = TEAM_NAMES[:3] if commune.name.startswith("Phường") else TEAM_NAMES[3:]
        for n in range(1, TEAMS_PER_COMMUNE + 1):
            rows.append(
                unit_tree.UnitRow(f"{commune.code}-{n}", f"Tổ CNSCĐ {names[n - 1]}", "team", commune.code)
            )
    return rows


class RealDataPresent(Conflict):
    """The database holds data that is not the demo's: the demo is never mixed into it."""

    key = "errors.demo_real_data"


async def check_demo_only(session: AsyncSession) -> None:
    """Raise RealDataPresent unless the database is empty or already the demo's. `./start.sh` on a
    production database (the documented upgrade step ran it) added the Huế tree and eight demo
    people — an administrator among them — to the real data."""
    if await repo.find_account(session, DEMO_CHANNEL, "demo-admin") is not None:
        return  # the demo's own database: topped up
    units = int((await session.execute(select(func.count()).select_from(Unit))).scalar_one())
    persons = int((await session.execute(select(func.count()).select_from(Person))).scalar_one())
    if units or persons:
        raise RealDataPresent(units=units, people=persons)


async def seed(session: AsyncSession, units_csv: Path, now: datetime) -> dict[str, int]:
    """Load the demo tree and people; run every feature seeder. Returns counts for the CLI. Only
    into an empty database or the demo's own (RealDataPresent otherwise)."""
    await check_demo_only(session)
    tree = read_units_csv(units_csv)
    communes = [r for r in tree if r.kind == "commune"]
    added, _updated = await unit_tree.upsert_rows(session, [*tree, *team_rows(communes)])
    people_added = 0
    for user in DEMO_USERS:
        existing = await repo.find_account(session, DEMO_CHANNEL, f"demo-{user.key}")
        if existing is None:
            people_added += 1
        if user.role is Role.CITIZEN:
            if existing is None:
                person = await repo.add_person(session, user.display_name)
                await repo.add_account(
                    session, person.id, DEMO_CHANNEL, f"demo-{user.key}", f"demo-{user.key}"
                )
            continue
        await people.grant_role(
            session,
            channel=DEMO_CHANNEL,
            external_id=f"demo-{user.key}",
            role=user.role,
            unit_code=user.unit_code,
            display_name=user.display_name,
        )
    for seeder in SEEDERS:
        await seeder(session, now)
    return {"units": added, "people": people_added}
