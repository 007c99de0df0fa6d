"""Crash in the middle of a fan-out: 2,000 pushes queued, a real `tocns run` (Telegram polling against
the fake Bot API) delivers some hundreds, is killed with SIGKILL, is started again and finishes.
Every recipient gets the message at least once; a crash may cost at most one duplicate (the message
whose send was accepted but whose "sent" mark had not committed yet).

Two things are sped up so the test stays well under a minute per database, without changing what is
measured:
- `outbox.rate_per_second` is raised in a copy of config.yaml, and PTB's AIORateLimiter (30/s in
  bot/telegram/_channel.py) is lifted in the child process by a two-line wrapper around the real
  `tocns` entry point; the fake Bot API has no rate limit.
- the killed worker's claims (`claimed_until`, a 60 s lease) are expired by the test right after the
  kill, which is what waiting out the lease would do.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml
from sqlalchemy import func, select, update

from db.base import utcnow
from db.engine import create_engine
from db.models import OutboxMessage
from tests.fakes.bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent.parent
MESSAGES = 1_000
KILL_AFTER = 200  # delivered before the kill
READY_LINE = "tocns is running"

# The real CLI, with PTB's own 30 msg/s limiter lifted (overall_max_rate=0 disables it).
RUN = """
import sys
import bot.channels.telegram._channel as channel
_limiter = channel.AIORateLimiter
channel.AIORateLimiter = lambda **kw: _limiter(**{**kw, "overall_max_rate": 0})
from bot.cli import main
sys.argv = ["tocns", "run"]
main()
"""


def text_for(i: int) -> str:
    return f"Thông báo thử số {i}"


async def enqueue(url: str) -> None:
    engine = create_engine(url)
    now = utcnow()
    rows = [
        {
            "idempotency_key": f"crash-fanout:{i}",
            "kind": "crash_fanout",
            "channel": "telegram",
            "chat_id": str(7_000_000 + i),
            "payload": {"text": text_for(i)},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(MESSAGES)
    ]
    try:
        async with engine.begin() as conn:
            await conn.execute(OutboxMessage.__table__.insert(), rows)
    finally:
        await engine.dispose()


async def outbox_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            return {str(s): int(n) for s, n in (await conn.execute(stmt)).all()}
    finally:
        await engine.dispose()


async def drained(url: str) -> bool:
    return (await outbox_counts(url)).get("pending", 0) == 0


async def expire_claims(url: str) -> int:
    """Fast-forward the dead worker's lease: its claimed, unsent rows become claimable now."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            stmt = (
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.claimed_until.is_not(None))
                .values(claimed_until=None)
            )
            return int((await conn.execute(stmt)).rowcount)
    finally:
        await engine.dispose()


