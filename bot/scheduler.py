"""APScheduler jobs. Stub until the KPI feature lands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


async def start(app: Any) -> Callable[[], Awaitable[None]]:
    async def stop() -> None:
        return None

    return stop
