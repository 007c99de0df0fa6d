"""What an operator met at the command line (review of the `tocns` CLI): mistakes are refused in
one line and one language with exit 2 before anything is written; the world outside failing (a
busy port, Zalo out of reach, a database folder that is not there) is one line, never a traceback;
a rejected targets file is told in the dashboard's sentences."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.kernel import App
from tests.support import run_cli


def tocns(*args: str, db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(f"sqlite+aiosqlite:///{db}", *args, **env)


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The process ended with `code` and said one line on stderr, without a traceback."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    said = done.stderr.strip()
    assert said.count("\n") == 0, said
    assert "Traceback" not in said and "Exception in thread" not in said, said
    return said


def accounts(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT channel, external_id FROM channel_accounts"))


@pytest.fixture
def free_port() -> Iterator[int]:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    yield port


CHANNELS = "telegram, zalo_bot, zalo_oa, console"


@pytest.mark.parametrize("channel", ["zalo", "Telegram", "fax"])
def test_grant_to_a_channel_no_account_can_be_on_is_refused(tmp_path: Path, channel: str) -> None:
    db = tmp_path / "t.db"
    assert tocns("db", "upgrade", db=db).returncode == 0
    args = ("users", "grant", "--channel", channel, "--user-id", "555", "--role", "admin")
    said = one_line(tocns(*args, db=db), 2)
    assert f"không có kênh «{channel}»" in said and CHANNELS in said, said
    english = one_line(tocns("--lang", "en", *args, db=db), 2)
    assert f"unknown channel '{channel}'" in english and CHANNELS in english and "kênh" not in english
    assert accounts(db) == []  # nobody was granted anything
    revoke = ("users", "revoke", "--channel", channel, "--user-id", "555", "--role", "admin")
    assert f"không có kênh «{channel}»" in one_line(tocns(*revoke, db=db), 2)
    link = ("web", "link", "--channel", channel, "--user-id", "555")
    assert f"không có kênh «{channel}»" in one_line(tocns(*link, db=db), 2)


def test_revoking_a_unit_role_without_a_unit_asks_for_the_unit(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    args = ("users", "revoke", "--channel", "telegram", "--user-id", "555", "--role", "officer")
    said = one_line(tocns(*args, db=db), 2)
    assert "Vai trò officer cần gắn với một đơn vị (--unit MÃ)" in said and "—" not in said, said
    assert "(--unit CODE)" in one_line(tocns("--lang", "en", *args, db=db), 2)


def test_an_invite_for_a_role_no_invite_gives_names_the_roles_it_can(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    args = ("invites", "create", "--unit", "19786-1", "--role", "citizen")
    said = one_line(tocns(*args, db=db), 2)
    assert "mã mời không cấp được vai trò «citizen»" in said, said
    assert "volunteer, team_leader, officer, leader, admin" in said
    assert "cannot give the role 'citizen'" in one_line(tocns("--lang", "en", *args, db=db), 2)


async def test_revoking_a_revoked_invite_says_it_already_was(seeded_app: App) -> None:
    url = seeded_app.settings.database.url
    made = run_cli(url, "invites", "create", "--unit", "19786-1", "--role", "volunteer")
    assert made.returncode == 0, made.stderr
    code = made.stdout.split("Mã mời:")[1].split()[0]
    first = run_cli(url, "invites", "revoke", code)
    assert first.returncode == 0 and f"Đã thu hồi mã mời {code}." in first.stdout, first
    again = run_cli(url, "invites", "revoke", code)
    assert again.returncode == 0, again.stderr
    assert f"Mã mời {code} đã bị thu hồi từ trước" in again.stdout and "Đã thu hồi" not in again.stdout
    english = run_cli(url, "--lang", "en", "invites", "revoke", code)
    assert f"Invite code {code} was already revoked" in english.stdout


def test_backup_into_a_folder_writes_a_dated_file_there(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert tocns("db", "upgrade", db=db).returncode == 0
    existing = tmp_path / "existing"
    existing.mkdir()
    for out, folder in (
        (f"{existing}/", existing),
        (str(existing), existing),
        (f"{tmp_path}/new/", tmp_path / "new"),
    ):
        done = tocns("backup", "--out", out, db=db)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        written = list(folder.glob("tocns-*.db"))
        assert written and all(f.stat().st_size > 0 for f in written), (out, done.stdout)
        for f in written:
            f.unlink()


def test_restore_of_a_missing_file_is_refused_before_asking(tmp_path: Path) -> None:
    said = one_line(tocns("restore", str(tmp_path / "nonexist.db"), db=tmp_path / "t.db"), 2)
    assert "không tìm thấy tệp" in said and "Replace" not in said, said


def test_webhook_port_in_use_names_the_port_and_the_setting(tmp_path: Path) -> None:
    env = {
        "TOCNS_TELEGRAM_TOKEN": "123:abc",
        "TOCNS_TELEGRAM_MODE": "webhook",
        "TOCNS_WEBHOOK_PUBLIC_URL": "https://example.org",
        "TOCNS_TELEGRAM_WEBHOOK_SECRET": "sekrit",
        "TOCNS_WEB_HOST": "127.0.0.1",
    }
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        said = one_line(tocns("run", db=tmp_path / "t.db", TOCNS_WEB_PORT=port, **env), 2)
        english = one_line(tocns("--lang", "en", "run", db=tmp_path / "t.db", TOCNS_WEB_PORT=port, **env), 2)
    assert f"127.0.0.1:{port}" in said and "cổng đang được dùng" in said and "TOCNS_WEB_PORT" in said, said
    assert "already in use" in english and "TOCNS_WEB_PORT" in english


def test_zalo_out_of_reach_is_one_line(tmp_path: Path, free_port: int) -> None:
    env = {
        "TOCNS_ZALO_OA_APP_ID": "1",
        "TOCNS_ZALO_OA_SECRET_KEY": "app-secret",
        "TOCNS_ZALO_OA_OA_SECRET_KEY": "oa-secret",
        "TOCNS_ZALO_OA_OAUTH_URL": f"http://127.0.0.1:{free_port}",
        "TOCNS_ZALO_OA_CODE_VERIFIER": "v" * 50,
    }
    said = one_line(tocns("zalo", "oa-login", "--code", "abc", db=tmp_path / "t.db", **env), 1)
    assert f"không kết nối được tới Zalo tại http://127.0.0.1:{free_port}" in said, said
    assert "kiểm tra mạng" in said


def test_database_in_a_missing_folder_is_one_line_without_thread_traceback(tmp_path: Path) -> None:
    done = run_cli(f"sqlite+aiosqlite:///{tmp_path}/nonexistent/dir/x.db", "status")
    said = one_line(done, 2)
    assert "database.url: không kết nối được tới cơ sở dữ liệu" in said and "sqlalche.me" not in said, said


def test_rejected_targets_are_told_in_sentences_and_the_documented_column_order(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    bad = tmp_path / "tg2.csv"
    bad.write_text("unit_code,indicator,period,target\n19786,online_rate,2026-Q4,170\nXX,foo,2026-Q9,a\n")
    done = tocns("targets", "import", str(bad), db=db)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "Dòng 3: Không tìm thấy đơn vị có mã XX." in done.stderr, done.stderr
    assert "errors.unit_not_found" not in done.stderr and "{'" not in done.stderr
    english = tocns("--lang", "en", "targets", "import", str(bad), db=db)
    assert "Line 3: No unit with code XX." in english.stderr, english.stderr
    header = tmp_path / "header.csv"
    header.write_text("unit,indicator\n1,2\n")
    said = tocns("targets", "import", str(header), db=db).stderr
    assert "unit_code,indicator,period,target" in said, said


async def test_a_rate_target_over_100_is_told_in_a_sentence(seeded_app: App, tmp_path: Path) -> None:
    bad = tmp_path / "tg.csv"
    bad.write_text("unit_code,indicator,period,target\n19786,online_rate,2026-Q4,170\n")
    done = run_cli(seeded_app.settings.database.url, "targets", "import", str(bad))
    assert done.returncode == 2, done.stderr
    assert "Dòng 2: Giá trị chỉ tiêu «170» chưa hợp lệ" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "args", [("--lang", "fr", "status"), ("status", "--lang", "fr"), ("--lang=de", "kpi", "show")]
)
def test_a_language_the_cli_does_not_speak_is_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    said = one_line(tocns(*args, db=tmp_path / "t.db"), 2)
    assert "--lang: không có ngôn ngữ" in said and "vi" in said and "en" in said, said


def test_status_names_the_scheduler_holder_in_plain_words(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    vi = tocns("status", db=db)
    assert "Máy đang giữ bộ lập lịch:" in vi.stdout and "lịch hẹn" not in vi.stdout, vi.stdout
    for args in (("--lang", "en", "status"), ("status", "--lang", "en")):
        en = tocns(*args, db=db)
        assert "Worker holding the scheduler:" in en.stdout and "Sẵn sàng" not in en.stdout, en.stdout
