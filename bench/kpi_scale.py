"""KPI at national scale: 34 provinces, 3,321 communes, ~75,000 teams, 1M dossiers, 1M help sessions
(`--quick`: a tenth of the communes, teams and rows), on SQLite (temp file) and PostgreSQL (scratch
database), schema built by the Alembic migrations, rows bulk-loaded (asyncpg COPY; executemany in big
transactions on SQLite), then ANALYZE.

    .venv/bin/python bench/kpi_scale.py [--quick] [--pg URL] [--sqlite-only] [--pg-only] [--repeat R]
                                        [--keep-sqlite FILE] [--no-write]

Times (best of R, after one warm-up) the real services:
- all communes: `services.kpi.commune_findings` for one week (what the Monday reminder job runs: every
  commune's indicators, grouped SQL per province, rules evaluated);
- one province: `services.kpi.child_table` (every commune of a province, this week and last week);
- one digest: `services.digest.build` for a provincial leader (total + ranked communes) and for a
  commune leader (total + ranked teams).
Goals: all communes < 2 s on PostgreSQL, < 5 s on SQLite; one digest < 200 ms.

Then the jobs themselves (`bot.scheduler.run_job`, what the scheduler and `tocns jobs run` call) on the
same data, every leader given a Telegram account: the longest write transaction of each job (goal
< 200 ms: jobs compute outside write transactions and write the outbox in short batches), and, while
the weekly digest runs, ten people take turns sending /help every 0.25 s through the real intake
(goal: answered < 1 s) and the event loop's longest block (bot/loopwatch.py; goal < 50 ms wall) and
the full garbage collections of the bot's process. The digest runs twice (`--digest-in`): computed in a
thread of the bot's process (the baseline) and in a child process (what the scheduler inside the bot
does), its rows cleared in between.
`--jobs-units N` limits the digest to N leaders' units (each unit's chart is drawn once; a national
run draws 3,355).
A missed timing goal is reported, not an error exit.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
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

from db.engine import create_engine, session_factory
from services import digest, kpi

PROVINCES = 34
COMMUNES = 3_321
TEAMS = 75_000
DOSSIERS = 1_000_000
SESSIONS = 1_000_000
VOLUNTEERS_PER_TEAM = 2
WEEKS = 26  # history spread over half a year
WEEKLY_ONLY_SHARE = 0.1  # communes that only send weekly reports (no dossier-level data)
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 in Asia/Ho_Chi_Minh
GOALS = {"all_pg": 2.0, "all_sqlite": 5.0, "digest": 0.2}
PROCEDURES = [(f"1.00{i:04d}", f"Thủ tục hành chính số {i}") for i in range(60)]
MODES = ["full_online", "partial_online", "counter"]
STATUSES_OPEN = ["received", "processing"]


class Data:
    """The generated rows, table by table (column order = the tuples' order)."""

    def __init__(self, scale: float, seed: int = 46) -> None:
        rnd = random.Random(seed)
        self.scale = scale
        n_communes = round(COMMUNES * scale)
        n_teams = round(TEAMS * scale)
        t0 = NOW - timedelta(weeks=WEEKS)
        span = (NOW - t0).total_seconds()
        self.units: list[tuple[Any, ...]] = []
        self.people: list[tuple[Any, ...]] = []
        self.memberships: list[tuple[Any, ...]] = []
        self.dossiers: list[tuple[Any, ...]] = []
        self.sessions: list[tuple[Any, ...]] = []
        self.weekly: list[tuple[Any, ...]] = []
        self.targets: list[tuple[Any, ...]] = []
        uid = 0
        provinces: list[tuple[int, str]] = []
        for p in range(PROVINCES):
            uid += 1
            path = f"/{uid}/"
            self.units.append((uid, f"{p + 1:02d}", f"Tỉnh số {p + 1}", "province", None, path, 0, True, t0))
            provinces.append((uid, path))
        self.communes: list[tuple[int, str, int]] = []  # (id, path, province id)
        for c in range(n_communes):
            prov_id, prov_path = provinces[c % PROVINCES]
            uid += 1
            path = f"{prov_path}{uid}/"
            self.units.append((uid, f"{10_000 + c}", f"Xã số {c + 1}", "commune", prov_id, path, 1, True, t0))
            self.communes.append((uid, path, prov_id))
        self.teams: list[tuple[int, int]] = []  # (id, commune id)
        per_commune = n_teams / n_communes
        for t in range(n_teams):
            cid, cpath, _ = self.communes[min(n_communes - 1, int(t / per_commune))]
            uid += 1
            code = f"{10_000 + (cid - PROVINCES - 1)}-{t}"
            self.units.append((uid, code, f"Tổ CNSCĐ {t + 1}", "team", cid, f"{cpath}{uid}/", 2, True, t0))
            self.teams.append((uid, cid))
        pid = 0
        mid = 0
        team_people: dict[int, list[int]] = {}
        for tid, _cid in self.teams:
            for k in range(VOLUNTEERS_PER_TEAM):
                pid += 1
                mid += 1
                self.people.append((pid, f"Thành viên {pid}", "vi", t0))
                role = "team_leader" if k == 0 else "volunteer"
                self.memberships.append((mid, pid, tid, role, True, t0, None))
                team_people.setdefault(tid, []).append(pid)
        self.leaders: dict[int, int] = {}  # unit id -> leader person id (provinces and communes)
        for unit_id in [p for p, _ in provinces] + [c for c, _, _ in self.communes]:
            pid += 1
            mid += 1
            self.people.append((pid, f"Lãnh đạo {pid}", "vi", t0))
            self.memberships.append((mid, pid, unit_id, "leader", True, t0, None))
            self.leaders[unit_id] = pid
        weekly_only = {c for c, _, _ in self.communes if rnd.random() < WEEKLY_ONLY_SHARE}
        dossier_communes = [c for c, _, _ in self.communes if c not in weekly_only]
        n_dossiers = round(DOSSIERS * scale)
        for i in range(n_dossiers):
            unit_id = dossier_communes[rnd.randrange(len(dossier_communes))]
            received = t0 + timedelta(seconds=rnd.random() * span)
            due = received + timedelta(days=rnd.choice((3, 5, 7, 10, 15)))
            finished = received + timedelta(days=rnd.random() * 18)
            if finished > NOW or rnd.random() < 0.02:  # 2 % never finished (stuck, overdue)
                finished = None
            status = (
                ("returned" if rnd.random() < 0.95 else "rejected") if finished else rnd.choice(STATUSES_OPEN)
            )
            pcode, pname = PROCEDURES[int(rnd.random() ** 2 * len(PROCEDURES))]
            mode = MODES[0 if rnd.random() < 0.35 else 1 if rnd.random() < 0.5 else 2]
            self.dossiers.append(
                (
                    i + 1,
                    f"000.00.{unit_id}.H{i:08d}",
                    unit_id,
                    pcode,
                    pname,
                    mode,
                    received,
                    due,
                    finished,
                    False,
                    status,
                    "import",
                    None,
                    received,
                    finished or received,
                )
            )
        # Rows arrive in time order in real life, so the heap is roughly ordered by time: keep that.
        self.dossiers.sort(key=lambda r: r[6])
        self.dossiers = [(i + 1, *r[1:]) for i, r in enumerate(self.dossiers)]
        n_sessions = round(SESSIONS * scale)
        for i in range(n_sessions):
            tid, _cid = self.teams[rnd.randrange(len(self.teams))]
            vol = rnd.choice(team_people[tid])
            at = t0 + timedelta(seconds=rnd.random() * span)
            deleted = at if rnd.random() < 0.01 else None
            self.sessions.append(
                (
                    i + 1,
                    vol,
                    tid,
                    at,
                    at,
                    "dvc",
                    "home",
                    rnd.choice((1, 1, 2, 3)),
                    "done",
                    None,
                    None,
                    None,
                    deleted,
                )
            )
        self.sessions.sort(key=lambda r: r[3])
        self.sessions = [(i + 1, *r[1:]) for i, r in enumerate(self.sessions)]
        wid = 0
        first_monday = (t0 + timedelta(hours=7)).date()
        first_monday -= timedelta(days=first_monday.weekday())
        for c in sorted(weekly_only):
            for w in range(WEEKS + 1):
                week: date = first_monday + timedelta(weeks=w)
                if datetime.combine(week + timedelta(days=4), datetime.min.time(), UTC) > NOW:
                    continue
                if rnd.random() < 0.15:
                    continue  # some weeks not reported
                wid += 1
                rec = rnd.randint(20, 120)
                onl = int(rec * rnd.random())
                res = int(rec * 0.9)
                submitted = datetime.combine(
                    week + timedelta(days=rnd.choice((3, 4, 5))), datetime.min.time(), UTC
                )
                self.weekly.append(
                    (
                        wid,
                        c,
                        week,
                        rec,
                        onl,
                        int(onl * 0.6),
                        res,
                        int(res * 0.9),
                        rnd.randint(0, 5),
                        40,
                        12,
                        "final",
                        None,
                        submitted,
                    )
                )
        tid_ = 0
        for prov_id, _ in provinces:
            for ind, val in (("online_rate", 60.0), ("full_online_rate", 30.0), ("on_time_rate", 90.0)):
                tid_ += 1
                self.targets.append((tid_, prov_id, ind, "2026-Q4", val, None, t0))

    def summary(self) -> str:
        return (
            f"{PROVINCES} provinces, {len(self.communes):,} communes, {len(self.teams):,} teams, "
            f"{len(self.people):,} people, {len(self.dossiers):,} dossiers, "
            f"{len(self.sessions):,} help sessions, "
            f"{len(self.weekly):,} weekly reports"
        )


TABLES: list[tuple[str, str, list[str]]] = [
    ("units", "units", ["id", "code", "name", "kind", "parent_id", "path", "depth", "active", "created_at"]),
    ("people", "people", ["id", "display_name", "locale", "created_at"]),
    (
        "memberships",
        "memberships",
        ["id", "person_id", "unit_id", "role", "active", "created_at", "ended_at"],
    ),
    (
        "dossiers",
        "dossiers",
        [
            "id", "code", "unit_id", "procedure_code", "procedure_name", "mode", "received_at", "due_at",
            "finished_at", "post_return", "status", "source", "recorded_by", "created_at", "updated_at",
        ],
    ),
    (
        "sessions",
        "help_sessions",
        [
            "id", "volunteer_id", "unit_id", "occurred_at", "logged_at", "activity", "place", "citizens",
            "result", "dossier_code", "procedure", "note", "deleted_at",
        ],
    ),
    (
        "weekly",
        "weekly_reports",
        [
            "id", "unit_id", "week_start", "received", "received_online", "received_full_online", "resolved",
            "resolved_on_time", "overdue_open", "services_offered", "services_with_online", "status",
            "submitted_by", "submitted_at",
        ],
    ),
    ("targets", "kpi_targets", ["id", "unit_id", "indicator", "period", "target", "set_by", "set_at"]),
]  # fmt: skip


async def load_pg(url: str, data: Data) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port or 5432, database=u.database
    )
    try:
        for attr, table, cols in TABLES:
            await conn.copy_records_to_table(table, records=getattr(data, attr), columns=cols)
        for _attr, table, _cols in TABLES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def load_sqlite(path: Path, data: Data) -> None:
    import sqlite3

    def conv(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
        if isinstance(v, date):
            return v.isoformat()
        return v

    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        for attr, table, cols in TABLES:
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            rows: Sequence[tuple[Any, ...]] = getattr(data, attr)
            for start in range(0, len(rows), 50_000):
                db.executemany(sql, ([conv(v) for v in r] for r in rows[start : start + 50_000]))
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    result = await fn()  # warm-up (connection, statement caches, page cache)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


async def measure(url: str, data: Data, repeat: int) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    settings = kpi.settings_from({})
    week = kpi.period_of("week", kpi.local_day(NOW) - timedelta(days=7))
    province = await _unit(sessions, data.communes[0][2])
    commune = await _unit(sessions, data.communes[0][0])
    out: dict[str, Any] = {}

    async def all_communes() -> Any:
        async with sessions() as s:
            return await kpi.commune_findings(s, week, NOW, settings)

    async def one_province() -> Any:
        async with sessions() as s:
            return await kpi.child_table(s, None, province, week, NOW, settings)

    async def digest_of(unit: Any) -> Any:
        async with sessions() as s:
            return await digest.build(s, unit, week, NOW, settings)

    try:
        out["all"], findings = await timed(all_communes, repeat)
        out["lagging"] = len(findings)
        out["province"], table = await timed(one_province, repeat)
        out["province_rows"] = len(table)
        out["digest_province"], d = await timed(lambda: digest_of(province), repeat)
        out["digest_province_rows"] = len(d.rows)
        out["digest_commune"], d2 = await timed(lambda: digest_of(commune), repeat)
        out["digest_commune_rows"] = len(d2.rows)
        out["has_data"] = d.has_data and d2.has_data
    finally:
        await engine.dispose()
    return out


async def _unit(sessions: Any, unit_id: int) -> Any:
    from db.repositories import kpi as repo

    async with sessions() as s:
        unit = await repo.unit_by_id(s, unit_id)
    assert unit is not None
    return unit


class GcWatch:
    """Every garbage collection of this process while it is on: how long, which generation, and
    whether it started on the event loop's thread (a pass started by another thread holds the GIL,
    so it blocks the loop just the same)."""

    def __init__(self) -> None:
        self.passes: list[tuple[int, float, bool]] = []  # (generation, ms, on the loop's thread)
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._t0) * 1000
            self.passes.append(
                (info["generation"], ms, threading.current_thread() is threading.main_thread())
            )

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def full(self) -> tuple[int, float, int]:
        """(full passes, the longest ms, how many started off the loop's thread)."""
        full = [(ms, main) for gen, ms, main in self.passes if gen == 2]
        return len(full), max((ms for ms, _ in full), default=0.0), sum(1 for _, main in full if not main)


