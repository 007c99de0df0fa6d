"""Shared helpers for the bench scripts: machine line, doc sections, scratch databases.

Each bench appends a dated block under its own `## <heading>` in docs/benchmarks.md, leaving every
other section (other people's benches) untouched.
"""

from __future__ import annotations

import datetime as dtm
import os
import statistics
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# The `tocns` console script next to the interpreter running the bench (any venv, any checkout).
TOCNS = Path(sys.executable).parent / "tocns"


def machine() -> str:
    """`nproc` = 2, 23.4 GiB RAM, linux, Python 3.11.7"""
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return f"`nproc` = {os.cpu_count()}, {ram}, {sys.platform}, Python {sys.version.split()[0]}"


def load_line() -> str:
    """What else the machine was doing: the load average (1/5/15 min) against the core count."""
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, ValueError):
        return "load average unknown"
    return f"load average {one} / {five} / {fifteen} on {os.cpu_count()} cores (shared machine)"


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(ROOT)
    except ValueError:
        shown = script
    return " ".join(["python", str(shown), *sys.argv[1:]])


def percentile(values: Sequence[float], p: float) -> float:
    """p in 0..100 (nearest-rank on the sorted values)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def append_section(heading: str, intro: str, body: list[str]) -> None:
    """Append a dated block at the end of `## heading` (created with `intro` when missing).
    A `--quick` run is a smoke run: it never edits docs/benchmarks.md."""
    if "--quick" in sys.argv[1:]:
        print("--quick: docs/benchmarks.md left as it is")
        return
    DOC.parent.mkdir(exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    block = "\n".join(
        [
            f"### {dtm.date.today().isoformat()} — `{command_line()}`",
            "",
            f"Machine: {machine()}.",
            "",
            *body,
            "",
        ]
    )
    title = f"## {heading}"
    if f"\n{title}\n" not in text:
        text = text.rstrip("\n") + f"\n\n{title}\n\n{intro.strip()}\n"
    head, _, rest = text.partition(f"\n{title}\n")
    nxt = rest.find("\n## ")
    section, tail = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
    DOC.write_text(head + f"\n{title}\n" + section.rstrip("\n") + "\n\n" + block + tail, encoding="utf-8")
    print(f"written to {DOC.relative_to(ROOT)} under '{title}'")


def to_asyncpg_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url


class ScratchPg:
    """CREATE DATABASE tocns_bench_<random> on the server of `admin_url`; DROP on exit."""

    def __init__(self, admin_url: str, prefix: str = "tocns_bench") -> None:
        from sqlalchemy.engine import make_url

        admin = make_url(to_asyncpg_url(admin_url))
        self.name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.admin_url = admin.render_as_string(hide_password=False)
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        from sqlalchemy import text

        from db.engine import create_engine

        engine = create_engine(self.admin_url)
        try:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    async def __aenter__(self) -> str:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def migrate_url(url: str) -> None:
    """Build the schema with the Alembic migrations (what `tocns db upgrade` does)."""
    from db import migrate
    from db.engine import create_engine

    engine = create_engine(url)
    try:
        await migrate.upgrade(engine, url)
    finally:
        await engine.dispose()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
