"""What a newcomer reviewer met at the `tocns` command line, each through the real command in a child
process: text with square brackets printed whole (rich took it for markup); an unreachable database
is one line for `db upgrade` / `db current` too; backup and connection errors in the operator's
language, with the system's own words kept; «n» at the restore question says so; a Tuesday try of
`jobs run report_reminder` does not use up Friday's reminder; `invites list` readable at 80
columns; the console never creates demo people in a real database, and a granted console account
can talk to the bot."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kernel import ROOT
from tests.support import run_cli

UNITS = (
    "code,name,kind,parent_code\n99,Tỉnh Thử,province,\n99001,Xã [cũ] Thử,commune,99\n"
    "99002,Xã Hai,commune,99\n99001-1,Tổ CNSCĐ Thôn Một,team,99001\n"
)


def tocns(*args: str, db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(f"sqlite+aiosqlite:///{db}", *args, **env)


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    said = done.stderr.strip()
    assert said.count("\n") == 0 and "Traceback" not in said, said
    return said


def real_database(tmp_path: Path) -> Path:
    """A database with an operator's own units and a console officer (not the demo's)."""
    db = tmp_path / "real.db"
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    assert tocns("units", "import-csv", str(units), db=db).returncode == 0
    grant = ("users", "grant", "--channel", "console", "--user-id", "canbo-test", "--role", "officer")
    done = tocns(*grant, "--unit", "99001", "--name", "Cán bộ Thử", db=db)
    assert done.returncode == 0, done.stderr
    return db


def accounts(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT external_id FROM channel_accounts"))


# --- 1. brackets are text, not markup ------------------------------------------------------------


def test_text_with_square_brackets_is_printed_whole(tmp_path: Path) -> None:
    hidden = tmp_path / "shim" / "vietnam_provinces"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("not installed (test)")\n')
    path = os.pathsep.join([str(tmp_path / "shim"), str(ROOT)])
    said = one_line(tocns("units", "import", "--province", "46", db=tmp_path / "t.db", PYTHONPATH=path), 2)
    assert 'Cài bằng lệnh: pip install -e ".[provinces]"' in said, said
    db = real_database(tmp_path)
    listed = tocns("units", "list", db=db, COLUMNS="200")
    assert "Xã [cũ] Thử" in listed.stdout, listed.stdout  # a name from the operator's CSV


# --- 2. an unreachable database is one line for db upgrade / db current too ---------------------


def _postgres_up() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


@pytest.mark.parametrize("command", [("db", "upgrade"), ("db", "current")])
def test_db_commands_on_an_unreachable_database_say_one_line(command: tuple[str, ...]) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    urls = [f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/tocns"]
    if _postgres_up():
        urls.append("postgresql+asyncpg://postgres@127.0.0.1:5432/no_such_db")
    for url in urls:
        said = one_line(run_cli(url, *command), 2)
        assert said.startswith("tocns: database.url: không kết nối được tới cơ sở dữ liệu"), said
        assert url.split("@")[1] in said and "TOCNS_DATABASE_URL" in said, said
        english = one_line(run_cli(url, "--lang", "en", *command), 2)
        assert "database.url: cannot connect to the database" in english, english
    if len(urls) == 2:
        assert 'database "no_such_db" does not exist' in said  # the server's own words, kept


# --- 3. backup errors in the operator's language; «n» at the restore question -------------------


def test_backup_and_restore_errors_are_vietnamese_with_the_system_words_kept(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert tocns("db", "upgrade", db=db).returncode == 0
    foreign = tmp_path / "notes.txt"
    foreign.write_text("không phải cơ sở dữ liệu\n" * 200)
    said = one_line(tocns("restore", str(foreign), "--yes", db=db), 2)
    assert f"{foreign} không phải bản sao lưu của tocns (file is not a database)" in said, said
    english = one_line(tocns("--lang", "en", "restore", str(foreign), "--yes", db=db), 2)
    assert f"{foreign} is not a tocns backup (file is not a database)" in english, english
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    said = one_line(tocns("backup", "--out", str(blocked / "sub" / "b.db"), db=db), 2)
    assert "không tạo được thư mục" in said and "Not a directory" in said, said
    pg = run_cli("postgresql+asyncpg://postgres@127.0.0.1:5432/tocns", "restore", str(foreign), "--yes")
    said = one_line(pg, 2)
    assert "với PostgreSQL, khôi phục bằng pg_restore --clean" in said, said


def test_no_at_the_restore_question_says_nothing_was_restored(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert tocns("db", "upgrade", db=db).returncode == 0
    copy = tmp_path / "copy.db"
    assert tocns("backup", "--out", str(copy), db=db).returncode == 0
    env = {**os.environ, "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "TOCNS_LOG_LEVEL": "WARNING"}
    env.pop("TOCNS_LOCALE", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "restore", str(copy)],
        input="n\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Đã huỷ, không khôi phục gì." in done.stderr, done.stderr
    assert not list(tmp_path.glob("t.db.before-restore-*"))  # nothing was touched


# --- 4. a Tuesday try of the report reminder leaves Friday's reminder --------------------------


def at(when: str, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`tocns ARGS` with the clock at `when` (local time in Huế, libfaketime)."""
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "TOCNS_LOG_LEVEL": "WARNING",
        "TZ": "Asia/Ho_Chi_Minh",
        "COLUMNS": "200",
    }
    env.pop("TOCNS_LOCALE", None)
    cmd = ["faketime", when, sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)


