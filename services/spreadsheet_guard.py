"""Hostile spreadsheets: a 2 MB .xlsx whose sharedStrings inflate to 2 GB froze the whole bot.

Two defences, in order:
1. `check_archive` reads only the zip directory (milliseconds): entry count, total uncompressed size,
   compression ratio. The declared sizes are what `zipfile` will ever inflate (it stops there
   and checks the CRC), so a lying header gains nothing.
2. `open_guarded` parses in a child process (`python -m services.spreadsheet_guard`) under
   RLIMIT_AS / RLIMIT_CPU and a wall-clock timeout, capping rows, cells per row and string
   lengths, and streams the rows back as JSON lines. Whatever the file does to the parser, only
   the child dies; the refusal is one sentence.

The bot calls `collect` off the event loop and outside the intake transaction (handlers/nhap.py
`prepare_upload`); `tocns import dossiers` streams through `open_guarded` directly.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from services.errors import DomainError, InvalidInput

log = logging.getLogger("tocns.upload")

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_entries: int
    max_uncompressed: int  # bytes, all entries together
    max_ratio: int  # uncompressed ÷ compressed, per entry above `ratio_floor`
    max_rows: int
    max_cells: int  # per row; further cells are dropped (no profile maps that far)
    max_chars: int  # per string cell; longer strings are cut
    max_output: int  # bytes of rows the child may send back
    memory: int  # RLIMIT_AS of the child
    cpu_seconds: int
    timeout: float
    ratio_floor: int = 1 * MB


# A chat upload (≤ 20 MB): a real one-stop export of that size inflates ~10×.
UPLOAD = Limits(
    max_entries=200,
    max_uncompressed=200 * MB,
    max_ratio=100,
    max_rows=200_000,
    max_cells=100,
    max_chars=2_000,
    max_output=256 * MB,
    memory=1536 * MB,
    cpu_seconds=120,
    timeout=150.0,
)
# The operator's own file on the server (`tocns import dossiers`): bigger, still bounded.
COMMAND_LINE = Limits(
    max_entries=1_000,
    max_uncompressed=2048 * MB,
    max_ratio=100,
    max_rows=5_000_000,
    max_cells=200,
    max_chars=10_000,
    max_output=1 << 62,  # streamed, never held
    memory=4096 * MB,
    cpu_seconds=3600,
    timeout=4000.0,
)


class SpreadsheetRefused(InvalidInput):
    """The file is refused as a whole; nothing was read into the database."""

    key = "nhap.errors.hostile"


class GuardFailed(InvalidInput):
    """The parsing child failed by itself (not killed by a limit): our fault, not the file's."""

    key = "nhap.errors.guard_failed"


# How the parsing child is started; tests put a failing stand-in here.
CHILD: tuple[str, ...] = (sys.executable, "-m", "services.spreadsheet_guard")


def _is_xlsx(filename: str) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm"))


def check_archive(data: bytes | Path, filename: str, limits: Limits) -> None:
    """Refuse an archive whose directory promises too much; cheap (no inflating)."""
    if not _is_xlsx(filename):
        return
    name = filename[-60:]
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput("nhap.errors.unreadable") from None
    if len(infos) > limits.max_entries:
        raise SpreadsheetRefused("nhap.errors.hostile", name=name)
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise SpreadsheetRefused("nhap.errors.hostile", name=name)
    for i in infos:
        if i.file_size > limits.ratio_floor and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise SpreadsheetRefused("nhap.errors.hostile", name=name)


# --- the child process -----------------------------------------------------------------------


_PLAIN = (type(None), bool, int, float)
BATCH_ROWS = 500  # rows per JSON line: per-line overhead dominates with one row a line
READ_AHEAD = 40  # batches decoded ahead of the caller (≈ 20,000 rows)


def _default(value: Any) -> Any:
    """json.dumps hook: dates and times tagged, anything else as its text."""
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    return str(value)


def _hook(obj: dict[str, Any]) -> Any:
    """json.loads hook: the tagged dates and times back (other objects are status lines)."""
    if "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    if "$d" in obj:
        return date.fromisoformat(obj["$d"])
    if "$t" in obj:
        return time.fromisoformat(obj["$t"])
    return obj