async def jobs_phase(url: str, data: Data, units: int | None, digest_in: Sequence[str]) -> dict[str, Any]:
    """Run every job at NOW on this data; a person's /help every 0.25 s during the weekly digest, which
    runs once per `digest_in` place: "thread" (its own thread and event loop in this process: the
    scheduler inside the bot before issue 18's last step, and `tocns jobs run` today) and "child"
    (a child process: the scheduler inside the bot now). The digest's rows are cleared between the
    two, so each run writes all of them."""
    from sqlalchemy import delete, insert

    from bot import scheduler
    from bot.assemble import build
    from bot.config import load_settings
    from bot.loopwatch import LoopWatch
    from db.models import ChannelAccount, Membership, OutboxMessage
    from handlers.core import ChatType, Incoming

    app = build(load_settings(environ={"TOCNS_DATABASE_URL": url, "TOCNS_CONFIG": str(ROOT / "config.yaml")}))
    out: dict[str, Any] = {"jobs": {}, "digest": {}}
    try:
        leaders = sorted(data.leaders.items())
        async with app.sessions() as s, s.begin():
            await s.execute(delete(ChannelAccount).where(ChannelAccount.external_id.like("lead-%")))
            rows = [
                {"channel": "telegram", "external_id": f"lead-{pid}", "chat_id": str(9_000_000 + pid),
                 "person_id": pid, "created_at": NOW}
                for _unit_id, pid in leaders
            ]  # fmt: skip
            await s.execute(insert(ChannelAccount), rows)
            if units is not None:  # fewer digests: end the other leaders' roles
                keep = {unit_id for unit_id, _ in leaders[:units]}
                await s.execute(
                    delete(Membership).where(Membership.role == "leader", Membership.unit_id.not_in(keep))
                )
        recipients = min(units or len(leaders), len(leaders))
        out["recipients"] = recipients
        for job in ("lagging_reminders", "report_reminder", "due_alert"):
            t0 = time.perf_counter()
            r = await scheduler.run_job(app, job, NOW, force=True)
            out["jobs"][job] = (r.longest_write_ms, r.messages, r.writes, time.perf_counter() - t0)
        for where in digest_in:
            async with app.sessions() as s, s.begin():
                await s.execute(delete(OutboxMessage).where(OutboxMessage.kind == "weekly_digest"))
            watch = LoopWatch()
            watch_task = asyncio.create_task(watch.run())
            answers: list[float] = []
            with GcWatch() as gcw:
                job = asyncio.create_task(
                    scheduler.run_job(app, "weekly_digest", NOW, force=True, in_child=where == "child")
                )
                t0 = time.perf_counter()
                k = 0
                while not job.done():
                    k += 1
                    msg = Incoming(
                        channel="telegram", chat_id=f"c-{k % 10}", user_id=f"c-{k % 10}", display_name="Dân",
                        update_key=f"bench:{where}:{k}:{time.time()}", supports_buttons=True,
                        chat_type=ChatType("private"), bot_username="tocns_bot", text="/help",
                    )  # fmt: skip
                    a0 = time.perf_counter()
                    outcome = await app.intake.handle(msg)
                    answers.append(time.perf_counter() - a0)
                    assert outcome.replies, "no answer to /help during the digest"
                    await asyncio.sleep(0.25)
                r = await job
            run = (r.longest_write_ms, r.messages, r.writes, time.perf_counter() - t0)
            watch.stop()
            await watch_task
            out["digest"][where] = {
                "run": run,
                "answers": answers,
                "loop": (watch.longest_ms, watch.longest_cpu_ms, watch.over_50ms),
                "gc": gcw.full(),
            }
    finally:
        await app.close()
    return out


