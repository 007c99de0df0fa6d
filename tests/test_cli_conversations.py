"""The command line and the console as people meet them (issue 15, "Command line and console"):
usage mistakes are one line and exit 2 in one language; tables are not cut; the script is not
throttled; pushes show as they arrive, by name; backups are named in local time; the outbox says
who is unreachable and `jobs run` re-sends to people who came back."""

from __future__ import annotations

import asyncio
import io
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.backup import default_name
from bot.kernel import App, DeliveryError
from handlers.core import Reply
from services import outbox
from tests.support import demo_driver, run_cli

ROOT = Path(__file__).resolve().parent.parent


def tocns(*args: str, db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(f"sqlite+aiosqlite:///{db}", *args, **env)


@pytest.mark.parametrize(
    ("args", "vi", "en"),
    [
        (("kpi", "show"), "thiếu tuỳ chọn «--unit»", "missing option '--unit'"),
        (("jobs", "run"), "thiếu tham số «NAME»", "missing argument 'NAME'"),
        (("import", "dossiers"), "thiếu tham số «FILE»", "missing argument 'FILE'"),
        (("nosuch",), "không có lệnh «nosuch»", "no such command 'nosuch'"),
        (("jobs", "run", "nosuch"), "không có việc «nosuch»", "unknown job 'nosuch'"),
        (("import", "dossiers", "/nonexist.xlsx", "--unit", "19786"), "không tìm thấy tệp", "file not found"),
        (("kpi", "show", "--unit", "NOPE"), "không có đơn vị mã «NOPE»", "no unit with code 'NOPE'"),
    ],
)
def test_usage_mistakes_are_one_line_exit_2_one_language(
    tmp_path: Path, args: tuple[str, ...], vi: str, en: str
) -> None:
    db = tmp_path / "t.db"
    done = tocns(*args, db=db)
    assert done.returncode == 2, done
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr, done.stderr
    assert vi in done.stderr and "missing" not in done.stderr and "unknown" not in done.stderr
    for english in (tocns("--lang", "en", *args, db=db), tocns(*args, db=db, TOCNS_LOCALE="en")):
        assert english.returncode == 2
        assert en in english.stderr and "thiếu" not in english.stderr, english.stderr


def test_jobs_list_keeps_whole_names_and_chat_help_lists_every_demo_user(tmp_path: Path) -> None:
    from handlers.jobs import JOBS

    listed = tocns("jobs", "list", db=tmp_path / "t.db")
    assert listed.returncode == 0, listed.stderr
    for job in JOBS:
        assert job in listed.stdout, listed.stdout
    helped = tocns("chat", "--help", db=tmp_path / "t.db", COLUMNS="200")
    assert "tnv2" in helped.stdout


async def test_script_is_not_throttled(seeded_app: App) -> None:
    from bot.channels.console import chat, find_demo_user

    out = io.StringIO()
    user = find_demo_user("dan")
    assert user is not None
    await chat(seeded_app, user, ["/help"] * 30, out)
    assert out.getvalue().count("Các lệnh anh/chị dùng được") == 30
    assert "hơi nhanh" not in out.getvalue()


async def test_bare_switch_lists_demo_users_instead_of_asking_the_faq(seeded_app: App) -> None:
    from bot.channels.console import chat, find_demo_user

    out = io.StringIO()
    user = find_demo_user("dan")
    assert user is not None
    await chat(seeded_app, user, ["#as", "#as tnv", "/toi"], out)
    text = out.getvalue()
    assert "Người dùng demo:" in text and "canbo" in text
    assert "chưa hiểu" not in text  # not sent to the FAQ as a question
    assert "bây giờ là Trần Văn Minh" in text


async def test_console_shows_pushes_as_they_arrive_by_name(
    seeded_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.channels import console

    monkeypatch.setattr(console, "PUSH_POLL_SECONDS", 0.05)
    release = threading.Event()

    def waiting_input(_prompt: str = "") -> str:  # nobody types
        release.wait(10)
        raise EOFError

    monkeypatch.setattr("builtins.input", waiting_input)
    out = io.StringIO()
    user = console.find_demo_user("lanhdao")
    assert user is not None
    task = asyncio.create_task(console.chat(seeded_app, user, None, out))
    await asyncio.sleep(0.2)
    # `tocns jobs run` in another process queues a push for a seeded volunteer (not a demo role).
    async with seeded_app.sessions() as s, s.begin():
        await outbox.enqueue(
            s,
            key="test:jobs-run:1",
            kind="lagging_reminder",
            channel="console",
            chat_id="demo-tv-1",
            payload=Reply("Nhắc việc: tổ chưa ghi buổi nào tuần này").to_payload(),
        )
    for _ in range(100):
        if "Nhắc việc" in out.getvalue():
            break
        await asyncio.sleep(0.05)
    release.set()
    await task
    text = out.getvalue()
    assert "Nhắc việc: tổ chưa ghi buổi nào" in text, text
    assert "[→ demo-tv-1]" not in text and "📨 [→ " in text


async def test_leaving_the_console_lets_the_push_poller_finish_its_database_call(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-D while the poller is inside a database call: the console waits for the call instead of
    cancelling it. A cancelled aiosqlite call finishes on its thread after the program's event loop
    has closed, and fails there ("Event loop is closed")."""
    from bot.channels import console

    monkeypatch.setattr(console, "PUSH_POLL_SECONDS", 0.01)
    in_call = threading.Event()
    finished: list[bool] = []

    async def slow_drain() -> bool:
        in_call.set()
        # What SQLAlchemy does with a connection whose call was cancelled: a shielded close.
        await asyncio.shield(asyncio.sleep(0.3))
        finished.append(True)
        return False

    monkeypatch.setattr(app.dispatcher, "drain_once", slow_drain)

    def typed_ctrl_d(_prompt: str = "") -> str:
        in_call.wait(10)
        raise EOFError

    monkeypatch.setattr("builtins.input", typed_ctrl_d)
    user = console.find_demo_user("dan")
    assert user is not None
    await console.chat(app, user, None, io.StringIO())
    assert finished, "the console ended while its push poller was inside a database call"


def test_backup_names_use_local_time() -> None:
    at = datetime(2026, 11, 30, 20, 5, 0, tzinfo=UTC)  # 03:05 next day in Huế
    assert (
        default_name("sqlite+aiosqlite:///x.db", ZoneInfo("Asia/Ho_Chi_Minh"), at)
        == "tocns-20261201-030500.db"
    )


class Blocking:
    channel = "console"
    supports_buttons = False

    def __init__(self) -> None:
        self.blocked = True
        self.sent: list[str] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.blocked and chat_id == "demo-lanhdao":
            raise DeliveryError("Forbidden: bot was blocked by the user", unreachable=True)
        self.sent.append(chat_id)


async def test_outbox_status_names_unreachable_people_and_jobs_run_resends(
    seeded_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not seeded_app.settings.database.url.startswith("sqlite"):
        pytest.skip("the CLI half runs against the SQLite file")
    sender = Blocking()
    seeded_app.add_sender(sender)
    async with seeded_app.sessions() as s, s.begin():
        await outbox.enqueue(
            s,
            key="digest:2026-W48:lanhdao",
            kind="weekly_digest",
            channel="console",
            chat_id="demo-lanhdao",
            payload=Reply("Tổng hợp tuần 48").to_payload(),
        )
    while await seeded_app.dispatcher.drain_once():
        pass
    db = Path(seeded_app.settings.database.url.split("///", 1)[1])
    status = tocns("outbox", "status", db=db, COLUMNS="200")
    assert "Hoàng Đức Thắng" in status.stdout and "Người không nhận được tin" in status.stdout, status.stdout
    # The leader unblocks and writes to the bot: the week's digest is due again and arrives.
    sender.blocked = False
    await demo_driver(seeded_app, "lanhdao").send("/kpi")
    status = tocns("outbox", "status", db=db, COLUMNS="200")
    assert "Hoàng Đức Thắng" not in status.stdout, status.stdout
    while await seeded_app.dispatcher.drain_once():
        pass
    assert "demo-lanhdao" in sender.sent


async def test_jobs_run_requeues_pushes_to_people_reached_since(
    seeded_app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reached by a later push (e.g. a reply pushed after they unblocked on another device): the
    pushes that failed before are sent again by the next `jobs run` (or the running dispatcher)."""
    sender = Blocking()
    seeded_app.add_sender(sender)

    async def push(key: str, text: str) -> None:
        async with seeded_app.sessions() as s, s.begin():
            await outbox.enqueue(
                s,
                key=key,
                kind="weekly_digest",
                channel="console",
                chat_id="demo-lanhdao",
                payload=Reply(text).to_payload(),
            )

    await push("digest:w48", "Tổng hợp tuần 48")
    while await seeded_app.dispatcher.drain_once():
        pass
    sender.blocked = False
    await push("alert:1", "Cảnh báo hồ sơ sắp quá hạn")
    while await seeded_app.dispatcher.drain_once():
        pass
    assert sender.sent == ["demo-lanhdao"]
    assert await seeded_app.dispatcher.requeue_reachable() == 1
    while await seeded_app.dispatcher.drain_once():
        pass
    assert sender.sent == ["demo-lanhdao", "demo-lanhdao"]


def test_demo_data_never_goes_into_a_real_database(tmp_path: Path) -> None:
    """docs/deploy.md's upgrade step runs ./start.sh, which seeded the demo (the Huế tree, eight people,
    an administrator among them) into the production database it was pointed at."""
    db = tmp_path / "prod.db"
    upgraded = tocns("db", "upgrade", db=db, COLUMNS="300")
    assert upgraded.returncode == 0 and str(db) in upgraded.stdout, upgraded  # says which database
    granted = tocns("users", "grant", "--channel", "telegram", "--user-id", "42", "--role", "admin", db=db)
    assert granted.returncode == 0, granted.stderr
    seeded = tocns("demo", "seed", db=db)
    assert seeded.returncode == 2 and "không phải dữ liệu mẫu" in seeded.stderr, seeded
    assert "Traceback" not in seeded.stderr and seeded.stderr.strip().count("\n") == 0
    started = tocns("demo", "seed", "--skip-if-real", db=db)  # what start.sh runs
    assert started.returncode == 0 and "không phải dữ liệu mẫu" in started.stderr, started
    assert "0 đơn vị" in tocns("units", "list", db=db, COLUMNS="200").stdout
    # The demo's own database is topped up as before; an empty one is filled.
    demo_db = tmp_path / "demo.db"
    assert tocns("demo", "seed", db=demo_db).returncode == 0
    again = tocns("demo", "seed", db=demo_db)
    assert again.returncode == 0 and "đơn vị mới: 0" in again.stdout, again  # Vietnamese first


def test_result_lines_are_vietnamese_by_default_and_english_with_lang_en(tmp_path: Path) -> None:
    """A command that worked says so in the operator's language, like its error lines: Vietnamese
    by default, English with --lang en (or TOCNS_LOCALE=en); codes, ids and numbers are verbatim."""
    db = tmp_path / "t.db"
    units = tmp_path / "units.csv"
    units.write_text("code,name,kind,parent_code\n99,Tỉnh Thử,province,\n99001,Xã Thử,commune,99\n")

    def both(*args: str) -> tuple[str, str]:
        vi, en = tocns(*args, db=db, COLUMNS="300"), tocns("--lang", "en", *args, db=db, COLUMNS="300")
        assert vi.returncode == 0 and en.returncode == 0, (vi, en)
        return vi.stdout, en.stdout

    vi, en = both("units", "import-csv", str(units))
    assert "Đã nhập 2 dòng (2 mới, 0 thay đổi)." in vi and "Imported" not in vi, vi
    assert "Imported 2 rows (0 new, 0 changed)." in en, en
    grant = (
        "users",
        "grant",
        "--channel",
        "telegram",
        "--user-id",
        "7",
        "--role",
        "officer",
        "--unit",
        "99001",
    )
    vi, en = both(*grant)
    assert "Đã cấp vai trò cán bộ xã/phường (officer) tại 99001 cho người #1." in vi, vi
    assert "Granted commune officer (officer) on 99001 to person #1." in en, en
    invite = ("invites", "create", "--unit", "99001", "--role", "officer", "--uses", "3")
    vi, en = both(*invite)
    assert "Mã mời: " in vi and "vai trò cán bộ xã/phường (officer) tại Xã Thử, 3 lượt" in vi, vi
    assert "/thamgia " in vi and "Invite code" not in vi and "Join" not in vi, vi
    assert "Invite code: " in en and "role commune officer (officer) in Xã Thử, 3 use(s)" in en, en
    # --partial: on any day of the week (before Friday's reminder a plain run is refused).
    vi, en = both("jobs", "run", "report_reminder", "--partial")
    assert vi.startswith("report_reminder: ") and ", kỳ 20" in vi and "tin nhắn vào hàng đợi" in vi, vi
    assert "period" not in vi and "queued" not in vi, vi
    assert en.startswith("report_reminder: ") and ", period 20" in en and "queued " in en, en
    by_env = tocns("units", "list", db=db, COLUMNS="300", TOCNS_LOCALE="en").stdout
    assert "2 units" in by_env and "2 đơn vị" in tocns("units", "list", db=db, COLUMNS="300").stdout


def test_every_command_line_text_is_in_both_languages_with_the_same_fields() -> None:
    from string import Formatter

    from bot.cli._messages import TEXTS

    assert TEXTS["vi"].keys() == TEXTS["en"].keys()
    for key, vi in TEXTS["vi"].items():
        fields = {f for _, f, _, _ in Formatter().parse(vi) if f}
        assert fields == {f for _, f, _, _ in Formatter().parse(TEXTS["en"][key]) if f}, key
