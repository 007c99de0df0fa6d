"""Privilege: a volunteer of another commune tries every command of officers, leaders and admins,
and presses every button those people were shown (a copied or forged payload naming another unit's
data). Every attempt is answered, nothing outside the volunteer's scope changes, no other person's
name leaks, and refusals are audit-logged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from bot.assemble import build
from bot.kernel import App
from db.models import AuditLog, OutboxMessage
from services import people
from services.access import Role
from services.demo import DEMO_USERS
from tests.support import ChatDriver, Said, demo_driver, make_settings, seed_demo

OUTSIDER_TEAM = "19768-1"  # Phường Phú Xuân — not the demo commune 19786
# Tables whose content must not change when an outsider presses buttons.
GUARDED = [
    "units",
    "memberships",
    "dossiers",
    "dossier_events",
    "dossier_subscriptions",
    "weekly_reports",
    "help_sessions",
    "invites",
    "join_requests",
    "kpi_targets",
    "tickets",
    "ticket_messages",
]
PRIVILEGED = ("canbo", "lanhdao", "tinh", "admin", "totruong")


async def snapshot(app: App) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with app.engine.connect() as conn:
        for table in GUARDED:
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).fetchall()
            out[table] = sorted(repr(tuple(r)) for r in rows)
    return out


def payloads_of(said: Said) -> list[str]:
    return [b.payload for r in said.replies for row in r.buttons for b in row if b.payload and not b.url]


async def collect_privileged_payloads(app: App) -> set[str]:
    """Buttons officers, leaders, team leaders and admins are shown, and those pushed to them."""
    seen: set[str] = set()
    for key in PRIVILEGED:
        user = demo_driver(app, key)
        commands = [c for c in app.router.commands if c not in ("huy", "cancel")]
        for name in commands:
            said = await user.send(f"/{name}")
            seen.update(payloads_of(said))
            await user.send("/huy")
    officer = demo_driver(app, "canbo")
    async with app.engine.connect() as conn:
        codes = (
            (
                await conn.execute(
                    text(
                        "SELECT code FROM dossiers WHERE unit_id = "
                        "(SELECT id FROM units WHERE code = '19786') LIMIT 3"
                    )
                )
            )
            .scalars()
            .all()
        )
    for code in codes:
        seen.update(payloads_of(await officer.send(f"/hoso {code}")))
        await officer.send("/huy")
    async with app.sessions() as s:
        for row in (await s.execute(select(OutboxMessage))).scalars():
            for btn_row in row.payload.get("buttons", []):
                seen.update(b[1] for b in btn_row if b[1])
    # Voting on an answer is open to everyone: not a privilege.
    return {p for p in seen if not p.startswith(("faq:", "core:", "lang:"))}


async def test_outsider_volunteer_is_refused_everything(db_url: str) -> None:
    cfg = make_settings(db_url)
    # Many attempts in a few seconds: lift the flood guard, which would otherwise answer them.
    app = build(cfg.model_copy(update={"app": cfg.app.model_copy(update={"flood_limit_per_10s": 100_000})}))
    try:
        await _outsider_scenario(app)
    finally:
        await app.close()


async def _outsider_scenario(app: App) -> None:
    await seed_demo(app)
    async with app.sessions() as s, s.begin():
        await people.grant_role(
            s,
            channel="console",
            external_id="outsider",
            role=Role.VOLUNTEER,
            unit_code=OUTSIDER_TEAM,
            display_name="Tình nguyện viên xã khác",
        )
    payloads = await collect_privileged_payloads(app)
    assert len(payloads) >= 10, payloads
    outsider = ChatDriver(app, "outsider", "Tình nguyện viên xã khác", channel="console")
    names = [u.display_name for u in DEMO_USERS if u.key != "dan"]
    before = await snapshot(app)
    async with app.sessions() as s:
        audits_before = len((await s.execute(select(AuditLog.id))).all())

    staff_only = [
        c.names[0]
        for c in app.router.command_list
        if not (c.roles & {Role.CITIZEN, Role.VOLUNTEER}) and c.names[0] != "huy"
    ]
    for name in staff_only:
        said = await outsider.send(f"/{name}")
        assert said.text, name
        await outsider.send("/huy")
    for payload in sorted(payloads):
        said = await outsider.press(payload)
        assert said.text, payload
        for person in names:
            assert person not in said.text, f"{payload} leaked {person}"
        await outsider.send("/huy")

    assert await snapshot(app) == before
    async with app.sessions() as s:
        denied = (await s.execute(select(AuditLog).where(AuditLog.action == "access.denied"))).scalars().all()
        audits_after = len((await s.execute(select(AuditLog.id))).all())
    assert audits_after > audits_before
    print(
        f"\nprivilege: {len(staff_only)} staff commands and {len(payloads)} copied payloads tried; "
        f"{len(denied)} refusals audit-logged"
    )
    assert len(denied) >= len(staff_only)