def report_jobs(name: str, j: dict[str, Any]) -> tuple[list[str], str]:
    """The digest's table rows, and a line on every job's writes."""
    runs = {**j["jobs"], **{f"weekly_digest ({w})": d["run"] for w, d in j["digest"].items()}}
    longest = max(v[0] for v in runs.values())
    parts = [f"{k} {v[0]:.0f} ms ({v[1]} rows in {v[2]} writes, {v[3]:.1f} s)" for k, v in runs.items()]
    print(
        f"{name:10} jobs: longest write transaction {longest:.0f} ms "
        f"(goal < 200: {verdict(longest < 200)}) — " + "; ".join(parts)
    )
    lines = []
    for where, d in j["digest"].items():
        ans = d["answers"]
        worst = max(ans) if ans else float("nan")
        lw, lc, over = d["loop"]
        full, full_ms, off_loop = d["gc"]
        print(
            f"{name:10} digest computed in a {where} ({j['recipients']} leaders, {d['run'][3]:.1f} s): "
            f"/help {len(ans)} answers, p50 {median(ans) * 1000:.0f} ms, "
            f"p95 {percentile(ans, 95) * 1000:.0f} ms, "
            f"worst {worst * 1000:.0f} ms (goal < 1 s: {verdict(worst < 1)}); event loop longest block "
            f"{lw:.0f} ms wall / {lc:.0f} ms CPU, {over} over 50 ms (goal < 50 ms wall: {verdict(lw < 50)}); "
            f"full GC passes in this process: {full} (longest {full_ms:.0f} ms, {off_loop} started off the "
            f"loop's thread)"
        )
        lines.append(
            f"| {name} | {where} | {j['recipients']} | {d['run'][3]:.1f} | {d['run'][0]:.0f} "
            f"| {median(ans) * 1000:.0f} / {worst * 1000:.0f} {verdict(worst < 1)} "
            f"| {lw:.0f} / {lc:.0f}, {over} over 50 ms {verdict(lw < 50)} "
            f"| {full}, longest {full_ms:.0f} ms, {off_loop} off the loop's thread |"
        )
    return (
        lines,
        f"{name}: longest write transaction {longest:.0f} ms ({verdict(longest < 200)}) — "
        + "; ".join(parts),
    )


