"""Fan-out benchmark: N notifications enqueued in the outbox, sent by the real Dispatcher through the
real TelegramSender (PTB 22 Bot with the project's AIORateLimiter) to the local fake Bot API, which
enforces 30 messages/s and answers HTTP 429 + retry_after beyond that.

    .venv/bin/python bench/fanout.py [--quick] [--messages N] [--pg [URL]] [--no-write]

Prints the sustained rate (first to last accepted sendMessage) and the number of 429s, and appends
them to docs/benchmarks.md under "Outbox fan-out". Uses the real settings from config.yaml
(`outbox.rate_per_second`, 28 by default) unless --rate is given. SQLite by default; --pg runs on a
scratch PostgreSQL database instead.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_PG, ROOT, ScratchPg, append_section, migrate_url, verdict
from pydantic import SecretStr

from bot.assemble import build
from bot.channels.telegram import TelegramSender, make_application
from bot.config import load_settings
from db.base import utcnow
from db.models import OutboxMessage
from tests.fakes.bot_api import FakeBotApi

LIMIT = 30
GOAL_RATE = 27.0


class CountingBotApi(FakeBotApi):
    """The fake Bot API, plus the time of every accepted send and a count of the 429s it answered."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.too_many = 0
        self.accepted: list[float] = []

    def _rate_limited(self) -> int | None:
        wait = super()._rate_limited()
        if wait is None:
            self.accepted.append(time.monotonic())
        else:
            self.too_many += 1
        return wait


async def enqueue(app: Any, n: int) -> None:
    now = utcnow()
    rows = [
        {
            "idempotency_key": f"bench-fanout:{i}",
            "kind": "bench_fanout",
            "channel": "telegram",
            "chat_id": str(5_000_000 + i),
            "payload": {"text": f"Thông báo thử nghiệm số {i}: vui lòng bỏ qua tin này."},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(n)
    ]
    async with app.sessions() as session, session.begin():
        for start in range(0, n, 1000):
            await session.execute(OutboxMessage.__table__.insert(), rows[start : start + 1000])


async def run(db_url: str, n: int, rate: float | None) -> dict[str, float]:
    env = {"TOCNS_DATABASE_URL": db_url, "TOCNS_CONFIG": str(ROOT / "config.yaml")}
    settings = load_settings(environ=env)
    if rate is not None:
        settings = settings.model_copy(
            update={"outbox": settings.outbox.model_copy(update={"rate_per_second": rate})}
        )
    async with CountingBotApi(rate_limit=LIMIT) as api:
        tg = settings.telegram.model_copy(update={"token": SecretStr(api.token), "base_url": api.base_url})
        settings = settings.model_copy(update={"telegram": tg})
        app = build(settings)
        ptb = make_application(settings.telegram, webhook=True)
        await ptb.initialize()
        try:
            await enqueue(app, n)
            app.add_sender(TelegramSender(ptb.bot))
            started = time.monotonic()
            task = asyncio.create_task(app.dispatcher.run())
            while app.dispatcher.sent < n:
                if task.done():
                    task.result()
                    break
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            app.dispatcher.stop()
            await task
        finally:
            await ptb.shutdown()
            await app.close()
        recipients = {str(c.params.get("chat_id")) for c in api.calls_to("sendMessage")}
        span = api.accepted[-1] - api.accepted[0] if len(api.accepted) > 1 else float("nan")
        # The best 1-second window, to show the platform limit was never exceeded from our side.
        peak = 0
        j = 0
        for i, t in enumerate(api.accepted):
            while api.accepted[j] <= t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
        return {
            "messages": n,
            "sent": app.dispatcher.sent,
            "failed": app.dispatcher.failed,
            "recipients": len(recipients),
            "rate": (len(api.accepted) - 1) / span if span == span and span > 0 else float("nan"),
            "wall": elapsed,
            "too_many": api.too_many,
            "peak": peak,
            "setting": settings.outbox.rate_per_second,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 messages instead of 10,000")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="override outbox.rate_per_second")
    parser.add_argument("--pg", nargs="?", const=DEFAULT_PG, default=None, help="run on PostgreSQL")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n = args.messages or (1_000 if args.quick else 10_000)
    if args.pg:
        async with ScratchPg(args.pg) as url:
            await migrate_url(url)
            r = await run(url, n, args.rate)
        backend = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory(prefix="tocns-fanout-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}"
            await migrate_url(url)
            r = await run(url, n, args.rate)
        backend = "SQLite"
    ok = r["rate"] >= GOAL_RATE and r["too_many"] == 0 and r["sent"] == n
    print(
        f"fanout {backend}: messages={n} sent={r['sent']:.0f} failed={r['failed']:.0f} "
        f"distinct recipients={r['recipients']:.0f} rate={r['rate']:.1f} msg/s "
        f"(wall {r['wall']:.1f} s) 429s={r['too_many']:.0f} peak 1-s window={r['peak']:.0f} "
        f"outbox.rate_per_second={r['setting']:g} -> goal >= {GOAL_RATE:g} msg/s and 0 x 429: {verdict(ok)}"
    )
    if not args.no_write:
        body = [
            f"Backend: {backend}; fake Bot API limit {LIMIT} sends / 1 s sliding window (429 + retry_after); "
            f"`outbox.rate_per_second` = {r['setting']:g}; PTB AIORateLimiter(overall_max_rate=30).",
            "",
            "| messages | sent | failed | msg/s (sustained) | goal ≥ 27 | 429s | goal 0 "
            "| peak msgs in 1 s | wall s |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {n} | {r['sent']:.0f} | {r['failed']:.0f} | {r['rate']:.1f} "
            f"| {verdict(r['rate'] >= GOAL_RATE)} "
            f"| {r['too_many']:.0f} | {verdict(r['too_many'] == 0)} | {r['peak']:.0f} | {r['wall']:.1f} |",
        ]
        append_section(
            "Outbox fan-out",
            "N pushes queued in the outbox, delivered by the real Dispatcher + TelegramSender to "
            "tests/fakes/bot_api.py limited to 30 messages/s. Rate = accepted sends ÷ time from the "
            "first to the last accepted send.",
            body,
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
