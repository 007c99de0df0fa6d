"""The list of channel builders and background services `tocns run` knows about.

Each builder looks at the settings and returns a channel, or None when it is not configured.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.leader import Leadership

SCHEDULER_LEASE = "scheduler"
SCHEDULER_LEASE_TTL = 30.0


def register(builders: list[Any], background: list[Any]) -> None:
    """Add every channel adapter and background service (imported lazily: only `run` needs them)."""
    from bot.telegram import build_channel as telegram_channel
    from bot.zalo_bot import build_channel as zalo_bot_channel
    from bot.zalo_oa import build_channel as zalo_oa_channel

    builders.extend([telegram_channel, zalo_bot_channel, zalo_oa_channel])
    background.append(start_scheduler_when_leader)


async def start_scheduler_when_leader(app: Any) -> Callable[[], Awaitable[None]]:
    """Every worker competes for the scheduler lease; only the holder runs the jobs."""
    from bot.scheduler import start

    stopper: Callable[[], Awaitable[None]] | None = None

    async def elected() -> None:
        nonlocal stopper
        stopper = await start(app)

    async def deposed() -> None:
        nonlocal stopper
        if stopper is not None:
            await stopper()
            stopper = None

    lead = Leadership(app.sessions, SCHEDULER_LEASE, elected, deposed, ttl=SCHEDULER_LEASE_TTL)
    lead.start()
    return lead.stop
