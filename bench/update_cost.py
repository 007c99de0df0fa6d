"""Update cost: synthetic Telegram updates through the full stack — a real PTB 22
`Application.process_update` wired like bot/channels/telegram/_channel.py (the project's TelegramChannel and
its one TypeHandler, AIORateLimiter present but not throttling), real dialogs, real database — with
HTTP faked at the request level (a PTB `BaseRequest` that answers canned JSON, no network). Beside
it, in the same run with the same fake request, a bare PTB echo bot.

    python bench/update_cost.py [--quick] [--updates N] [--users U] [--pg [URL]] [--sqlite-only]
                                [--profile FILE] [--no-write]

Two ways, both in the same run:
* concurrent (what `tocns run` does): every user is a coroutine that sends its next update once the
  previous one was answered; updates go through PTB's update processor — the project's
  ChatOrderedProcessor (different chats at once, up to 8; one chat in order) — as PTB's polling loop
  hands them over. updates/s = all updates ÷ wall time; latency = processing + delivery of that update.
* sequential: one update at a time (the old `concurrent_updates(False)` path), for comparison.
The mix per user: /help, the /ghi help-session flow (the command and five button presses), a dossier
code, a free-text how-to question, /ngonngu. The echo bot runs the same two ways.

Prints updates/s, this process's CPU ms per update (full stack; on a shared machine it moves less
than updates/s), p50/p95 latency and the ratio full-stack ÷ echo, on SQLite (temp file) and on
PostgreSQL (scratch database created and dropped on the server of --pg); appends them to
docs/benchmarks.md under "Update cost" (never with --quick). A missed timing goal is reported, not
an error exit: the machine may be busy.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_PG,
    ROOT,
    ScratchPg,
    append_section,
    load_line,
    median,
    migrate_url,
    percentile,
    verdict,
)
from pydantic import SecretStr
from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, MessageHandler, filters
from telegram.request import BaseRequest, RequestData

from bot.assemble import build
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram._order import ChatOrderedProcessor
from bot.config import load_settings
from bot.kernel import App
from db.base import utcnow
from services.access import Role

GOAL_RATE = 500.0
GOAL_RATIO = 3.0
BOT_ID = 424242
TOKEN = f"{BOT_ID}:BENCH-UPDATE-COST"
QUESTIONS = [
    "làm căn cước công dân cho con như thế nào",
    "lam the nao de dang ky khai sinh online",
    "cach cai dat vneid muc do 2",
    "thu tuc dang ky thuong tru can giay to gi",
    "nop phat vi pham giao thong truc tuyen o dau",
]


class CannedRequest(BaseRequest):
    """PTB request object that never touches the network: canned JSON per Bot API method,
    and a record of the calls (method, chat_id, reply markup) the bench reads buttons from."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.record = True
        self._ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = request_data.parameters if request_data is not None else {}
        if self.record and name != "getUpdates":
            self.calls.append((name, params))
        result: Any = True
        if name == "getMe":
            result = {"id": BOT_ID, "is_bot": True, "first_name": "bench", "username": "tocns_bench_bot"}
        elif name in ("sendMessage", "editMessageText"):
            chat = params.get("chat_id", 0)
            result = {
                "message_id": int(params.get("message_id") or next(self._ids)),
                "date": int(time.time()),
                "chat": {"id": int(chat), "type": "private"},
                "text": str(params.get("text", "")),
            }
        elif name == "getUpdates":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def last_buttons(self, chat_id: int) -> list[str]:
        for name, params in reversed(self.calls):
            if name in ("sendMessage", "editMessageText") and int(params.get("chat_id", 0)) == chat_id:
                markup = params.get("reply_markup")
                if isinstance(markup, str):
                    markup = json.loads(markup)
                rows = (markup or {}).get("inline_keyboard", [])
                return [b.get("callback_data", "") for row in rows for b in row]
        return []