def report(name: str, r: dict[str, Any], load_s: float) -> list[str]:
    goal_all = GOALS["all_pg" if name == "PostgreSQL" else "all_sqlite"]
    lines = [
        (
            f"{name:10} load {load_s:.0f} s | all communes {r['all'] * 1000:.0f} ms "
            f"({r['lagging']} lagging; goal < {goal_all:g} s: {verdict(r['all'] < goal_all)}) | "
            f"one province {r['province'] * 1000:.0f} ms ({r['province_rows']} communes) | "
            f"digest province leader {r['digest_province'] * 1000:.0f} ms ({r['digest_province_rows']} rows; "
            f"goal < 200 ms: {verdict(r['digest_province'] < GOALS['digest'])}) | "
            f"digest commune leader {r['digest_commune'] * 1000:.0f} ms ({r['digest_commune_rows']} rows; "
            f"{verdict(r['digest_commune'] < GOALS['digest'])})"
        )
    ]
    print(lines[0])
    return [
        f"| {name} | {r['all'] * 1000:.0f} | < {goal_all * 1000:.0f}: {verdict(r['all'] < goal_all)} "
        f"| {r['province'] * 1000:.0f} | {r['digest_province'] * 1000:.0f} "
        f"| {r['digest_commune'] * 1000:.0f} | < 200: "
        f"{verdict(max(r['digest_province'], r['digest_commune']) < GOALS['digest'])} | {load_s:.0f} |"
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the communes, teams and rows")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (a scratch database is made)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after one warm-up (best is kept)")
    parser.add_argument("--keep-sqlite", default=None, help="keep the SQLite file here (re-used if present)")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--no-jobs", action="store_true", help="skip the jobs phase")
    parser.add_argument("--jobs-units", type=int, default=None, help="digest for this many leaders only")
    parser.add_argument(
        "--digest-in",
        default="thread,child",
        help="where the digest is computed, each in turn: thread (the baseline), child (the bot's scheduler)",
    )
    args = parser.parse_args()
    digest_in = [w for w in args.digest_in.split(",") if w]
    if not digest_in or set(digest_in) - {"thread", "child"}:
        parser.error("--digest-in: thread, child or both")
    logging.basicConfig(level=logging.WARNING)
    job_rows: list[str] = []
    job_lines: list[str] = []
    scale = 0.1 if args.quick else 1.0
    t0 = time.perf_counter()
    data = Data(scale)
    print(f"generated {data.summary()} in {time.perf_counter() - t0:.0f} s")
    # The generated rows (millions of tuples) live in this process only because it is a bench; keep
    # the garbage collector from walking them during the timed phases (the bot holds no such heap).
    gc.collect()
    gc.freeze()
    rows: list[str] = []
    if not args.pg_only:
        keep = Path(args.keep_sqlite) if args.keep_sqlite else None
        with tempfile.TemporaryDirectory(prefix="tocns-kpi-scale-") as tmp:
            path = keep or Path(tmp) / "kpi.db"
            url = f"sqlite+aiosqlite:///{path}"
            t1 = time.perf_counter()
            if keep is None or not keep.exists():
                await migrate_url(url)
                load_sqlite(path, data)
            else:
                await migrate_url(url)  # new indexes (e.g. a new migration) on a kept file
            load_s = time.perf_counter() - t1
            rows += report("SQLite", await measure(url, data, args.repeat), load_s)
            if not args.no_jobs:
                table, line = report_jobs("SQLite", await jobs_phase(url, data, args.jobs_units, digest_in))
                job_rows += table
                job_lines.append(line)
    if not args.sqlite_only:
        async with ScratchPg(args.pg) as url:
            t1 = time.perf_counter()
            await migrate_url(url)
            await load_pg(url, data)
            load_s = time.perf_counter() - t1
            rows += report("PostgreSQL", await measure(url, data, args.repeat), load_s)
            if not args.no_jobs:
                table, line = report_jobs(
                    "PostgreSQL", await jobs_phase(url, data, args.jobs_units, digest_in)
                )
                job_rows += table
                job_lines.append(line)
    if not args.no_write:
        append_section(
            "KPI at national scale",
            "Synthetic national data set (34 provinces, 3,321 communes, ~75,000 teams, 1M dossiers, 1M help "
            "sessions over 26 weeks, stored in time order as they would arrive; 2 % of dossiers never "
            "finished; 10 % of communes report weekly only), schema by the Alembic migrations, "
            "bulk-loaded then ANALYZEd. Times are the best of `--repeat` runs after a warm-up, calling "
            "`services.kpi.commune_findings` (all communes, one week: the Monday reminder job), "
            "`services.kpi.child_table` (one province's communes) and `services.digest.build` (a provincial "
            "and a commune leader's digest).",
            [
                f"Data: {data.summary()}.",
                "",
                "| database | all communes ms | goal | one province ms | digest (province) ms "
                "| digest (commune) ms | goal | load s |",
                "|---|---|---|---|---|---|---|---|",
                *rows,
                "",
                f"Jobs on the same data (`bot.scheduler.run_job`; each leader has a Telegram account); the "
                f"weekly digest computed in a thread of this process (the baseline) and in a child process "
                f"(the scheduler inside the bot), in the same run, ten people sending /help every 0.25 s "
                f"meanwhile. Machine load: {load_line()}.",
                "",
                "| database | digest computed in | recipients | digest s | longest write transaction ms "
                "(goal < 200) | /help during the digest p50 / worst ms (goal < 1 s) "
                "| event loop longest block wall / CPU ms (goal < 50 wall) "
                "| full GC passes in the bot's process |",
                "|---|---|---|---|---|---|---|---|",
                *job_rows,
                "",
                "Every job's writes (goal: longest write transaction < 200 ms):",
                "",
                *[f"- {line}" for line in job_lines],
            ],
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
