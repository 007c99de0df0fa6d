"""Telegram round trip, end to end, against a baseline measured in the same run.

Through the local Bot API emulator (tests/e2e/emulator.js: telegram-test-api with long-polling
getUpdates — a polling bot waits up to `timeout` for an update, as with Telegram), the real `tocns run`
process and, beside it, a bare PTB 22 echo bot with the same AIORateLimiter (bench/echo_bot.py) answer
the same load:

* `1 user`          — one person sends /help 30 times, each after the previous answer;
* `10 users 20/s`   — ten people, each sending /help every 0.5 s (20 messages/s in all, open loop);
* `… + digest`      — the same while `tocns jobs run weekly_digest` runs for 300 leaders (tocns only;
                      its ratio is against the echo figure of the plain 20/s load of the same run).

in polling and webhook mode, on SQLite and on PostgreSQL (a scratch database). Latency of a message =
the emulator's clock when the bot's answer reached it − when the emulator took the person's update
(no polling of results, no client-side resolution limit). Prints p50/p95 per bot and the ratios; the
goal is p50 ≤ 1.5× echo, p95 ≤ 2× echo and nothing lost. Also, per tocns run, the event loop's
longest block (bot/loopwatch.py, from the bot's log) and the getUpdates calls per second (a spinning
poller would show thousands).

    python bench/telegram_roundtrip.py [--quick] [--mode polling|webhook|both] [--db sqlite|pg|both]
                                       [--pg URL] [--seconds S] [--profile DIR] [--no-write]

`--profile DIR` runs `tocns run` under cProfile (the real process) and prints where its time went.
A missed timing goal is reported, not an error exit (the machine may be busy); a lost or duplicated
answer is an error exit. `--quick` never edits docs/benchmarks.md. Needs node (tests/e2e).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from _common import DEFAULT_PG, ROOT, TOCNS, ScratchPg, append_section, load_line, median, percentile, verdict

from tests.e2e.conftest import READY_LINE, Emulator, ensure_node_modules, free_port, node_missing_reason

GOAL_P50 = 1.5
GOAL_P95 = 2.0
LEADERS = 300


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # ms
    sent: int = 0
    lost: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def p50(self) -> float:
        return median(self.latencies)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)


class Bot:
    """A bot process (tocns or echo) under load: its token, how to start and stop it."""

    def __init__(self, kind: str, workdir: Path, emulator: Emulator, mode: str, db_url: str = "") -> None:
        self.kind = kind
        self.workdir = workdir
        self.emulator = emulator
        self.mode = mode
        self.db_url = db_url
        self.token = f"{abs(hash((kind, mode, db_url))) % 10**9}:bench-{uuid.uuid4().hex[:12]}"
        self.port = free_port()
        self.secret = uuid.uuid4().hex
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{kind}-{mode}.log"
        self.profile: Path | None = None

    def env(self) -> dict[str, str]:
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config.setdefault("telegram", {})["poll_interval"] = 0.0
        config.setdefault("app", {})["flood_limit_per_10s"] = 1000  # the load is 2 messages/s a person
        config.setdefault("kpi", {})["grace_minutes"] = 0  # no start-up catch-up in the middle of a run
        path = self.workdir / "config.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOCNS_")}
        env |= {
            "TOCNS_CONFIG": str(path),
            "TOCNS_DATABASE_URL": self.db_url,
            "TOCNS_TELEGRAM_TOKEN": self.token,
            "TOCNS_TELEGRAM_BASE_URL": self.emulator.base_url,
            "TOCNS_TELEGRAM_MODE": self.mode,
            "TOCNS_WEB_PORT": str(self.port),
            "TOCNS_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        if self.mode == "webhook":
            env |= {
                "TOCNS_TELEGRAM_WEBHOOK_SECRET": self.secret,
                "TOCNS_WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            }
        return env

    async def start(self) -> None:
        if self.kind == "echo":
            cmd = [sys.executable, str(ROOT / "bench" / "echo_bot.py"), "--base-url", self.emulator.base_url]
            cmd += [
                "--token",
                self.token,
                "--mode",
                self.mode,
                "--port",
                str(self.port),
                "--secret",
                self.secret,
            ]
            ready = "READY"
        else:
            cmd = [str(TOCNS), "run"]
            if self.profile is not None:
                cmd = [sys.executable, "-m", "cProfile", "-o", str(self.profile), str(TOCNS), "run"]
            ready = READY_LINE
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: ASYNC220
                cmd, cwd=self.workdir, env=self.env(), stdout=out, stderr=subprocess.STDOUT
            )
        for _ in range(1200):
            if ready in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} exited:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.1)
        raise SystemExit(f"{self.kind} not ready:\n{self.log.read_text()[-3000:]}")

    async def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            # Under cProfile the process writes its profile after the bot has stopped: give it time.
            for _ in range(300 if self.profile is None else 1800):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                print(f"{self.kind} did not stop on SIGTERM: killed", file=sys.stderr)
                self.proc.kill()
        return self.log.read_text(errors="replace")


class Load:
    def __init__(self, emulator: Emulator, session: aiohttp.ClientSession, bot: Bot) -> None:
        self.emulator = emulator
        self.session = session
        self.bot = bot

    async def send(self, user: int, text: str) -> float:
        msg = {
            "botToken": self.bot.token,
            "from": {"id": user, "is_bot": False, "first_name": f"U{user}", "language_code": "vi"},
            "chat": {"id": user, "type": "private", "first_name": f"U{user}"},
            "date": int(time.time()),
            "text": text,
            "entities": [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}],
        }
        result = await self.emulator.post(self.session, "/sendCommand", msg)
        if self.bot.mode == "webhook" and result.get("webhook_status") != 200:
            raise SystemExit(f"{self.bot.kind}: webhook answered {result}")
        return float(result["at_ms"])

    async def replies(self, user: int, after: int = 0, wait: float = 0) -> list[dict[str, Any]]:
        body = {"token": self.bot.token, "chatId": user, "afterId": after, "wait": wait}
        return list(await self.emulator.post(self.session, "/_tocns/messages", body))

    async def one_user(self, user: int, n: int) -> Result:
        res = Result()
        seen = 0
        for _ in range(n):
            at = await self.send(user, "/help")
            res.sent += 1
            got = await self.replies(user, seen, wait=30)
            if not got:
                res.lost += 1
                continue
            seen = max(m["message_id"] for m in got)
            res.latencies.append(got[0]["stored_ms"] - at)
        return res

    async def paced(
        self, users: list[int], rate: float, seconds: float, until: asyncio.Event | None
    ) -> Result:
        """Open loop: each user sends every len(users)/rate s, staggered; for `seconds` (and until
        `until` is set, when given). Answers matched per chat in order afterwards."""
        sent: dict[int, list[float]] = {u: [] for u in users}
        earlier = {u: len(await self.replies(u)) for u in users}  # answers from before this load
        period = len(users) / rate
        started = time.monotonic()

        async def person(i: int, user: int) -> None:
            await asyncio.sleep(i * period / len(users))
            k = 0
            while True:
                elapsed = time.monotonic() - started
                if elapsed >= seconds and (until is None or until.is_set()):
                    return
                sent[user].append(await self.send(user, "/help"))
                k += 1
                await asyncio.sleep(
                    max(0.0, started + i * period / len(users) + k * period - time.monotonic())
                )

        await asyncio.gather(*(person(i, u) for i, u in enumerate(users)))
        res = Result()
        for user in users:
            want = len(sent[user])
            got: list[dict[str, Any]] = []
            for _ in range(60):  # up to ~60 s for the last answers
                got = (await self.replies(user))[earlier[user] :]
                if len(got) >= want:
                    break
                await self.replies(user, max((m["message_id"] for m in got), default=0), wait=1)
            res.sent += want
            res.lost += max(0, want - len(got))
            if len(got) > want:
                res.extra["extra_answers"] = res.extra.get("extra_answers", 0) + len(got) - want
            for at, msg in zip(sent[user], got, strict=False):
                res.latencies.append(msg["stored_ms"] - at)
        return res


async def seed_tocns(db_url: str, workdir: Path) -> None:
    """Migrate, seed the demo, make LEADERS leaders spread over the demo's units (a digest each)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCNS_")}
    env |= {"TOCNS_DATABASE_URL": db_url, "TOCNS_CONFIG": str(ROOT / "config.yaml")}
    for cmd in (["db", "upgrade"], ["demo", "seed"]):
        pipe = asyncio.subprocess.PIPE
        proc = await asyncio.create_subprocess_exec(
            str(TOCNS), *cmd, env=env, cwd=workdir, stdout=pipe, stderr=asyncio.subprocess.STDOUT
        )
        text = (await proc.communicate())[0].decode(errors="replace")
        if proc.returncode:
            raise SystemExit(f"tocns {' '.join(cmd)} failed:\n{text[-2000:]}")
    from bot.assemble import build
    from bot.config import load_settings
    from services import people
    from services.access import Role

    app = build(load_settings(environ=env))
    try:
        from sqlalchemy import select

        from db.models import Unit

        async with app.sessions() as session, session.begin():
            codes = list((await session.execute(select(Unit.code).where(Unit.kind != "team"))).scalars())
            for i in range(LEADERS):
                await people.grant_role(
                    session,
                    channel="telegram",
                    external_id=str(7_000_000 + i),
                    role=Role.LEADER,
                    unit_code=codes[i % len(codes)],
                    display_name=f"Lãnh đạo {i}",
                )
    finally:
        await app.close()


