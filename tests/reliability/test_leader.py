"""Exactly one active scheduler: two worker processes on one database, one leader; when it dies,
the other takes over after the lease expires."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.kernel import App
from bot.leader import Leadership
from tests.support import make_settings

ROOT = Path(__file__).resolve().parent.parent.parent

WORKER = """
import asyncio, sys
from bot.assemble import build
from bot.leader import Leadership
from tests.support import make_settings

async def main(url, ttl):
    app = build(make_settings(url))
    async def elected():
        print("LEADER", flush=True)
    async def deposed():
        print("DEPOSED", flush=True)
    lead = Leadership(app.sessions, "scheduler", elected, deposed, ttl=ttl)
    lead.start()
    print("READY", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


def spawn(url: str, ttl: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(ttl)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def read_until(proc: subprocess.Popen[str], word: str, timeout: float) -> bool:
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            line = proc.stdout.readline()
            if word in line:
                return True
            if not line:
                return False
    return False


async def test_two_processes_one_leader_and_failover(db_url: str) -> None:
    ttl = 1.5
    first = spawn(db_url, ttl)
    try:
        assert read_until(first, "LEADER", 30)
        second = spawn(db_url, ttl)
        try:
            assert read_until(second, "READY", 30)
            assert not read_until(second, "LEADER", ttl * 2)  # the lease is held
            first.send_signal(signal.SIGKILL)  # the leader dies without releasing
            first.wait()
            assert read_until(second, "LEADER", ttl * 6)
        finally:
            second.kill()
            second.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


async def test_in_process_handover(app: App) -> None:
    events: list[str] = []

    def recorder(tag: str) -> object:
        async def cb() -> None:
            events.append(tag)

        return cb

    a = Leadership(app.sessions, "s", recorder("a+"), recorder("a-"), ttl=0.5, holder="a")  # type: ignore[arg-type]
    b = Leadership(app.sessions, "s", recorder("b+"), recorder("b-"), ttl=0.5, holder="b")  # type: ignore[arg-type]
    assert await a.tick() and not await b.tick()
    await a.stop()  # clean release: b takes over at once
    assert await b.tick()
    assert events == ["a+", "a-", "b+"]
    await asyncio.sleep(0)
    _ = make_settings