def reminders(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT idempotency_key, payload FROM outbox WHERE kind = 'report_reminder'")
        return [(key, json.loads(payload)["text"]) for key, payload in rows]


@pytest.mark.skipif(shutil.which("faketime") is None, reason="libfaketime not installed")
def test_a_tuesday_report_reminder_by_hand_leaves_fridays_reminder(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    assert at("2026-11-23 08:00:00", db, "units", "import-csv", str(units)).returncode == 0
    grant = ("users", "grant", "--channel", "telegram", "--user-id", "501", "--role", "officer")
    assert at("2026-11-23 08:05:00", db, *grant, "--unit", "99002").returncode == 0
    # Tuesday of week 48: what the README invites operators to try.
    tried = at("2026-11-24 10:00:00", db, "jobs", "run", "report_reminder")
    said = one_line(tried, 2)
    assert "lời nhắc báo cáo tuần 2026-W48 được lên lịch lúc 15:00 27/11/2026" in said, said
    assert "--partial" in said and reminders(db) == []
    # --partial: an early reminder, labelled, with keys of its own.
    early = at("2026-11-24 10:05:00", db, "jobs", "run", "report_reminder", "--partial")
    assert early.returncode == 0 and "bản xem trước" in early.stdout, (early.stdout, early.stderr)
    ((key, text),) = reminders(db)
    assert key.startswith("preview:") and text.startswith("⚠️ Nhắc sớm (ngày 24/11/2026)"), (key, text)
    # Friday 15:00, the scheduled time: Xã Hai has still not reported and is reminded.
    friday = at("2026-11-27 15:00:00", db, "jobs", "run", "report_reminder")
    assert friday.returncode == 0 and "kỳ 2026-W48, đã xếp 1 tin nhắn" in friday.stdout, friday.stdout
    official = [(k, t) for k, t in reminders(db) if not k.startswith("preview:")]
    assert len(official) == 1 and "Nhắc sớm" not in official[0][1] and "Xã Hai" in official[0][1]


# --- 5. invites list at 80 columns ---------------------------------------------------------------


def test_invites_list_is_readable_at_80_columns(tmp_path: Path) -> None:
    db = real_database(tmp_path)
    created = tocns("invites", "create", "--unit", "99001", "--role", "officer", "--days", "30", db=db)
    assert created.returncode == 0, created.stderr
    expires = created.stdout.split("hết hạn ")[1][:10]  # YYYY-MM-DD
    done = tocns("invites", "create", "--unit", "99001-1", "--role", "team_leader", db=db)
    assert done.returncode == 0, done.stderr
    more = ("invites", "create", "--unit", "99001-1", "--role", "volunteer", "--approval")
    assert tocns(*more, db=db).returncode == 0
    listed = tocns("invites", "list", db=db, COLUMNS="80")
    assert listed.returncode == 0, listed.stderr
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    assert "…" not in listed.stdout, listed.stdout
    assert expires in listed.stdout and "officer" in listed.stdout and "team_leader" in listed.stdout
    assert "[cũ]" in listed.stdout and "cần" in listed.stdout, listed.stdout  # wrapped, not cut


# --- 6. the console on a real database -----------------------------------------------------------


def test_the_console_creates_no_demo_people_in_a_real_database(tmp_path: Path) -> None:
    db = real_database(tmp_path)
    before = accounts(db)
    for args in (("chat", "--as", "canbo"), ("run",), ("run", "--seed-demo")):
        done = tocns(*args, db=db, TOCNS_WEB_PORT="0")
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "không mở console với người dùng mẫu" in done.stderr, done.stderr
        assert "tocns chat --as" in done.stderr and "Traceback" not in done.stderr
        assert "tocns —" not in done.stdout  # no console greeting
    assert accounts(db) == before  # no demo-dan, no demo-canbo
    unknown = one_line(tocns("chat", "--as", "ai-do", db=db), 2)
    assert "không có tài khoản console «ai-do»" in unknown and "--channel console" in unknown
    # The console account the operator granted talks to the bot as the officer it is.
    script = tmp_path / "s.txt"
    script.write_text("/help\n#as canbo\n", encoding="utf-8")
    talked = tocns("chat", "--as", "canbo-test", "--script", str(script), db=db)
    assert talked.returncode == 0, talked.stderr
    assert "/baocao" in talked.stdout, talked.stdout  # an officer's command
    assert "không mở console với người dùng mẫu" in talked.stdout  # `#as canbo` refused in the script
    assert accounts(db) == before


def test_the_demo_console_still_works_on_the_demo_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert tocns("demo", "seed", db=db).returncode == 0
    script = tmp_path / "s.txt"
    script.write_text("/help\n", encoding="utf-8")
    talked = tocns("chat", "--as", "canbo", "--script", str(script), db=db)
    assert talked.returncode == 0 and "/baocao" in talked.stdout, talked.stderr
