"""End-to-end harness: the real `tocns run` process talks HTTP to a local Telegram Bot API
emulator (npm telegram-test-api 4.2.x, started through tests/e2e/emulator.js), while tests act as
Telegram users through the emulator's client routes.

How to write a scenario (every helper is async; tests need no decorator)::

    import pytest
    pytestmark = pytest.mark.e2e

    async def test_volunteer_logs_a_session(start_bot, tg_user):
        bot = await start_bot(seed=True)            # polling, fresh SQLite, demo data loaded
        an = tg_user(bot, "An", user_id=1001)      # a Telegram user (private chat id = user id)
        await an.send_command("/start")
        hello = await an.wait_for_reply(contains="Xin chào")
        await an.send_command("/ngonngu")
        menu = await an.wait_for_reply()
        await an.press_button("English", menu)      # a callback on that message
        edited = await an.wait_for_edit(menu)       # the same message, edited in place
        assert "English" in edited.text

Fixtures and helpers:
  * `emulator` (session): the running emulator; skips every e2e test with a visible reason when
    node/npm are missing. `npm ci` runs into tests/e2e/node_modules only when that folder is missing.
  * `start_bot(mode="polling"|"webhook", seed=False, env={...}, database_url=None)` → `BotProcess`
    (started and ready). `await bot.stop()` (SIGTERM), `bot.kill()` (SIGKILL, like a crash),
    `await bot.restart()` (same database and token), `bot.log()` (its stderr), `bot.webhook_url`,
    `bot.secret`. Every bot gets its own token, so emulator state never leaks between tests.
  * `tg_user(bot, first_name, user_id=None, language_code="vi", chat_id=None, chat_type="private")`
    → `TgUser` with `send_message(text)`, `send_command("/cmd args")`, `press_button(label_or_payload,
    message=None)`, `wait_for_reply(timeout=10, contains=None)`, `wait_for_edit(message, timeout=10)`,
    `messages()`. Several users run at once with `asyncio.gather(...)`.
  * `BotMessage`: `.text`, `.message_id`, `.buttons` [(label, payload_or_url)], `.button(label_part)`,
    `.edit_count`, `.raw` (the emulator's stored message, with `photo`/`document` for files).
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parent.parent
TOCNS = Path(sys.executable).parent / "tocns"  # the console script beside this interpreter
READY_LINE = "tocns is running"
_tokens = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_missing_reason() -> str | None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"e2e tests need {tool} (Node 18+) on PATH; it is not installed"
    return None


def ensure_node_modules() -> None:
    """`npm ci` (pinned by package-lock.json) into tests/e2e/node_modules when it is missing. The
    suite runs in parallel workers (pytest-xdist): a file lock makes the others wait for the one
    that installs instead of running a second `npm ci` into the same folder."""
    with (E2E_DIR / ".npm-ci.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (E2E_DIR / "node_modules" / "telegram-test-api").is_dir():
            return
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=E2E_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )


class Emulator:
    """The running telegram-test-api (via emulator.js): bot API at `base_url`/bot<token>/…"""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(E2E_DIR / "emulator.js"), "--port", str(self.port), "--host", "127.0.0.1"],
            cwd=E2E_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    async def post(self, session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
        async with session.post(self.base_url + path, json=body) as resp:
            data = await resp.json()
            if resp.status != 200 or not data.get("ok"):
                raise AssertionError(f"emulator {path} answered {resp.status}: {data}")
            return data["result"]

    async def state(self, session: aiohttp.ClientSession, token: str) -> dict[str, Any]:
        """setMyCommands per language, answered callback ids, webhook URL and failures."""
        result: dict[str, Any] = await self.post(session, "/_tocns/state", {"token": token})
        return result


@dataclass
class BotProcess:
    """One `tocns run` subprocess with its own temp config, database and token."""

    workdir: Path
    env: dict[str, str]
    token: str
    mode: str
    web_port: int
    secret: str
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/telegram/webhook"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"bot-{self.starts}.log"

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("bot-*.log")))

    async def start(self, timeout: float = 40.0) -> None:  # noqa: ASYNC109
        self.starts += 1
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 (spawning does not block)
                [str(TOCNS), "run"], cwd=self.workdir, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if READY_LINE in text:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"bot exited with {self.proc.returncode}:\n{text[-3000:]}")
            await asyncio.sleep(0.1)
        raise AssertionError(f"bot not ready after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, like a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    async def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        # Within `docker stop`'s 10 s grace, whatever the bot was doing: past it, the SIGKILL may
        # leave a push sent but not marked (sent twice after the restart).
        for _ in range(100):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.1)
        self.kill()
        raise AssertionError(f"bot still running 10 s after SIGTERM:\n{self.log_path.read_text()[-3000:]}")

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@dataclass
class BotMessage:
    message_id: int
    text: str
    buttons: list[tuple[str, str]]
    edit_count: int
    raw: dict[str, Any]

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> BotMessage:
        markup = raw.get("reply_markup") or {}
        buttons = [
            (b["text"], b.get("callback_data") or b.get("url") or "")
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]
        text = raw.get("text") or raw.get("caption") or ""
        return cls(int(raw["message_id"]), text, buttons, int(raw.get("edit_count", 0)), raw)

    def button(self, label_part: str) -> str:
        for label, payload in self.buttons:
            if label_part.lower() in label.lower() or payload == label_part:
                return payload
        raise AssertionError(f"no button {label_part!r} in {self.buttons}")


@dataclass
class TgUser:
    """A Telegram user acting through the emulator's client routes."""

    emulator: Emulator
    session: aiohttp.ClientSession
    bot: BotProcess
    first_name: str
    user_id: int
    language_code: str = "vi"
    chat_id: int | None = None
    chat_type: str = "private"
    seen_id: int = 0  # highest bot message id already returned by wait_for_reply
    last: BotMessage | None = None  # the last reply that had buttons
    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def chat(self) -> int:
        return self.chat_id if self.chat_id is not None else self.user_id

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _message(self, text: str) -> dict[str, Any]:
        return {
            "botToken": self.bot.token,
            "from": self._from(),
            "chat": {"id": self.chat, "type": self.chat_type, "first_name": self.first_name},
            "date": int(time.time()),
            "text": text,
        }

    async def send_message(self, text: str) -> dict[str, Any]:
        """Returns the emulator's answer: {"update_id": …, "webhook_status": … in webhook mode}."""
        result: dict[str, Any] = await self.emulator.post(self.session, "/sendMessage", self._message(text))
        self.sent.append(result)
        return result

    async def send_command(self, text: str) -> dict[str, Any]:
        msg = self._message(text)
        msg["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        result: dict[str, Any] = await self.emulator.post(self.session, "/sendCommand", msg)
        self.sent.append(result)
        return result

    async def press_button(self, label_or_payload: str, message: BotMessage | None = None) -> dict[str, Any]:
        """Tap a button of `message` (default: the last reply that had buttons)."""
        message = message or self.last
        assert message is not None, "no message to press a button on"
        payload = message.button(label_or_payload)
        raw = message.raw
        body = {
            "botToken": self.bot.token,
            "from": self._from(),
            "date": int(time.time()),
            "data": payload,
            "message": {
                "message_id": message.message_id,
                "date": raw.get("date", int(time.time())),
                "chat": {"id": self.chat, "type": self.chat_type, "first_name": self.first_name},
                "from": {"id": 666, "is_bot": True, "first_name": "Bot"},
                "text": message.text,
            },
        }
        result: dict[str, Any] = await self.emulator.post(self.session, "/sendCallback", body)
        self.sent.append(result)
        return result

    async def messages(self, after_id: int = 0) -> list[BotMessage]:
        raw = await self.emulator.post(
            self.session,
            "/_tocns/messages",
            {"token": self.bot.token, "chatId": self.chat, "afterId": after_id},
        )
        return [BotMessage.from_raw(r) for r in raw]

    async def wait_for_reply(self, timeout: float = 10.0, contains: str | None = None) -> BotMessage:  # noqa: ASYNC109
        """The next new bot message in this chat (skipping ones without `contains`)."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in await self.messages(self.seen_id):
                self.seen_id = max(self.seen_id, msg.message_id)
                if msg.buttons:
                    self.last = msg  # press_button's default target
                if contains is None or contains.lower() in msg.text.lower():
                    return msg
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.first_name}: no reply{f' containing {contains!r}' if contains else ''} "
                    f"within {timeout}s; bot log tail:\n{self.bot.log()[-2000:]}"
                )
            await asyncio.sleep(0.05)

    async def wait_for_edit(self, message: BotMessage, timeout: float = 10.0) -> BotMessage:  # noqa: ASYNC109
        """`message` as it is after its next edit (editMessageText)."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in await self.messages(message.message_id - 1):
                if msg.message_id == message.message_id and msg.edit_count > message.edit_count:
                    return msg
            if time.monotonic() > deadline:
                raise AssertionError(f"message {message.message_id} not edited within {timeout}s")
            await asyncio.sleep(0.05)


class TcpProxy:
    """A loopback TCP forwarder the test can cut (`await close()`) and restore (`await open()`):
    a database that goes away under a running bot."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


def pg_admin_url() -> str:
    url = os.environ.get("TOCNS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def pg_behind_proxy() -> AsyncIterator[tuple[str, TcpProxy]]:
    """A throw-away PostgreSQL database reached through a TcpProxy: (sqlalchemy url, proxy).
    Skips when no PostgreSQL answers (TOCNS_TEST_DATABASE_URL or 127.0.0.1:5432)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = pg_admin_url()
    try:
        conn = await asyncpg.connect(admin, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"needs PostgreSQL at {make_url(admin).host}:{make_url(admin).port}: {exc}")
    name = f"tocns_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    base = make_url(admin)
    proxy = TcpProxy(base.host or "127.0.0.1", base.port or 5432)
    await proxy.open()
    url = base.set(drivername="postgresql+asyncpg", host="127.0.0.1", port=proxy.port, database=name)
    try:
        yield url.render_as_string(hide_password=False), proxy
    finally:
        await proxy.close()
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    reason = node_missing_reason()
    if reason:
        pytest.skip(reason)
    try:
        ensure_node_modules()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"e2e tests: `npm ci` in tests/e2e failed ({exc}); no npm registry?")
    emu = Emulator(free_port())
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory, emulator: Emulator) -> Path:
    """A migrated SQLite file copied for every bot (start-up then skips the migrations)."""
    path = tmp_path_factory.mktemp("e2e-template") / "template.db"
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
        "TOCNS_CONFIG": str(ROOT / "config.yaml"),
    }
    env.pop("TOCNS_TELEGRAM_TOKEN", None)
    subprocess.run([str(TOCNS), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    return path


def bot_env(workdir: Path, token: str, database_url: str, extra: dict[str, str]) -> dict[str, str]:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.setdefault("telegram", {})["poll_interval"] = 0.0
    config.setdefault("outbox", {})["poll_interval"] = 0.2
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCNS_")}
    env.update(
        {
            "TOCNS_CONFIG": str(workdir / "config.yaml"),
            "TOCNS_DATABASE_URL": database_url,
            "TOCNS_TELEGRAM_TOKEN": token,
            "TOCNS_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "TOCNS_WEB_PORT": "0",  # never a fixed port: other bots may run on this machine
            **extra,
        }
    )
    return env


StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def start_bot(emulator: Emulator, _template_db: Path, tmp_path: Path) -> AsyncIterator[StartBot]:
    bots: list[BotProcess] = []

    async def start(
        *,
        mode: str = "polling",
        seed: bool = False,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
        token: str | None = None,
        secret: str | None = None,
        public_url: str | None = None,
    ) -> BotProcess:
        """Start one `tocns run`; several workers of one bot share `token`, `secret` and `public_url`."""
        workdir = tmp_path / f"bot{len(bots) + 1}"
        workdir.mkdir()
        token = token or f"{next(_tokens)}{os.getpid()}:e2e-{uuid.uuid4().hex[:12]}"
        if database_url is None:
            shutil.copyfile(_template_db, workdir / "tocns.db")
            database_url = f"sqlite+aiosqlite:///{workdir / 'tocns.db'}"
        web_port = free_port()
        secret = secret or f"e2e-{uuid.uuid4().hex}"
        extra = {"TOCNS_TELEGRAM_BASE_URL": emulator.base_url, "TOCNS_TELEGRAM_MODE": mode}
        if mode == "webhook":
            extra |= {
                "TOCNS_TELEGRAM_WEBHOOK_SECRET": secret,
                "TOCNS_WEBHOOK_PUBLIC_URL": public_url or f"http://127.0.0.1:{web_port}",
                "TOCNS_WEB_PORT": str(web_port),
            }
        bot = BotProcess(
            workdir, bot_env(workdir, token, database_url, extra | (env or {})), token, mode, web_port, secret
        )
        if seed:
            seeding = await asyncio.create_subprocess_exec(
                str(TOCNS),
                "demo",
                "seed",
                env=bot.env,
                cwd=workdir,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await seeding.communicate()
            assert seeding.returncode == 0, err.decode()[-2000:]
        bots.append(bot)
        await bot.start()
        return bot

    yield start
    for bot in bots:
        bot.kill()


@pytest.fixture
async def tg_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def tg_user(emulator: Emulator, tg_session: aiohttp.ClientSession) -> Callable[..., TgUser]:
    ids = itertools.count(5000)

    def make(
        bot: BotProcess, first_name: str = "Người dùng", user_id: int | None = None, **kw: Any
    ) -> TgUser:
        return TgUser(
            emulator, tg_session, bot, first_name, user_id if user_id is not None else next(ids), **kw
        )

    return make


__all__ = ["BotMessage", "BotProcess", "Emulator", "TgUser", "free_port"]


async def grant(bot: BotProcess, user_id: int, role: str, unit: str, name: str) -> None:
    """Give a Telegram user a role, through the real CLI against the bot's database."""
    proc = await asyncio.create_subprocess_exec(
        str(TOCNS),
        "users",
        "grant",
        "--channel",
        "telegram",
        "--user-id",
        str(user_id),
        "--role",
        role,
        "--unit",
        unit,
        "--name",
        name,
        env=bot.env,
        cwd=bot.workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
