"""Issue 14, Low items: logs redacted at every level; Zalo OA tokens encrypted at rest; SQLite
files and backups 0600; pg_dump's password never on its command line; `tocns restore` checks
the schema revision, keeps a safety copy and refuses while a bot holds the database; forged invite
limits; bidi overrides and zero-width characters stripped; processed updates pruned by age."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import backup as backup_mod
from bot import logs
from bot.config import LogSettings
from bot.kernel import App
from bot.leader import Leadership
from bot.scheduler import prune_updates
from db.base import utcnow
from db.models import Invite, ProcessedUpdate
from tests.support import ChatDriver, demo_driver

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "webhook-secret-0f3a9"


def tocns(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "TOCNS_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.umask(0o022),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- logs ------------------------------------------------------------------------------------


def test_debug_logs_carry_no_token_secret_or_message_text() -> None:
    """TOCNS_LOG_LEVEL=DEBUG: the lines PTB, httpx and aiohttp write, through our handler."""
    out = io.StringIO()
    env = {"TOCNS_TELEGRAM_TOKEN": TOKEN, "TOCNS_TELEGRAM_WEBHOOK_SECRET": SECRET}
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.setup(LogSettings(level="DEBUG"), out, env)
    try:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger("httpx").info(
            f'HTTP Request: POST https://api.telegram.org/bot{TOKEN}/getUpdates "200 OK"'
        )
        logging.getLogger("telegram.ext.Updater").debug(
            "Processing update %s",
            {"message": {"text": "Số tôi 0905 123 456, CCCD 046201001234", "from": {"first_name": "Lan"}}},
        )
        logging.getLogger("aiohttp.access").info(
            f"POST /telegram/webhook X-Telegram-Bot-Api-Secret-Token={SECRET}"
        )
        logging.getLogger("tocns").debug('sent {"text": "Chào chị Lan, hồ sơ của chị đã xong"}')
        try:
            raise RuntimeError(f"request to https://api.telegram.org/bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            logging.getLogger("tocns").exception("boom")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
    written = out.getvalue()
    for leaked in (TOKEN, "AAHdqTcvCH1vGWJx", SECRET, "0905 123 456", "046201001234", "Lan", "hồ sơ của chị"):
        assert leaked not in written, (leaked, written)
    assert written.count("\n") >= 5


# --- secrets and files at rest ---------------------------------------------------------------


async def test_zalo_oa_tokens_are_encrypted_at_rest(app: App) -> None:
    from bot.channels.zalo.oa import load_config
    from db.repositories import zalo as repo

    cfg = load_config(
        app,
        {
            "TOCNS_ZALO_OA_APP_ID": "app1",
            "TOCNS_ZALO_OA_SECRET_KEY": "s3",
            "TOCNS_ZALO_OA_OA_SECRET_KEY": "o",
        },
    )
    assert cfg is not None
    async with app.sessions() as s, s.begin():
        await repo.save_tokens(s, "app1", "ACCESS-abc123", "REFRESH-def456", utcnow() + timedelta(hours=1))
    async with app.engine.connect() as conn:
        raw = (await conn.execute(text("SELECT access_token, refresh_token FROM zalo_oa_tokens"))).one()
    assert all(v.startswith("fernet:") for v in raw)
    assert "ACCESS-abc123" not in "".join(raw) and "REFRESH-def456" not in "".join(raw)
    async with app.sessions() as s:
        row = await repo.get_tokens(s, "app1")
        assert row is not None and row.access_token == "ACCESS-abc123"


def test_sqlite_database_and_backup_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "tocns.db"
    done = tocns("db", "upgrade", db=db)
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600
    out = tmp_path / "backups" / "b.db"
    assert tocns("backup", "--out", str(out), db=db).returncode == 0
    assert mode(out) == 0o600


def test_pg_dump_gets_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "pg_dump"
    record = tmp_path / "record"
    fake.write_text(
        f'#!/bin/sh\necho "$@" > {record}\necho "PGPASSWORD=$PGPASSWORD" >> {record}\ntouch "$3"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    target = tmp_path / "x.dump"
    backup_mod.backup("postgresql+asyncpg://tocns:Sup3rS3cret@db.example:5432/tocns", target)
    argv, env_line = record.read_text().splitlines()
    assert "Sup3rS3cret" not in argv and "db.example" in argv
    assert env_line == "PGPASSWORD=Sup3rS3cret"
    assert mode(target) == 0o600


def test_restore_checks_revision_keeps_a_copy_and_refuses_foreign_files(tmp_path: Path) -> None:
    db = tmp_path / "tocns.db"
    assert tocns("db", "upgrade", db=db).returncode == 0
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, display_name TEXT)")
    done = tocns("restore", str(foreign), "--yes", db=db)
    assert done.returncode == 2 and "không phải bản sao lưu của tocns" in done.stderr
    old = tmp_path / "old.db"
    assert tocns("backup", "--out", str(old), db=db).returncode == 0
    with sqlite3.connect(old) as conn:
        conn.execute(
            "UPDATE alembic_version SET version_num = '0001' "
            "WHERE rowid = (SELECT min(rowid) FROM alembic_version)"
        )
    done = tocns("restore", str(old), "--yes", db=db)
    assert done.returncode == 2 and "phiên bản lược đồ" in done.stderr
    good = tmp_path / "good.db"
    assert tocns("backup", "--out", str(good), db=db).returncode == 0
    done = tocns("restore", str(good), "--yes", db=db)
    assert done.returncode == 0, done.stderr
    copies = list(tmp_path.glob("tocns.db.before-restore-*"))
    assert copies and mode(copies[0]) == 0o600


async def test_restore_refuses_while_a_bot_holds_the_database(app: App, tmp_path: Path) -> None:
    url = app.settings.database.url
    if not url.startswith("sqlite"):
        pytest.skip("restore is SQLite only")
    db = Path(url.split("///", 1)[1])
    leader = Leadership(app.sessions, "scheduler", _nothing, _nothing, ttl=60)
    assert await leader.tick()  # what `tocns run` does while alive
    good = tmp_path / "good.db"
    await asyncio.to_thread(backup_mod.backup, url, good)
    with pytest.raises(backup_mod.BackupError, match="lease_held"):
        await asyncio.to_thread(backup_mod.restore_sqlite, url, good)
    assert await asyncio.to_thread(db.exists)


async def _nothing() -> None:
    return None


# --- chat-side items -------------------------------------------------------------------------


async def test_forged_invite_limits_are_refused(seeded_app: App) -> None:
    totruong = demo_driver(seeded_app, "totruong")
    await totruong.send("/moi")
    await totruong.tap("thành viên")
    said = await totruong.press("moi:n:500:365")
    assert "500" not in said.text or "từ 1 đến" in said.text
    async with seeded_app.sessions() as s:
        before = len((await s.execute(select(Invite))).scalars().all())
    said = await totruong.press("moi:n:500:365")
    async with seeded_app.sessions() as s:
        rows = (await s.execute(select(Invite))).scalars().all()
    assert len(rows) == before and not [i for i in rows if i.max_uses == 500]
    said = await totruong.press("moi:n:30:30")  # a real preset still works
    assert "30" in said.text


async def test_bidi_overrides_and_zero_width_are_stripped(seeded_app: App) -> None:
    sneaky = ChatDriver(seeded_app, "tg-bidi", "Quản\u202etrị\u200b viên\u2066")
    said = await sneaky.send("/toi")
    assert "\u202e" not in said.text and "\u200b" not in said.text and "\u2066" not in said.text
    assert "Quảntrị viên" in said.text
    family = "👨\u200d👩\u200d👧"
    echoed = ChatDriver(seeded_app, "tg-emoji", f"Nhà {family}")
    assert family in (await echoed.send("/toi")).text


async def test_processed_updates_pruned_by_age_keeping_the_window(app: App) -> None:
    user = ChatDriver(app, "tg-prune", "Tỉa")
    await user.send("/start", update_key="telegram:old-1")
    assert await prune_updates(app, utcnow() + timedelta(days=1)) == 0
    assert (await user.send("/start", update_key="telegram:old-1")).duplicate
    assert await prune_updates(app, utcnow() + timedelta(days=8)) >= 1
    async with app.sessions() as s:
        assert not (
            await s.execute(select(ProcessedUpdate).where(ProcessedUpdate.key == "telegram:old-1"))
        ).first()


def test_restore_refuses_while_the_console_bot_runs(tmp_path: Path) -> None:
    """`./start.sh`'s bot (console channel, no scheduler lease) was running, and `tocns restore --yes`
    replaced its database under it: «Restored», the dashboard's sign-in links dead. The running bot
    holds a lock on `<database>.running`; once it has stopped, the restore goes through."""
    db = tmp_path / "tocns.db"
    assert tocns("demo", "seed", db=db).returncode == 0
    good = tmp_path / "good.db"
    assert tocns("backup", "--out", str(good), db=db).returncode == 0
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "TOCNS_WEB_PORT": "0",
        "TOCNS_LOG_LEVEL": "WARNING",
    }
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        stdin=subprocess.PIPE,  # the console waits for a line that never comes
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
    )
    try:
        assert bot.stdout is not None
        for _ in range(600):  # the console's greeting: it runs
            if "tocns —" in (bot.stdout.readline() or ""):
                break
        done = tocns("restore", str(good), "--yes", db=db)
        assert done.returncode == 2 and "hãy dừng nó trước" in done.stderr, done
        assert not list(tmp_path.glob("tocns.db.before-restore-*"))  # nothing touched
    finally:
        assert bot.stdin is not None
        bot.stdin.close()  # Ctrl-D: the console ends
        bot.wait(60)
    done = tocns("restore", str(good), "--yes", db=db)
    assert done.returncode == 0, done.stderr
