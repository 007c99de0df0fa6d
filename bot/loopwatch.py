"""How long the event loop is blocked: a task that asks to wake every INTERVAL and notes how late
it woke (wall) and how much CPU the loop's thread burnt meanwhile (the part our own code is to blame
for; on a busy machine the wall figure also holds the time the OS gave the core to others).

`tocns run` starts one; it logs a warning for a block over WARN_MS and, at shutdown, the longest
ones (`event loop: longest block …`), which bench/telegram_roundtrip.py reads. The aim: < 50 ms.
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger("tocns.loop")
INTERVAL = 0.01
WARN_MS = 100.0


class LoopWatch:
    def __init__(self) -> None:
        self.longest_ms = 0.0  # wall: how late the loop woke us
        self.longest_cpu_ms = 0.0  # the loop thread's CPU time over that stretch
        self.over_50ms = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            t0, c0 = loop.time(), time.thread_time()
            await asyncio.sleep(INTERVAL)
            late = (loop.time() - t0 - INTERVAL) * 1000
            cpu = (time.thread_time() - c0) * 1000
            if late > 50:
                self.over_50ms += 1
            if late > self.longest_ms:
                self.longest_ms = late
            if cpu > self.longest_cpu_ms:
                self.longest_cpu_ms = cpu
            if late > WARN_MS or cpu > 50:
                log.warning("event loop blocked %.0f ms (loop thread CPU %.0f ms)", late, cpu)

    def stop(self) -> None:
        self._stop.set()

    def summary(self) -> str:
        return (
            f"event loop: longest block {self.longest_ms:.0f} ms wall, {self.longest_cpu_ms:.0f} ms CPU; "
            f"{self.over_50ms} blocks over 50 ms"
        )
