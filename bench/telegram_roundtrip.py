"""Telegram round-trip benchmark: N users in parallel send /help through the local Bot API
emulator to the real `tocns run` process and wait for the answer.

    .venv/bin/python bench/telegram_roundtrip.py [--quick] [--users N] [--mode polling|webhook|both]

Prints messages/s and p50/p95 round-trip latency, and appends them to docs/benchmarks.md under
"Telegram round-trip". Needs node + npm (uses the e2e harness in tests/e2e/conftest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dtm
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    TOCNS,
    BotProcess,
    Emulator,
    TgUser,
    bot_env,
    ensure_node_modules,
    free_port,
    node_missing_reason,
)

DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Telegram round-trip"


async def run_mode(emulator: Emulator, workdir: Path, mode: str, users: int, rounds: int) -> dict[str, float]:
    workdir.mkdir()  # noqa: ASYNC240
    db = workdir / "tocns.db"
    token = f"9{os.getpid()}:bench-{uuid.uuid4().hex[:10]}"
    web_port = free_port()
    secret = uuid.uuid4().hex
    extra = {"TOCNS_TELEGRAM_BASE_URL": emulator.base_url, "TOCNS_TELEGRAM_MODE": mode}
    if mode == "webhook":
        extra |= {
            "TOCNS_TELEGRAM_WEBHOOK_SECRET": secret,
            "TOCNS_WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "TOCNS_WEB_PORT": str(web_port),
        }
    bot = BotProcess(
        workdir, bot_env(workdir, token, f"sqlite+aiosqlite:///{db}", extra), token, mode, web_port, secret
    )
    await bot.start(timeout=120)
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            people = [TgUser(emulator, session, bot, f"U{i}", 100_000 + i) for i in range(users)]

            async def one(user: TgUser) -> None:
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    await user.send_command("/help")
                    await user.wait_for_reply(timeout=60)
                    latencies.append(time.perf_counter() - t0)

            await asyncio.gather(*(one(u) for u in people[: min(3, users)]))  # warm-up
            latencies.clear()
            started = time.perf_counter()
            await asyncio.gather(*(one(u) for u in people))
            elapsed = time.perf_counter() - started
    finally:
        await bot.stop()
    qs = statistics.quantiles(latencies, n=20)
    return {
        "messages": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": qs[18] * 1000,
    }


def append_doc(lines: list[str], command: str) -> None:
    DOC.parent.mkdir(exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    block = "\n".join(
        [
            f"### {dtm.date.today().isoformat()} — `{command}`",
            "",
            f"Machine: `nproc` = {_nproc()}, {sys.platform}, Python {sys.version.split()[0]}; "
            "bot = real `tocns run` on SQLite, Bot API = telegram-test-api 4.2.1 via tests/e2e/emulator.js.",
            "",
            "| mode | users | messages | messages/s | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|",
            *lines,
            "",
        ]
    )
    if HEADING not in text:
        text = (
            text.rstrip("\n")
            + f"\n\n{HEADING}\n\nRound trip = user sends /help → reply visible at the emulator.\n"
        )
    head, _, rest = text.partition(HEADING)
    # Insert at the end of our section (before the next "## " heading of someone else).
    nxt = rest.find("\n## ")
    section, tail = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
    DOC.write_text(head + HEADING + section.rstrip("\n") + "\n\n" + block + tail, encoding="utf-8")


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few users and rounds (smoke run)")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None, help="messages per user")
    parser.add_argument("--mode", choices=["polling", "webhook", "both"], default="both")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    if reason := node_missing_reason():
        sys.exit(f"telegram_roundtrip: {reason}")
    users = args.users or (5 if args.quick else 20)
    rounds = args.rounds or (4 if args.quick else 10)
    ensure_node_modules()
    emulator = Emulator(free_port())
    emulator.start()
    modes = ["polling", "webhook"] if args.mode == "both" else [args.mode]
    rows: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="tocns-bench-"))
    try:
        for mode in modes:
            r = await run_mode(emulator, tmp / mode, mode, users, rounds)
            print(
                f"{mode:8} users={users} messages={r['messages']:.0f} "
                f"rate={r['rate']:.1f} msg/s p50={r['p50']:.0f} ms p95={r['p95']:.0f} ms"
            )
            cells = [mode, str(users), f"{r['messages']:.0f}", f"{r['rate']:.1f}", f"{r['p50']:.0f}"]
            rows.append("| " + " | ".join([*cells, f"{r['p95']:.0f}"]) + " |")
    finally:
        emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_write:
        append_doc(rows, "python bench/telegram_roundtrip.py " + " ".join(sys.argv[1:]))
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    assert TOCNS.exists(), "run from a checkout with .venv (./test.sh creates it)"
    asyncio.run(main())
