"""The list of channel builders and background services `tocns run` knows about."""

from __future__ import annotations

from typing import Any


def register(builders: list[Any], background: list[Any]) -> None:
    """Add every channel adapter and background service; each decides if it is configured."""
    # Channels add themselves here: Telegram, Zalo Bot, Zalo OA. Background: the scheduler.
    del builders, background
