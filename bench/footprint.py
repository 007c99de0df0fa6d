"""Footprint: resident memory of an idle `tocns run` with every channel configured, and start-up time
from spawn to the first answered update, on SQLite.

    .venv/bin/python bench/footprint.py [--quick] [--settle S] [--no-write]

- RSS: `tocns run` with Telegram polling against tests/fakes/bot_api.py, Zalo Bot polling against
  tests/fakes/zalo_bot_api.py and the Zalo OA webhook (keys set, OA API faked by
  tests/fakes/zalo_oa_api.py), on a migrated + seeded SQLite file; VmRSS from /proc/<pid>/status after
  it settles (default 5 s after the ready line). Goal < 120 MB.
- Start-up: a fresh migrated + seeded SQLite copy, Telegram only; one /start update is queued in the
  fake Bot API before spawning; time from spawn until the fake records the sendMessage answering it.
  Goal < 2 s. Runs 3 times (`--quick`: 1) and keeps the median.
- Import cost: `python -X importtime -c "import bot.cli; bot.serve"`-style list
  of the heaviest top-level packages imported by the `run` path, to show what dominates.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _common import ROOT, TOCNS, append_section, median, rss_mb, verdict

from tests.fakes.bot_api import FakeBotApi
from tests.fakes.zalo_bot_api import FakeZaloBotApi
from tests.fakes.zalo_oa_api import FakeZaloOA

GOAL_RSS = 120.0
GOAL_START = 2.0
READY = "tocns is running"


def env_for(workdir: Path, db: Path, extra: dict[str, str]) -> dict[str, str]:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.setdefault("telegram", {})["poll_interval"] = 0.0
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCNS_")}
    env.update(
        {
            "TOCNS_CONFIG": str(workdir / "config.yaml"),
            "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "TOCNS_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def make_template(workdir: Path) -> Path:
    db = workdir / "template.db"
    env = env_for(workdir, db, {})
    for cmd in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([str(TOCNS), *cmd], env=env, cwd=workdir, check=True, capture_output=True, timeout=300)
    return db


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if READY in log.read_text(errors="replace"):  # noqa: ASYNC240
            return
        if proc.poll() is not None:
            raise SystemExit(f"tocns run exited {proc.returncode}:\n{log.read_text()[-3000:]}")  # noqa: ASYNC240
        await asyncio.sleep(0.05)
    raise SystemExit(f"tocns run not ready:\n{log.read_text()[-3000:]}")  # noqa: ASYNC240


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def idle_rss(workdir: Path, template: Path, settle: float) -> tuple[float, float, str]:
    db = workdir / "rss.db"
    shutil.copyfile(template, db)
    zalo_token = "3000000000000000001:FAKEZALOTOKEN"
    async with FakeBotApi() as tg:
        zb = FakeZaloBotApi(zalo_token)
        await zb.start()
        oa = FakeZaloOA("1234567890", "app-secret-key", "oa-secret-key")
        await oa.start()
        try:
            env = env_for(
                workdir,
                db,
                {
                    "TOCNS_TELEGRAM_TOKEN": tg.token,
                    "TOCNS_TELEGRAM_BASE_URL": tg.base_url,
                    "TOCNS_ZALO_BOT_TOKEN": zalo_token,
                    "TOCNS_ZALO_BOT_BASE_URL": zb.base_url,
                    "TOCNS_ZALO_OA_APP_ID": "1234567890",
                    "TOCNS_ZALO_OA_SECRET_KEY": "app-secret-key",
                    "TOCNS_ZALO_OA_OA_SECRET_KEY": "oa-secret-key",
                    "TOCNS_ZALO_OA_BASE_URL": oa.base_url,
                    "TOCNS_ZALO_OA_OAUTH_URL": oa.base_url,
                    "TOCNS_WEB_PORT": str(free_port()),
                },
            )
            log = workdir / "rss.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(  # noqa: ASYNC220
                    [str(TOCNS), "run"], env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT
                )
            try:
                await wait_ready(proc, log)
                at_ready = rss_mb(proc.pid)
                await asyncio.sleep(settle)
                settled = rss_mb(proc.pid)
                channels = ", ".join(sorted(set(re.findall(r"channel (\S+) started", log.read_text()))))
            finally:
                stop(proc)
        finally:
            await oa.close()
            await zb.close()
    return at_ready, settled, channels


async def first_answer(workdir: Path, template: Path, run: int) -> float:
    db = workdir / f"start{run}.db"
    shutil.copyfile(template, db)
    async with FakeBotApi() as tg:
        user = {"id": 555_000 + run, "is_bot": False, "first_name": "Khách", "language_code": "vi"}
        tg.push_update(
            {
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": user["id"], "type": "private"},
                    "from": user,
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
            }
        )
        env = env_for(
            workdir,
            db,
            {
                "TOCNS_TELEGRAM_TOKEN": tg.token,
                "TOCNS_TELEGRAM_BASE_URL": tg.base_url,
                "TOCNS_WEB_PORT": str(free_port()),  # never the default 8080 (another bot may hold it)
            },
        )
        log = workdir / f"start{run}.log"
        with log.open("wb") as out:
            t0 = time.perf_counter()
            proc = subprocess.Popen(  # noqa: ASYNC220
                [str(TOCNS), "run"], env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            while not any(c.params.get("chat_id") == user["id"] for c in tg.calls_to("sendMessage")):
                if proc.poll() is not None or time.perf_counter() - t0 > 60:
                    raise SystemExit(f"no answer:\n{log.read_text()[-3000:]}")
                await asyncio.sleep(0.01)
            return time.perf_counter() - t0
        finally:
            stop(proc)


def import_profile() -> tuple[float, list[tuple[float, str]]]:
    """Cumulative import time (ms) per top-level package for what `tocns run` imports at start."""
    code = "import bot.cli, bot.assemble, bot.serve; from bot.assemble import build; import bot.scheduler"
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    per_pkg: dict[str, float] = {}
    total = 0.0
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if not m:
            continue
        self_us, name = int(m.group(1)), m.group(4)
        total += self_us
        top = name.split(".")[0]
        per_pkg[top] = per_pkg.get(top, 0.0) + self_us / 1000
    heavy = sorted(((ms, pkg) for pkg, ms in per_pkg.items()), reverse=True)[:12]
    return total / 1000, heavy


def python_floor() -> float:
    """RSS of a bare interpreter, for scale."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    time.sleep(1.0)
    try:
        return rss_mb(proc.pid)
    finally:
        proc.kill()
        proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one start-up run instead of three")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before reading RSS")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    # The fake servers log a reset connection when `tocns run` is stopped mid long-poll: noise.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    workdir = Path(tempfile.mkdtemp(prefix="tocns-footprint-"))
    try:
        template = make_template(workdir)
        at_ready, settled, channels = await idle_rss(workdir, template, args.settle)
        runs = [await first_answer(workdir, template, i) for i in range(1 if args.quick else 3)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    start = median(runs)
    imports_ms, heavy = import_profile()
    floor = python_floor()
    print(
        f"idle RSS (channels: {channels}) = {settled:.1f} MB after {args.settle:g} s "
        f"({at_ready:.1f} MB at ready; bare python {floor:.1f} MB) -> goal < {GOAL_RSS:g} MB: "
        f"{verdict(settled < GOAL_RSS)}"
    )
    print(
        f"start-up to first answer (SQLite, Telegram polling) = {start:.2f} s median of "
        f"{', '.join(f'{r:.2f}' for r in runs)} -> goal < {GOAL_START:g} s: {verdict(start < GOAL_START)}"
    )
    print(f"imports on the run path: {imports_ms:.0f} ms self time; heaviest packages:")
    for ms, pkg in heavy:
        print(f"  {ms:7.0f} ms  {pkg}")
    if not args.no_write:
        append_section(
            "Footprint",
            "Idle `tocns run` with Telegram polling, Zalo Bot polling and Zalo OA webhook configured "
            "(fakes from tests/fakes), SQLite; RSS = VmRSS. Start-up = spawn → the fake Bot API records "
            "the sendMessage answering a /start queued before the spawn (fresh migrated + seeded DB).",
            [
                "| figure | value | goal | |",
                "|---|---|---|---|",
                f"| idle RSS after {args.settle:g} s ({channels}) | {settled:.1f} MB | < {GOAL_RSS:g} MB "
                f"| {verdict(settled < GOAL_RSS)} |",
                f"| RSS at the ready line | {at_ready:.1f} MB | | |",
                f"| bare `python` RSS, for scale | {floor:.1f} MB | | |",
                f"| start-up → first answer (median of {len(runs)}) | {start:.2f} s | < {GOAL_START:g} s "
                f"| {verdict(start < GOAL_START)} |",
                "",
                f"Import self-time on the run path: {imports_ms:.0f} ms; heaviest top-level packages: "
                + ", ".join(f"{pkg} {ms:.0f} ms" for ms, pkg in heavy[:8])
                + ".",
            ],
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