class Bot:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"bot-{self.starts}.log"

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("bot-*.log"))
        )

    async def start(self, timeout: float = 40.0) -> None:  # noqa: ASYNC109
        self.starts += 1
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-c", RUN],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.log_path.read_text(errors="replace"):
                return
            assert self.proc.poll() is None, f"tocns run exited {self.proc.returncode}:\n{self.log()}"
            await asyncio.sleep(0.05)
        raise AssertionError(f"tocns run not ready after {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def bot_env(workdir: Path, api: FakeBotApi, db_url: str) -> dict[str, str]:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.setdefault("outbox", {}).update({"rate_per_second": 2000.0, "poll_interval": 0.2})
    config.setdefault("telegram", {})["poll_interval"] = 0.0
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCNS_")}
    env.update(
        {
            "TOCNS_CONFIG": str(workdir / "config.yaml"),
            "TOCNS_DATABASE_URL": db_url,
            "TOCNS_TELEGRAM_TOKEN": api.token,
            "TOCNS_TELEGRAM_BASE_URL": api.base_url,
            "TOCNS_WEB_PORT": "0",
            "TOCNS_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


async def wait_for(predicate: object, timeout: float, what: str, bot: Bot) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{bot.log()}")


async def test_kill_mid_fanout_loses_nothing_and_duplicates_at_most_one_per_kill(
    db_url: str, tmp_path: Path
) -> None:
    await enqueue(db_url)
    async with FakeBotApi() as api:
        bot = Bot(tmp_path, bot_env(tmp_path, api, db_url))

        def delivered() -> int:
            return len(api.calls_to("sendMessage"))

        kills = 0
        try:
            await bot.start()
            await wait_for(lambda: delivered() >= KILL_AFTER, 40, f"{KILL_AFTER} deliveries", bot)
            bot.kill()
            kills += 1
            at_kill = delivered()
            assert at_kill < MESSAGES, "the fan-out finished before the kill: raise MESSAGES"
            expired = await expire_claims(db_url)
            await bot.start()
            await wait_for(lambda: drained(db_url), 40, "an empty outbox", bot)
        finally:
            bot.terminate()
        counts = await outbox_counts(db_url)
        sends = api.calls_to("sendMessage")
        per_chat = Counter(int(c.params["chat_id"]) for c in sends)
        texts = {int(c.params["chat_id"]): c.params["text"] for c in sends}

    expected = {7_000_000 + i: text_for(i) for i in range(MESSAGES)}
    missing = set(expected) - set(per_chat)
    duplicates = sum(n - 1 for n in per_chat.values())
    print(
        f"crash fan-out: {MESSAGES} queued, killed after {at_kill} sends ({expired} claims expired), "
        f"{len(sends)} sendMessage calls, {len(per_chat)} recipients, duplicates={duplicates} "
        f"for {kills} kill(s), outbox={counts}"
    )
    assert counts == {"sent": MESSAGES}
    assert not missing, f"{len(missing)} recipients got nothing"
    assert texts == expected
    assert set(per_chat) == set(expected)
    assert duplicates <= kills


async def claimed_pending(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            stmt = select(func.count()).where(
                OutboxMessage.status == "pending", OutboxMessage.claimed_until.is_not(None)
            )
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()


# `docker stop` (and systemd's default is longer) sends SIGTERM, then SIGKILL after 10 s.
STOP_GRACE = 10.0


async def test_sigterm_mid_fanout_stops_in_the_grace_period_and_sends_nothing_twice(
    db_url: str, tmp_path: Path
) -> None:
    """A deploy stops the worker in the middle of a fan-out. It must exit by itself before the
    SIGKILL (a killed worker may leave one push sent but unmarked: a duplicate), and give back the
    rest of its claimed batch so the next start sends it at once, not after the lease."""
    await enqueue(db_url)
    async with FakeBotApi() as api:
        bot = Bot(tmp_path, bot_env(tmp_path, api, db_url))

        def delivered() -> int:
            return len(api.calls_to("sendMessage"))

        try:
            await bot.start()
            await wait_for(lambda: delivered() >= KILL_AFTER, 40, f"{KILL_AFTER} deliveries", bot)
            assert bot.proc is not None
            bot.proc.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.to_thread(bot.proc.wait, STOP_GRACE)
            except subprocess.TimeoutExpired:
                bot.kill()
                raise AssertionError(f"running {STOP_GRACE:.0f} s after SIGTERM:\n{bot.log()}") from None
            assert code == 0, bot.log()
            at_stop = delivered()
            assert at_stop < MESSAGES, "the fan-out finished before the stop: raise MESSAGES"
            assert await claimed_pending(db_url) == 0, "claims left behind by a clean stop"
            await bot.start()
            # Well under the 60 s lease: the given-back rows are sent at once.
            await wait_for(lambda: drained(db_url), 40, "an empty outbox", bot)
        finally:
            bot.terminate()
        counts = await outbox_counts(db_url)
        per_chat = Counter(int(c.params["chat_id"]) for c in api.calls_to("sendMessage"))

    assert counts == {"sent": MESSAGES}
    assert set(per_chat) == {7_000_000 + i for i in range(MESSAGES)}
    assert max(per_chat.values()) == 1, "a clean stop sent a push twice"