async def run_digest(bot: Bot, done: asyncio.Event, out: dict[str, Any]) -> None:
    await asyncio.sleep(1.0)
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        # --lang en: the result line is read below, in the words it has in English.
        str(TOCNS), "--lang", "en", "jobs", "run", "weekly_digest", cwd=bot.workdir, env=bot.env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    text = (await proc.communicate())[0].decode(errors="replace")
    out["digest_s"] = time.perf_counter() - t0
    out["digest"] = " ".join(line.strip() for line in text.splitlines() if "weekly_digest" in line)[-300:]
    m = re.search(r"longest (\d+) ms", text)
    out["longest_write_ms"] = float(m.group(1)) if m else float("nan")
    if proc.returncode:
        out["digest_error"] = text[-1500:]
    done.set()


def loop_block(log: str) -> str:
    m = re.search(r"event loop: longest block (\d+) ms wall, (\d+) ms CPU; (\d+) blocks over 50 ms", log)
    for line in log.splitlines():
        if "event loop blocked" in line:
            print(f"    tocns log: {line.strip()[:160]}")
    return f"{m.group(1)} ms wall / {m.group(2)} ms CPU, {m.group(3)} over 50 ms" if m else "?"


def profile_summary(path: Path, lines: int = 25) -> list[str]:
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows: list[tuple[float, float, str]] = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = re.sub(r".*/(site-packages|lib/python3\.\d+|perf)/", "", file)
        rows.append((tt, ct, f"{short}:{line}({func})"))
    out = [f"cProfile of `tocns run`: {total:.1f} s in all (idle waiting included)"]
    out += [
        f"  {tt:7.2f} s self {ct:7.2f} s cum  {name}" for tt, ct, name in sorted(rows, reverse=True)[:lines]
    ]
    return out


