"""What every CLI command shares: build the app, run one coroutine, fail with one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console

from bot.assemble import build, prepare_database
from bot.config import Settings, load_settings
from bot.kernel import ROOT, App
from bot.logs import setup as setup_logging

console = Console()
err = Console(stderr=True)
T = TypeVar("T")
DEMO_UNITS_CSV = ROOT / "data" / "demo" / "units_hue.csv"


class Fail(Exception):
    """A user-facing CLI error: printed as one line, exit code 2."""


def settings() -> Settings:
    return load_settings()


def run_async(fn: Callable[[App], Awaitable[T]], *, migrate: bool = True, log: bool = True) -> T:
    """Build the app, prepare the database, run `fn`, dispose — for every command."""
    cfg = settings()
    if log:
        setup_logging(cfg.log)

    async def main() -> T:
        app = build(cfg)
        try:
            if migrate:
                await prepare_database(app)
            return await fn(app)
        finally:
            await app.close()

    return asyncio.run(main())