def _cap(value: Any, max_chars: int) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, str):
        return value[:max_chars]
    if isinstance(value, date | time):
        return value
    return str(value)[:max_chars]


def _child(path: str, filename: str, limits: Limits, out: IO[str], profile: str = "generic") -> int:
    """Runs in the child: parse and write one JSON line per row, then a status line; first the
    sheet read, when it is not the workbook's first (the first one holding the profile's header)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    # After the limits: their imports count too.
    from services.dossiers.import_.profiles import has_header, load_profile
    from services.dossiers.import_.reading import open_sheet

    written = 0
    batch: list[Any] = []
    cap, width, chars = _cap, limits.max_cells, limits.max_chars

    def flush() -> bool:
        nonlocal written
        line = json.dumps(batch, default=_default, ensure_ascii=False)
        batch.clear()
        written += len(line) + 1
        if written > limits.max_output:
            out.write(json.dumps({"$error": "nhap.errors.hostile"}) + "\n")
            return False
        out.write(line + "\n")
        return True

    try:
        check_archive(Path(path), filename, limits)
        try:
            prof = load_profile(profile)
        except DomainError:  # the import names the unknown profile itself; read the first sheet
            sheet = open_sheet(Path(path), filename)
        else:
            sheet = open_sheet(Path(path), filename, lambda head: has_header(head, prof))
        try:
            if sheet.name is not None:
                out.write(json.dumps({"$sheet": sheet.name}, ensure_ascii=False) + "\n")
            for n, cells in sheet.rows:
                if n > limits.max_rows:
                    out.write(
                        json.dumps({"$error": "nhap.errors.too_many_rows", "limit": limits.max_rows}) + "\n"
                    )
                    return 0
                batch.append([n, [cap(c, chars) for c in cells[:width]]])
                if len(batch) >= BATCH_ROWS and not flush():
                    return 0
            if batch and not flush():
                return 0
        finally:
            sheet.close()
    except MemoryError:
        out.write(json.dumps({"$error": "nhap.errors.hostile"}) + "\n")
        return 0
    except InvalidInput as exc:
        if _out_of_memory(exc.__context__):  # open_sheet says "unreadable" for a MemoryError too
            out.write(json.dumps({"$error": "nhap.errors.hostile"}) + "\n")
            return 0
        out.write(json.dumps({"$error": exc.key, **{k: str(v) for k, v in exc.params.items()}}) + "\n")
        return 0
    except Exception as exc:
        # Parsers report running out of memory in their own words (lxml: "Memory allocation failed").
        key = "nhap.errors.hostile" if _out_of_memory(exc) else "nhap.errors.unreadable"
        out.write(json.dumps({"$error": key}) + "\n")
        return 0
    out.write(json.dumps({"$done": True}) + "\n")
    return 0


def _out_of_memory(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, MemoryError) or "memory" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@dataclass
class GuardedSheet:
    """Rows streamed from the child, in the shape of services.dossiers.import_.reading.Sheet;
    name (the sheet read, when not the first) is known once the first rows have arrived."""

    rows: Iterator[tuple[int, list[Any]]]
    total: int | None
    close: Any
    reader: str = "guarded"
    name: str | None = None


@dataclass(frozen=True)
class Collected:
    """Every row of an upload, and the sheet they come from when it is not the first."""

    rows: list[tuple[int, list[Any]]]
    sheet: str | None = None


def open_guarded(data: bytes | Path, filename: str, limits: Limits, profile: str = "generic") -> GuardedSheet:
    """Check the archive, then parse it in a bounded child; rows arrive as they are read.

    Iterating raises SpreadsheetRefused / InvalidInput when the child refuses or dies."""
    check_archive(data, filename, limits)
    temp: Path | None = None
    if isinstance(data, bytes):
        fd, name = tempfile.mkstemp(suffix=Path(filename).suffix[-5:] or ".bin", prefix="tocns-up-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        path, temp = Path(name), Path(name)
    else:
        path = data.resolve()  # the child runs in ROOT: a relative path is the caller's
    limits_json = json.dumps(asdict(limits))
    errors = tempfile.TemporaryFile()  # noqa: SIM115 — closed in close(); the child's traceback if it fails
    proc = subprocess.Popen(
        [*CHILD, str(path), filename, limits_json, profile],
        stdout=subprocess.PIPE,
        stderr=errors,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        bufsize=1 << 20,
    )
    short = filename[-60:]

    def close() -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                lines.get_nowait()
            reader.join(0.05)
        if proc.stdout is not None:
            proc.stdout.close()
        if temp is not None:
            temp.unlink(missing_ok=True)
        errors.close()

    # A reader thread drains the pipe into a bounded queue, so the child keeps parsing while the
    # caller writes to the database (a 64 KiB pipe alone would make the two take turns).
    lines: queue.Queue[Any] = queue.Queue(maxsize=READ_AHEAD)

    def drain() -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.put(json.loads(line, object_hook=_hook))
        except (OSError, ValueError):  # closed by close(), or a line cut short by a kill
            pass
        lines.put(None)

    reader = threading.Thread(target=drain, name="spreadsheet-guard-reader", daemon=True)

    timed_out = threading.Event()

    def kill_on_time() -> None:
        timed_out.set()
        proc.kill()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        timer = threading.Timer(limits.timeout, kill_on_time)
        timer.daemon = True
        timer.start()
        reader.start()
        done = False
        try:
            while (item := lines.get()) is not None:
                if isinstance(item, dict):
                    if "$sheet" in item:
                        guarded.name = str(item["$sheet"])
                        continue
                    if "$done" in item:
                        done = True
                        break
                    key = item.pop("$error")
                    if key == "nhap.errors.hostile":
                        raise SpreadsheetRefused(key, name=short)
                    raise InvalidInput(key, **({"name": short} | item))
                yield from ((int(n), cells) for n, cells in item)
        finally:
            timer.cancel()
        if not done:
            # Killed (a signal: the memory or CPU limit, or our clock) = the file asked too much.
            # An ordinary non-zero exit is the child's own failure (a bug, a broken install): not
            # the file's fault — logged with its traceback's last line, and said as such.
            code = proc.wait()
            if code > 0 and not timed_out.is_set():
                errors.seek(0)
                last = (errors.read()[-2000:].decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
                log.error("spreadsheet guard: the parser failed on its own (exit %d): %s", code, last[:300])
                raise GuardFailed("nhap.errors.guard_failed", name=short)
            raise SpreadsheetRefused("nhap.errors.hostile", name=short)

    guarded = GuardedSheet(rows(), None, close)
    return guarded


MAX_CHILDREN = 2  # uploads parsed at once; more wait for a free slot up to BUSY_WAIT seconds
BUSY_WAIT = 30.0
_SLOTS = threading.BoundedSemaphore(MAX_CHILDREN)


def collect(data: bytes, filename: str, limits: Limits = UPLOAD) -> list[tuple[int, list[Any]]]:
    """Every row of an upload, parsed in the bounded child (call it off the event loop)."""
    return collect_sheet(data, filename, limits).rows


def collect_sheet(data: bytes, filename: str, limits: Limits = UPLOAD, profile: str = "generic") -> Collected:
    """Every row of an upload and the sheet read, parsed in the bounded child (off the event loop)."""
    check_archive(data, filename, limits)  # refusals never wait for a slot
    if not _SLOTS.acquire(timeout=BUSY_WAIT):
        raise InvalidInput("nhap.errors.busy")
    try:
        sheet = open_guarded(data, filename, limits, profile)
        try:
            rows = list(sheet.rows)
            return Collected(rows, sheet.name)
        finally:
            sheet.close()
    finally:
        _SLOTS.release()


def _main(argv: list[str]) -> int:
    path, filename, raw, *rest = argv
    limits = Limits(**json.loads(raw))
    out = open(1, "w", buffering=1 << 20, encoding="utf-8", closefd=False)  # noqa: SIM115
    code = _child(path, filename, limits, out, *rest[:1])
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