async def scenario_set(
    emulator: Emulator,
    root: Path,
    mode: str,
    db: str,
    db_url: str,
    seconds: float,
    single: int,
    profile: Path | None,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        echo_dir = root / f"echo-{mode}-{db}"
        echo_dir.mkdir()
        echo = Bot("echo", echo_dir, emulator, mode)
        tocns_dir = root / f"tocns-{mode}-{db}"
        tocns_dir.mkdir()
        await seed_tocns(db_url, tocns_dir)
        tocns = Bot("tocns", tocns_dir, emulator, mode, db_url)
        if profile is not None:
            tocns.profile = profile / f"tocns-{mode}-{db}.prof"
        base = {"mode": mode, "db": db}
        results: dict[tuple[str, str], Result] = {}
        for bot in (echo, tocns):
            await bot.start()
            load = Load(emulator, session, bot)
            uid = 100_000 if bot.kind == "echo" else 200_000
            try:
                await load.one_user(uid + 99, 3)  # warm-up (first queries, connections)
                for u in range(10):
                    await load.one_user(uid + u, 1)
                state0 = await emulator.state(session, bot.token)
                t0 = time.monotonic()
                results[(bot.kind, "1 user")] = await load.one_user(uid + 50, single)
                results[(bot.kind, "10 users 20/s")] = await load.paced(
                    [uid + u for u in range(10)], 20.0, seconds, None
                )
                state1 = await emulator.state(session, bot.token)
                polls = (state1["get_updates_calls"] - state0["get_updates_calls"]) / (time.monotonic() - t0)
                results[(bot.kind, "10 users 20/s")].extra["getUpdates/s"] = round(polls, 1)
                if bot.kind == "tocns":
                    done = asyncio.Event()
                    info: dict[str, Any] = {}
                    job = asyncio.create_task(run_digest(bot, done, info))
                    r = await load.paced([uid + 20 + u for u in range(10)], 20.0, seconds, done)
                    await job
                    r.extra |= info
                    results[(bot.kind, "10 users 20/s + digest")] = r
            finally:
                log = await bot.stop()
            if bot.kind == "tocns":
                block = loop_block(log)
                for key, r in results.items():
                    if key[0] == "tocns":
                        r.extra["loop"] = block
        for load_name in ("1 user", "10 users 20/s", "10 users 20/s + digest"):
            t = results[("tocns", load_name)]
            e = results[("echo", load_name if "digest" not in load_name else "10 users 20/s")]
            rows.append({**base, "load": load_name, "tocns": t, "echo": e})
        if tocns.profile is not None and tocns.profile.exists():
            print("\n".join(profile_summary(tocns.profile)))
    return rows


def report(rows: list[dict[str, Any]]) -> tuple[list[str], bool]:
    table = [
        "| db | mode | load | echo p50 / p95 ms | tocns p50 / p95 ms | p50 ratio (≤ 1.5) | p95 ratio (≤ 2) "
        "| sent / lost | tocns loop block | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    correct = True
    for r in rows:
        t: Result = r["tocns"]
        e: Result = r["echo"]
        q50 = t.p50 / e.p50 if e.p50 else float("nan")
        q95 = t.p95 / e.p95 if e.p95 else float("nan")
        lost = t.lost + (e.lost if "digest" not in r["load"] else 0)
        correct &= lost == 0 and not t.extra.get("extra_answers") and "digest_error" not in t.extra
        notes = ", ".join(
            f"{k} {v}"
            for k, v in t.extra.items()
            if k in ("getUpdates/s", "digest_s", "longest_write_ms", "digest")
        )
        if "digest_s" in t.extra:
            notes = (
                f"digest job {t.extra['digest_s']:.1f} s, longest write {t.extra['longest_write_ms']:.0f} ms"
            )
        elif "getUpdates/s" in t.extra:
            notes = f"getUpdates/s tocns {t.extra['getUpdates/s']} echo {e.extra.get('getUpdates/s')}"
        print(
            f"{r['db']:10} {r['mode']:8} {r['load']:24} echo p50={e.p50:.1f} p95={e.p95:.1f} ms | "
            f"tocns p50={t.p50:.1f} p95={t.p95:.1f} ms | ratio p50 {q50:.2f} ({verdict(q50 <= GOAL_P50)}) "
            f"p95 {q95:.2f} ({verdict(q95 <= GOAL_P95)}) | sent {t.sent} lost {t.lost} | "
            f"loop {t.extra.get('loop')} | {notes}"
        )
        if "digest_error" in t.extra:
            print(t.extra["digest_error"])
        table.append(
            f"| {r['db']} | {r['mode']} | {r['load']} | {e.p50:.1f} / {e.p95:.1f} "
            f"| {t.p50:.1f} / {t.p95:.1f} "
            f"| {q50:.2f} {verdict(q50 <= GOAL_P50)} | {q95:.2f} {verdict(q95 <= GOAL_P95)} "
            f"| {t.sent} / {t.lost} | {t.extra.get('loop')} | {notes} |"
        )
    return table, correct


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short loads, SQLite polling only (smoke run)")
    parser.add_argument("--mode", choices=["polling", "webhook", "both"], default="both")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--seconds", type=float, default=None, help="length of each 20 messages/s load")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile `tocns run` into DIR")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    if reason := node_missing_reason():
        print(f"telegram_roundtrip: {reason}")
        return 2
    if not TOCNS.exists():
        print(f"telegram_roundtrip: no `tocns` next to {sys.executable}")
        return 2
    seconds = args.seconds or (5.0 if args.quick else 15.0)
    single = 10 if args.quick else 30
    modes = ["polling", "webhook"] if args.mode == "both" else [args.mode]
    dbs = ["sqlite", "pg"] if args.db == "both" else [args.db]
    if args.quick and args.mode == "both":
        modes = ["polling"]
    if args.quick and args.db == "both":
        dbs = ["sqlite"]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    ensure_node_modules()
    emulator = Emulator(free_port())
    emulator.start()
    root = Path(tempfile.mkdtemp(prefix="tocns-roundtrip-"))
    rows: list[dict[str, Any]] = []
    load_before = load_line()
    try:
        for db in dbs:
            for mode in modes:
                if db == "sqlite":
                    url = f"sqlite+aiosqlite:///{root / f'{mode}.db'}"
                    rows += await scenario_set(emulator, root, mode, db, url, seconds, single, args.profile)
                else:
                    async with ScratchPg(args.pg) as url:
                        rows += await scenario_set(
                            emulator, root, mode, db, url, seconds, single, args.profile
                        )
    finally:
        emulator.stop()
        shutil.rmtree(root, ignore_errors=True)
    table, correct = report(rows)
    if not args.no_write:
        about = (
            "Real `tocns run` and a bare PTB 22 echo bot (bench/echo_bot.py, same AIORateLimiter) in the "
            "same run, through the long-polling Bot API emulator (tests/e2e/emulator.js). Latency = the "
            "emulator's clock from taking the update to receiving the answer. Loads: one person, "
            f"{single} messages one after another; ten people at 20 messages/s together (open loop, "
            f"{seconds:g} s); the same while `tocns jobs run weekly_digest` runs for {LEADERS} leaders "
            "(ratio against the echo bot's plain 20/s figure). Loop block = bot/loopwatch.py in the "
            "tocns process over the whole run (wall: how late the loop woke, OS preemption included; "
            "CPU: what the loop thread itself burnt)."
        )
        append_section(
            "Telegram round-trip",
            "Round trip = user sends /help → reply visible at the emulator.",
            [
                about,
                "",
                f"Load on the machine: {load_before} at the start, {load_line()} at the end.",
                "",
                *table,
            ],
        )
    if not correct:
        print("CORRECTNESS FAILURE: an answer was lost or duplicated, or the digest job failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
