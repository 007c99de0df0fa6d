"""Zalo webhook answer time: the real Zalo OA adapter (and the Zalo Bot adapter in webhook mode)
behind the project's aiohttp server, fed signed events by the contract fakes in tests/fakes.

    .venv/bin/python bench/zalo_webhook.py [--rounds N] [--pg URL]

For Zalo OA: N signed `user_send_file` events each pointing at a 20 MB attachment, and N text
events; for the Bot Platform: N text events. Prints the time from Zalo's POST to our 200 (p50,
p95, max — Zalo OA's deadline is 2 s) and the time until the event was fully processed (download,
intake, reply sent), and appends them to docs/benchmarks.md under "Zalo webhooks".
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import ScratchPg, append_section, median, migrate_url, percentile

from bot.assemble import build
from tests.harness.zalo import ZaloBotHarness, ZaloOAHarness
from tests.support import make_settings

HEADING = "Zalo webhooks"
INTRO = (
    "Time from Zalo's POST to the adapter's 200 (the webhook stores the raw event in one insert and"
    " answers; downloads, the intake and the replies run afterwards), and time until the event was"
    " fully processed. Zalo OA's deadline is 2 s (then it redelivers and eventually disables the"
    " webhook). In-process: the real adapters and web server against the contract fakes."
)


async def run(url: str, rounds: int) -> list[str]:
    await migrate_url(url)
    app = build(make_settings(url))
    rows: list[str] = []
    try:
        async with ZaloOAHarness(app) as h:
            assert h.channel is not None
            big = b"x" * (20 * 1024 * 1024)
            for kind in ("file 20 MB", "text"):
                answers: list[float] = []
                done: list[float] = []
                for i in range(rounds):
                    if kind == "text":
                        event = h.fake.text_event(f"bench{i}", "/help")
                    else:
                        event = h.fake.file_event(f"bench{i}", f"f{i}.xlsx", big)
                    mark = len(h.fake.webhook_latencies)
                    started = time.perf_counter()
                    status = await h.fake.deliver(event)
                    answers.append(h.fake.webhook_latencies[mark])
                    await h.channel.drain()
                    done.append(time.perf_counter() - started)
                    assert status == 200, status
                rows.append(_row(f"Zalo OA, {kind}", answers, done, len(h.fake.redeliveries_due)))
        async with ZaloBotHarness(app, "webhook") as b:
            assert b.channel is not None
            answers, done = [], []
            for i in range(rounds):
                started = time.perf_counter()
                await b.fake.deliver(b.fake.update(f"bb{i}", "/help"))
                answers.append(b.fake.webhook_latencies[-1])
                await b.settle()
                done.append(time.perf_counter() - started)
            rows.append(_row("Zalo Bot, text", answers, done, len(b.fake.redeliveries_due)))
    finally:
        await app.close()
    return rows


def _row(label: str, answers: list[float], done: list[float], redeliveries: int) -> str:
    ms = [a * 1000 for a in answers]
    full = [d * 1000 for d in done]
    return (
        f"| {label} | {len(ms)} | {median(ms):.1f} | {percentile(ms, 95):.1f} | {max(ms):.1f} "
        f"| {median(full):.0f} | {redeliveries} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pg", help="PostgreSQL admin URL (a scratch database is created)")
    args = parser.parse_args()
    if args.pg:
        async with ScratchPg(args.pg) as url:
            rows = await run(url, args.rounds)
        backend = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.rounds)
        backend = "SQLite"
    body = [
        f"Database: {backend}.",
        "",
        "| events | n | answer p50 ms | p95 ms | max ms | processed p50 ms | redeliveries due |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    print("\n".join(body))
    append_section(HEADING, INTRO, body)


if __name__ == "__main__":
    asyncio.run(main())
