"""Bad input, fuzzed: hypothesis drives every command, dialog step and button prefix of the real
app with random Unicode, emoji, huge texts, control characters, SQL/HTML-looking text and forged
payloads, as every demo role. Every update gets an answer (or a deliberate silence), no dialog
raises, and the database stays consistent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from bot.assemble import build
from bot.kernel import App
from services.demo import DEMO_USERS
from tests.support import ChatDriver, make_settings, seed_demo

NASTY = [
    "",
    " ",
    "\x00\x01\x02",
    "'; DROP TABLE people; --",
    "<script>alert(1)</script>",
    "<b>đậm</b> & &amp;",
    "🙂🙏🏻👨‍👩‍👧",
    "x" * 10_000,
    "1" * 300,
    "-5",
    "0",
    "999999999999999999999",
    "31/02",
    "hôm qua",
    "H12.34-241120-0001",
    "%s %d {0} {name}",
    "\u202eRTL override",
    "Đ̶ấ̷u̸",
]

text_strategy = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.integers(min_value=-10, max_value=10).map(str),
)


class Fuzzer:
    def __init__(self, app: App) -> None:
        self.app = app
        self.runner = asyncio.Runner()
        self.users = {
            u.key: ChatDriver(app, f"demo-{u.key}", u.display_name, channel="console") for u in DEMO_USERS
        }
        self.users["new"] = ChatDriver(app, "fuzz-new", "Khách mới")
        self.users["zalo"] = ChatDriver(
            app, "fuzz-zalo", "Khách Zalo", channel="zalo_bot", supports_buttons=False
        )

    def commands(self) -> list[str]:
        return [*sorted(self.app.router.commands), "huy", "khongco"]

    def prefixes(self) -> list[str]:
        return [*sorted(self.app.router.callbacks), "nope"]


@pytest.fixture
def fuzzer(db_url: str) -> Iterator[Fuzzer]:
    cfg = make_settings(db_url)
    cfg = cfg.model_copy(update={"app": cfg.app.model_copy(update={"flood_limit_per_10s": 1_000_000})})
    app = build(cfg)
    fz = Fuzzer(app)
    fz.runner.run(seed_demo(app))
    try:
        yield fz
    finally:
        fz.runner.run(app.close())
        fz.runner.close()


step = st.tuples(
    st.sampled_from([k for k in [u.key for u in DEMO_USERS] + ["new", "zalo"]]),
    st.sampled_from(["command", "text", "payload", "number", "file"]),
    st.integers(min_value=0, max_value=10_000),
    text_strategy,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_random_input_never_breaks_a_dialog(
    fuzzer: Fuzzer, steps: list[tuple[str, str, int, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="tocns.update")
    commands, prefixes = fuzzer.commands(), fuzzer.prefixes()
    for who, kind, n, blob in steps:
        user = fuzzer.users[who]
        if kind == "command":
            said = fuzzer.runner.run(user.send(f"/{commands[n % len(commands)]} {blob}".strip()))
        elif kind == "payload":
            payload = f"{prefixes[n % len(prefixes)]}:{blob}"[:64]
            said = fuzzer.runner.run(user.press(payload.encode()[:64].decode(errors="ignore")))
        elif kind == "number":
            said = fuzzer.runner.run(user.send(str(n % 12)))
        elif kind == "file":
            said = fuzzer.runner.run(user.upload(f"f{n}.xlsx", blob.encode()[:2000]))
        else:
            said = fuzzer.runner.run(user.send(blob))
        assert said.replies, f"no answer to {kind} {blob[:40]!r} from {who}"
        for reply in said.replies:
            assert reply.text.strip(), "empty reply"
            assert "Traceback" not in reply.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage() if errors else ""
    fuzzer.runner.run(check_invariants(fuzzer.app))


INVARIANTS = {
    # Each query counts rows that break a rule the dialogs and services must keep.
    "help session with a citizen count out of range": (
        "SELECT count(*) FROM help_sessions WHERE citizens < 1 OR citizens > 1000"
    ),
    "dossier with an unknown status": (
        "SELECT count(*) FROM dossiers WHERE status NOT IN "
        "('received','processing','supplement','result_ready','returned','rejected','withdrawn')"
    ),
    "dossier with an unknown mode": (
        "SELECT count(*) FROM dossiers WHERE mode NOT IN ('full_online','partial_online','counter')"
    ),
    "weekly report whose parts exceed totals": (
        "SELECT count(*) FROM weekly_reports WHERE received_online > received "
        "OR received_full_online > received_online OR resolved_on_time > resolved "
        "OR services_with_online > services_offered OR received < 0 OR resolved < 0 OR overdue_open < 0"
    ),
    "membership of a closed unit still active": (
        "SELECT count(*) FROM memberships m JOIN units u ON u.id = m.unit_id WHERE m.active AND NOT u.active"
    ),
    "outbox row without text": "SELECT count(*) FROM outbox WHERE payload IS NULL",
    "dialog state of an unknown account": (
        "SELECT count(*) FROM dialog_states d WHERE d.name IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM channel_accounts a WHERE a.channel = d.channel AND a.external_id = d.user_id)"
    ),
}


async def check_invariants(app: App) -> None:
    async with app.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            bad = (await conn.execute(text("PRAGMA foreign_key_check"))).fetchall()
            assert not bad, bad
        for rule, query in INVARIANTS.items():
            assert (await conn.execute(text(query))).scalar_one() == 0, rule
        tickets = await conn.run_sync(lambda c: inspect(c).has_table("tickets"))
        if tickets:
            many_open = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT citizen_id FROM tickets "
                        "WHERE status IN ('open','claimed') GROUP BY citizen_id HAVING count(*) > 1) t"
                    )
                )
            ).scalar_one()
            assert many_open == 0, "a citizen with two open tickets"
