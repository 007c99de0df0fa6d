"""Telegram channel (python-telegram-bot 22). Stub until the adapter lands."""

from __future__ import annotations

from typing import Any


def build_channel(app: Any, webapp: Any) -> Any:
    return None