def build_ptb(request: CannedRequest, concurrent: bool) -> Application[Any, Any, Any, Any, Any, Any]:
    """bot.channels.telegram.make_application's wiring, with the canned request and the overall rate limit
    lifted (AIORateLimiter still in the path; 0 = no throttling, else replies would cap at 30/s)."""
    processor: Any = ChatOrderedProcessor() if concurrent else False
    return (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(request)
        .rate_limiter(AIORateLimiter(overall_max_rate=0, group_max_rate=20, group_time_period=60))
        .job_queue(None)
        .concurrent_updates(processor)
        .updater(None)
        .build()
    )


_update_ids = itertools.count(1)


def message_update(user: int, text: str) -> dict[str, Any]:
    uid = next(_update_ids)
    frm = {"id": user, "is_bot": False, "first_name": f"Người dùng {user}", "language_code": "vi"}
    msg: dict[str, Any] = {
        "message_id": uid,
        "date": int(time.time()),
        "chat": {"id": user, "type": "private", "first_name": frm["first_name"]},
        "from": frm,
        "text": text,
    }
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": uid, "message": msg}


def callback_update(user: int, data: str) -> dict[str, Any]:
    uid = next(_update_ids)
    frm = {"id": user, "is_bot": False, "first_name": f"Người dùng {user}", "language_code": "vi"}
    return {
        "update_id": uid,
        "callback_query": {
            "id": f"cb{uid}",
            "from": frm,
            "chat_instance": str(user),
            "data": data,
            "message": {
                "message_id": uid,
                "date": int(time.time()),
                "chat": {"id": user, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "bench"},
                "text": "…",
            },
        },
    }


# One user's script: ("text", "...") or ("press", prefix of the button payload to press).
def script(code: str, question: str) -> list[tuple[str, str]]:
    return [
        ("text", "/help"),
        ("text", "/ghi"),
        ("press", "step:ghi.what:"),
        ("press", "step:ghi.where:"),
        ("press", "step:ghi.count:"),
        ("press", "step:ghi.result:"),
        ("press", "ghi.save"),
        ("text", code),
        ("text", question),
        ("text", "/ngonngu"),
    ]


async def prepare(url: str, users: list[int]) -> str:
    """Migrate, seed the demo, make the bench users volunteers of team 19786-1; a dossier code."""
    from sqlalchemy import select

    from db.models import Dossier
    from services import demo, people

    await migrate_url(url)
    settings = load_settings(environ={"TOCNS_DATABASE_URL": url, "TOCNS_CONFIG": str(ROOT / "config.yaml")})
    app = build(settings)
    try:
        async with app.sessions() as session, session.begin():
            await demo.seed(session, ROOT / "data" / "demo" / "units_hue.csv", utcnow())
            for u in users:
                await people.grant_role(
                    session,
                    channel="telegram",
                    external_id=str(u),
                    role=Role.VOLUNTEER,
                    unit_code="19786-1",
                    display_name=f"Người dùng {u}",
                )
            code = (await session.execute(select(Dossier.code).limit(1))).scalar_one_or_none()
    finally:
        await app.close()
    return code or "H46.19786-261120-0001"


async def feed(ptb: Any, raw: dict[str, Any], concurrent: bool) -> Update:
    """Hand one update over the way PTB's polling loop does (through its update processor)."""
    update = Update.de_json(raw, ptb.bot)
    if concurrent:
        await ptb.update_processor.process_update(update, ptb.process_update(update))
    else:
        await ptb.process_update(update)
    return update


