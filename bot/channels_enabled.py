"""The list of channel builders and background services `tocns run` knows about.

Each builder looks at the settings and returns a channel, or None when it is not configured.
"""

from __future__ import annotations

from typing import Any


def register(builders: list[Any], background: list[Any]) -> None:
    """Add every channel adapter and background service (imported lazily: only `run` needs them)."""
    from bot.telegram import build_channel as telegram_channel
    from bot.zalo_bot import build_channel as zalo_bot_channel
    from bot.zalo_oa import build_channel as zalo_oa_channel

    builders.extend([telegram_channel, zalo_bot_channel, zalo_oa_channel])
    from bot.scheduler import start as start_scheduler

    background.append(start_scheduler)
