"""E2E: `tocns jobs run weekly_digest` (the same code path as the scheduler) puts the digest in the
outbox, and the running bot's dispatcher delivers it to a leader on Telegram: the text with its
Excel button, then the chart as a photo. Running the job again sends nothing new."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from tests.e2e.conftest import TOCNS

pytestmark = pytest.mark.e2e


def cli(bot: object, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOCNS), *args],
        cwd=bot.workdir,  # type: ignore[attr-defined]
        env=bot.env,  # type: ignore[attr-defined]
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_weekly_digest_reaches_a_leader(start_bot, tg_user) -> None:  # type: ignore[no-untyped-def]
    bot = await start_bot(seed=True)
    leader = tg_user(bot, "Lãnh đạo", user_id=46001)
    await leader.send_command("/start")
    await leader.wait_for_reply()
    granted = cli(
        bot,
        "users",
        "grant",
        "--channel",
        "telegram",
        "--user-id",
        "46001",
        "--role",
        "leader",
        "--unit",
        "19786",
        "--name",
        "Lãnh đạo phường",
    )
    assert granted.returncode == 0, granted.stderr

    ran = await asyncio.to_thread(cli, bot, "jobs", "run", "weekly_digest")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    digest = await leader.wait_for_reply(timeout=20, contains="Phường Thuận Hóa")
    assert digest.buttons, "the digest offers the Excel table"
    for _ in range(100):
        photos = [m for m in await leader.messages() if m.raw.get("photo")]
        if photos:
            break
        await asyncio.sleep(0.2)
    assert photos, "the chart arrives as a photo"

    again = await asyncio.to_thread(cli, bot, "jobs", "run", "weekly_digest")
    assert again.returncode == 0
    before = len(await leader.messages())
    await asyncio.sleep(3)
    assert len(await leader.messages()) == before  # exactly once