async def full_stack(
    url: str, users: list[int], n: int, code: str, concurrent: bool
) -> tuple[list[float], float, dict[str, int]]:
    settings = load_settings(
        environ={
            "TOCNS_DATABASE_URL": url,
            "TOCNS_CONFIG": str(ROOT / "config.yaml"),
            "TOCNS_TELEGRAM_TOKEN": TOKEN,
        }
    )
    settings = settings.model_copy(
        update={"telegram": settings.telegram.model_copy(update={"token": SecretStr(TOKEN)})}
    )
    app: App = build(settings)
    request = CannedRequest()
    ptb = build_ptb(request, concurrent)
    channel = TelegramChannel(app, settings.telegram, application=ptb)
    await ptb.initialize()
    channel.me = type(channel.me)(ptb.bot.id, ptb.bot.username or "")
    channel.ready.set()
    steps = {u: script(code, QUESTIONS[i % len(QUESTIONS)]) for i, u in enumerate(users)}
    per_user = {u: 0 for u in users}
    latencies: list[float] = []
    budget = [n]

    async def delivered(update: Update) -> None:
        mine = [t for t in channel._tasks if t.get_name() == f"telegram:{update.update_id}"]
        if mine:
            await asyncio.gather(*mine)

    async def one_step(u: int) -> None:
        step = steps[u][per_user[u] % len(steps[u])]
        per_user[u] += 1
        kind, arg = step
        if kind == "press":
            payload = next((b for b in request.last_buttons(u) if b.startswith(arg)), arg)
            raw = callback_update(u, payload)
        else:
            raw = message_update(u, arg)
        t0 = time.perf_counter()
        update = await feed(ptb, raw, concurrent)
        await delivered(update)
        latencies.append(time.perf_counter() - t0)

    async def user_loop(u: int) -> None:
        while budget[0] > 0:
            budget[0] -= 1
            await one_step(u)

    try:
        # Warm-up (catalog, router, connection pool, first queries): one /start per user.
        for u in users:
            await feed(ptb, message_update(u, "/start"), False)
        await channel.drain()
        started = time.perf_counter()
        cpu_started = time.process_time()
        if concurrent:
            await asyncio.gather(*(user_loop(u) for u in users))
        else:
            while budget[0] > 0:
                for u in users:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                    await one_step(u)
        await channel.drain()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        await ptb.shutdown()
        await app.close()
    sent = sum(1 for name, _ in request.calls if name in ("sendMessage", "editMessageText"))
    peak = channel.sequencer.peak
    return (
        latencies,
        elapsed,
        {
            "bot_api_calls": len(request.calls),
            "messages_out": sent,
            "peak": peak,
            # This process's CPU per update (the database server's is not in it): less sensitive
            # than updates/s to what else the machine runs.
            "cpu_ms": round(cpu * 1000 / max(1, len(latencies)), 2),
        },
    )


async def echo(users: list[int], n: int, concurrent: bool) -> tuple[list[float], float]:
    request = CannedRequest()
    request.record = False
    ptb = build_ptb(request, concurrent)

    async def reply(update: Update, _ctx: Any) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    ptb.add_handler(MessageHandler(filters.TEXT, reply))
    await ptb.initialize()
    latencies: list[float] = []
    counter = itertools.count()

    async def one(i: int) -> None:
        u = users[i % len(users)]
        raw = message_update(u, QUESTIONS[i % len(QUESTIONS)])
        t0 = time.perf_counter()
        await feed(ptb, raw, concurrent)
        latencies.append(time.perf_counter() - t0)

    async def user_loop() -> None:
        while (i := next(counter)) < n:
            await one(i)

    try:
        for u in users:
            await feed(ptb, message_update(u, "warm up"), False)
        started = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(user_loop() for _ in users))
        else:
            for i in range(n):
                await one(i)
        elapsed = time.perf_counter() - started
    finally:
        await ptb.shutdown()
    return latencies, elapsed


def summarise(label: str, lat: list[float], elapsed: float) -> dict[str, Any]:
    return {
        "label": label,
        "n": len(lat),
        "rate": len(lat) / elapsed,
        "p50": median(lat) * 1000,
        "p95": percentile(lat, 95) * 1000,
    }


