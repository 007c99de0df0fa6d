"""A job body in a process of its own, for the scheduler inside the bot.

A national digest (figures for thousands of units, texts, charts) computed in a thread of the bot
shared the GIL and the garbage collector with the event loop: full collections started in the job's
thread blocked the loop for 210–250 ms (docs/benchmarks.md). Here it runs as `python -m
bot.jobchild`, the way `tocns jobs run` is its own process.

The parent sends a JobSpec (no secrets) on the child's stdin and keeps stdin open: end of file there
means the parent is gone, and the child exits at once. The database URL comes from the environment
(TOCNS_DATABASE_URL), never from argv. The child computes on its own engine, in a read-only session,
and writes the messages back on stdout as length-prefixed pickled frames, then a DONE frame; the
parent writes nothing to the outbox until DONE arrived, so a crash or a timeout leaves nothing
half-written. A child still running when the caller is cancelled (the bot stops) is killed and
reaped before the cancellation goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import LogSettings
from bot.kernel import ROOT
from bot.logs import setup as setup_logging
from db.engine import create_engine, read_session_factory
from handlers import job_env, jobs
from handlers.i18n import Catalog
from services.kpi.settings import KpiSettings

log = logging.getLogger("tocns.jobchild")

# How the parent starts the child; tests put a crashing stand-in here.
COMMAND: tuple[str, ...] = (sys.executable, "-m", "bot.jobchild")
# A national digest draws ~3,400 charts (0.2–0.4 s each on a loaded 2-core machine): well under this.
TIMEOUT_SECONDS = 2 * 3600.0
NICE = 10  # the bot's people first, as for `tocns jobs run`
FRAME_MESSAGES = 100  # messages per frame…
FRAME_BYTES = 2_000_000  # …or about this much attachment data: each frame unpickles in a moment
_HEAD = struct.Struct(">cQ")  # kind, length
MESSAGES, DONE, ERROR = b"M", b"D", b"E"


class JobChildFailed(Exception):
    """The job's child process failed, died, or ran past TIMEOUT_SECONDS."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What a job body needs besides its database: all picklable, nothing secret."""

    job: str
    now: datetime
    period: str
    catalog: Catalog
    settings: KpiSettings
    tz: ZoneInfo
    locale: str
    log: LogSettings
    preview: bool = False  # `jobs run --partial` on a week under way: labelled, not the week's send


async def compute(engine: AsyncEngine, spec: JobSpec) -> list[job_env.Queued]:
    """The job body on a read-only session of `engine`: the messages it wants sent."""
    async with read_session_factory(engine)() as session:
        out: list[job_env.Queued] = []
        env = job_env.JobEnv(
            session,
            spec.catalog,
            spec.settings,
            spec.tz,
            spec.locale,
            spec.now,
            out=out,
            pause=session.commit,
            preview=spec.preview,
        )
        await jobs.run(spec.job, env, spec.period)
    return out


async def compute_with_own_engine(url: str, spec: JobSpec) -> list[job_env.Queued]:
    engine = create_engine(url)
    try:
        return await compute(engine, spec)
    finally:
        await engine.dispose()


# --- parent side ---------------------------------------------------------------------------------


async def run(spec: JobSpec, url: URL) -> list[job_env.Queued]:
    """Compute `spec` in a child process; raise JobChildFailed if it fails, dies or times out."""
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": url.render_as_string(hide_password=False),
        # The child imports this very checkout, wherever the bot was started from.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    proc = await asyncio.create_subprocess_exec(
        *COMMAND,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        limit=1 << 20,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                try:
                    proc.stdin.write(_frame(MESSAGES, pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)))
                    await proc.stdin.drain()
                    out = await _receive(proc.stdout)
                except (asyncio.IncompleteReadError, ConnectionError):
                    code = await proc.wait()
                    raise JobChildFailed(f"the job's process ended (exit code {code}) early") from None
                await proc.wait()
                return out
        except TimeoutError:
            raise JobChildFailed(f"no result after {TIMEOUT_SECONDS:.0f} s: process stopped") from None
    finally:
        if proc.returncode is None:  # failed, timed out, or the bot is stopping: no orphan, no zombie
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await asyncio.shield(proc.wait())
        proc.stdin.close()


async def _receive(stdout: asyncio.StreamReader) -> list[job_env.Queued]:
    out: list[job_env.Queued] = []
    while True:
        kind, size = _HEAD.unpack(await stdout.readexactly(_HEAD.size))
        body = await stdout.readexactly(size)
        if kind == DONE:
            return out
        if kind == ERROR:
            raise JobChildFailed(pickle.loads(body))
        out.extend(pickle.loads(body))  # one frame: a moment of the loop, then other work again


# --- child side ----------------------------------------------------------------------------------


def _frame(kind: bytes, body: bytes) -> bytes:
    return _HEAD.pack(kind, len(body)) + body


def _frames(items: Sequence[job_env.Queued]) -> Iterator[list[job_env.Queued]]:
    batch: list[job_env.Queued] = []
    size = 0
    for q in items:
        weight = len(q.reply.attachment.data) if q.reply.attachment else 200
        if batch and (len(batch) >= FRAME_MESSAGES or size + weight > FRAME_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(q)
        size += weight
    if batch:
        yield batch


def _read_spec(stdin: IO[bytes]) -> JobSpec:
    head = stdin.read(_HEAD.size)
    _, size = _HEAD.unpack(head)
    spec = pickle.loads(stdin.read(size))
    if not isinstance(spec, JobSpec):
        raise TypeError(f"expected a JobSpec, got {type(spec).__name__}")
    return spec


def _exit_with_parent(stdin: IO[bytes]) -> None:
    """The parent holds our stdin open while it waits; end of file: it is gone, so are we."""
    while stdin.read(65536):
        pass
    os._exit(3)


def main() -> int:
    stdin = sys.stdin.buffer
    # Our stdout carries the frames only: whatever a library prints goes to stderr instead.
    with os.fdopen(os.dup(1), "wb") as stdout:
        os.dup2(2, 1)
        spec = _read_spec(stdin)
        threading.Thread(target=_exit_with_parent, args=(stdin,), name="parent-watch", daemon=True).start()
        setup_logging(spec.log)
        with contextlib.suppress(OSError):
            os.nice(NICE)
        try:
            items = asyncio.run(compute_with_own_engine(os.environ["TOCNS_DATABASE_URL"], spec))
            for batch in _frames(items):
                stdout.write(_frame(MESSAGES, pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)))
        except Exception as exc:
            log.exception("job %s (%s) failed", spec.job, spec.period)
            stdout.write(_frame(ERROR, pickle.dumps(f"{type(exc).__name__}: {exc}")))
            return 1
        stdout.write(_frame(DONE, b""))
    return 0


def _main() -> NoReturn:
    code = main()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown of the job's heap: the parent is waiting


if __name__ == "__main__":
    # As `bot.jobchild`, not `__main__`: the JobSpec and Queued classes must be the pickled ones.
    from bot import jobchild

    jobchild._main()
