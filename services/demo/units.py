"""Demo onboarding data: more volunteers in the demo commune's teams, one join request waiting
for the team leader (so /to shows something), and a long-lived invite code for the docs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invite, JoinRequest, Membership
from db.repositories import core as repo
from services.access import Role

CHANNEL = "console"
# Printed in docs/roles.md: a volunteer invite for team 19786-1 (Tổ dân phố 1, Phường Thuận Hóa).
DEMO_INVITE_CODE = "TNVHUE26"
DEMO_OPEN_CODE = "MHUE26XK"
EXTRA_VOLUNTEERS: tuple[tuple[str, str, str], ...] = (
    ("demo-tv-1", "Ngô Văn Hải", "19786-1"),
    ("demo-tv-2", "Bùi Thị Ngọc", "19786-1"),
    ("demo-tv-3", "Phan Văn Quang", "19786-2"),
    ("demo-tv-4", "Lý Thị Hương", "19786-2"),
    ("demo-tv-5", "Đỗ Minh Tuấn", "19786-3"),
    ("demo-tv-6", "Huỳnh Thị Yến", "19786-3"),
)
APPLICANT = ("demo-xinvao", "Trương Văn Lộc", "19786-1")


async def _person(session: AsyncSession, external_id: str, name: str) -> int:
    account = await repo.find_account(session, CHANNEL, external_id)
    if account is not None:
        return account.person_id
    person = await repo.add_person(session, name)
    await repo.add_account(session, person.id, CHANNEL, external_id, external_id)
    return person.id


async def _invite(
    session: AsyncSession, code: str, unit_id: int, now: datetime, *, open_code: bool
) -> Invite:
    invite = (await session.execute(select(Invite).where(Invite.code == code))).scalar_one_or_none()
    if invite is None:
        invite = Invite(
            code=code,
            unit_id=unit_id,
            role=Role.VOLUNTEER.value,
            needs_approval=open_code,
            max_uses=50,
            uses=1 if open_code else 0,
            expires_at=now + timedelta(days=365),
            revoked=False,
            created_at=now - timedelta(days=30),
        )
        session.add(invite)
        await session.flush()
    return invite


async def seed(session: AsyncSession, now: datetime) -> None:
    for external_id, name, team_code in EXTRA_VOLUNTEERS:
        team = await repo.unit_by_code(session, team_code)
        if team is None:
            continue
        person_id = await _person(session, external_id, name)
        if not [m for m, _u in await repo.grants_of(session, person_id) if m.unit_id == team.id]:
            session.add(
                Membership(
                    person_id=person_id,
                    unit_id=team.id,
                    role=Role.VOLUNTEER.value,
                    active=True,
                    created_at=now - timedelta(days=60),
                )
            )
    team = await repo.unit_by_code(session, APPLICANT[2])
    if team is None:
        return
    await _invite(session, DEMO_INVITE_CODE, team.id, now, open_code=False)
    open_invite = await _invite(session, DEMO_OPEN_CODE, team.id, now, open_code=True)
    applicant = await _person(session, APPLICANT[0], APPLICANT[1])
    exists = select(JoinRequest.id).where(JoinRequest.person_id == applicant, JoinRequest.unit_id == team.id)
    if (await session.execute(exists)).first() is None:
        session.add(
            JoinRequest(
                person_id=applicant,
                unit_id=team.id,
                role=Role.VOLUNTEER.value,
                invite_id=open_invite.id,
                status="pending",
                created_at=now - timedelta(days=1),
            )
        )
    await session.flush()