async def run_backend(
    name: str, url: str, users: list[int], n: int, profile: str | None
) -> list[dict[str, Any]]:
    code = await prepare(url, users)
    rows: list[dict[str, Any]] = []
    for concurrent in (True, False):
        how = "concurrent" if concurrent else "sequential"
        e_lat, e_el = await echo(users, n, concurrent)
        if profile and concurrent:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
        f_lat, f_el, extra = await full_stack(url, users, n, code, concurrent)
        if profile and concurrent:
            profiler.stop()
            out = Path(f"{profile}.{name.lower()}.txt")
            text = profiler.output_text(unicode=True, color=False, show_all=False)
            out.write_text(text, encoding="utf-8")  # noqa: ASYNC240
            print(f"profile written to {out}")
        e = summarise("echo", e_lat, e_el)
        f = summarise("full", f_lat, f_el)
        ratio = f["rate"] and e["rate"] / f["rate"]
        for r in (f, e):
            print(
                f"{name:10} {how:10} {r['label']:4} updates={r['n']} rate={r['rate']:.0f} updates/s "
                f"p50={r['p50']:.2f} ms p95={r['p95']:.2f} ms"
                + (f" cpu={extra['cpu_ms']} ms/update" if r["label"] == "full" else "")
            )
        print(
            f"{name:10} {how:10} full-stack ÷ echo (time per update) = {ratio:.1f} "
            f"(goal ≤ {GOAL_RATIO:g}: {verdict(ratio <= GOAL_RATIO)}); "
            f"full-stack rate goal ≥ {GOAL_RATE:g}/s: {verdict(f['rate'] >= GOAL_RATE)}; {extra}"
        )
        if extra["messages_out"] < f["n"]:
            raise SystemExit(f"{name} {how}: {extra['messages_out']} replies for {f['n']} updates: lost")
        rows += [
            {**f, "backend": name, "how": how, "ratio": ratio, "cpu_ms": extra["cpu_ms"]},
            {**e, "backend": name, "how": how, "ratio": None, "cpu_ms": None},
        ]
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="500 updates instead of 3,000")
    parser.add_argument("--updates", type=int, default=None)
    parser.add_argument("--users", type=int, default=None, help="distinct Telegram users (default N/10)")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (a scratch database is made)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--profile", default=None, help="pyinstrument the full stack, text to FILE.<db>.txt")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    n = args.updates or (500 if args.quick else 3_000)
    # Each user sends one 10-step script per cycle; the flood guard allows 20 messages / 10 s each.
    users = [900_000 + i for i in range(args.users or max(10, n // 10))]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tocns-update-cost-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        rows += await run_backend("SQLite", url, users, n, args.profile)
    if not args.sqlite_only:
        async with ScratchPg(args.pg) as url:
            rows += await run_backend("PostgreSQL", url, users, n, args.profile)
    if not args.no_write and not args.quick:
        table = [
            "| database | processing | stack | updates | updates/s | goal ≥ 500/s | CPU ms/update | p50 ms "
            "| p95 ms | full ÷ echo | goal ≤ 3 |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            full = r["label"] == "full"
            table.append(
                f"| {r['backend']} | {r['how']} | {'full stack' if full else 'PTB echo'} | {r['n']} "
                f"| {r['rate']:.0f} "
                f"| {verdict(r['rate'] >= GOAL_RATE) if full else '—'} "
                f"| {r['cpu_ms'] if full else '—'} | {r['p50']:.2f} | {r['p95']:.2f} "
                f"| {format(r['ratio'], '.1f') if full else '—'} "
                f"| {verdict(r['ratio'] <= GOAL_RATIO) if full else '—'} |"
            )
        append_section(
            "Update cost",
            "Synthetic Telegram updates through `Application.process_update` → TelegramChannel → intake "
            "(one transaction) → dialogs → replies, with the Bot API faked at PTB's request level (no "
            "network); beside a bare PTB echo bot with the same fake request. Concurrent = as `tocns "
            "run` processes them (ChatOrderedProcessor: up to 8 chats at once, each chat in order; every "
            "user sends its next update once answered); sequential = one update at a time. Mix per user: "
            "/help, /ghi + 5 button presses, a dossier code, a how-to question, /ngonngu. Ratio = "
            "full-stack time per update ÷ echo's.",
            [f"{len(users)} users. Load: {load_line()}", "", *table],
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
