"""Flooding: one user sending ~100 messages/s gets one polite notice and is then ignored for the
window; other users keep being answered. Their latency is measured and printed (never asserted)."""

from __future__ import annotations

import asyncio
import statistics
import time

from bot.kernel import App
from tests.support import ChatDriver


async def timed(user: ChatDriver, text: str) -> float:
    start = time.perf_counter()
    said = await user.send(text)
    assert said.text  # always answered
    return (time.perf_counter() - start) * 1000


async def test_flooder_is_throttled_others_are_served(app: App) -> None:
    calm = ChatDriver(app, "7001", "Người dùng bình thường")
    flooder = ChatDriver(app, "7002", "Người gửi dồn dập")
    normal = [await timed(calm, "/help") for _ in range(5)]

    async def flood() -> list[str]:
        texts = []
        for _ in range(100):
            texts.append((await flooder.send("/help")).text)
            await asyncio.sleep(0.01)  # ~100 messages/s
        return texts

    flood_task = asyncio.create_task(flood())
    during = []
    while not flood_task.done():
        during.append(await timed(calm, "/help"))
        await asyncio.sleep(0.25)
    texts = await flood_task
    notices = [t for t in texts if "hơi nhanh" in t]
    assert len(notices) == 1
    answered = [t for t in texts if t and "hơi nhanh" not in t]
    assert len(answered) == app.settings.app.flood_limit_per_10s
    p50_normal, p50_during = statistics.median(normal), statistics.median(during)
    print(
        f"\nflood: calm user p50 {p50_normal:.1f} ms normally, {p50_during:.1f} ms during the flood "
        f"({p50_during / p50_normal:.2f}x; goal ≤ 2x); "
        f"flooder answered {len(answered)}, notices {len(notices)}"
    )
