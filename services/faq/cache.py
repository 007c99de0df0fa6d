"""The built FAQ index, kept on disk between starts.

Building the index (phrases, BM25 statistics, the classifier learned from ~2,000 labelled questions)
takes ~0.9 s; reading it back takes ~0.04 s. `./start.sh` builds it while installing (the demo seed
assembles the app), so the first start after an install — and every restart — answers sooner.

The file's name is a digest of everything the index is made from: the knowledge files (names, sizes,
modification times), the matcher settings, the matcher's own source files and the Python version. A
change to any of them is a new name, so a stale index is never read; older files are removed when a
new one is written. Anything wrong with the file (unreadable, truncated, another version's) is the
same as no file: the index is built as before. The directory is the application's own (like its
SQLite database): whoever can write there can already change the code and the data.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from services.faq.index import FaqIndex

log = logging.getLogger("tocns.faq")

PREFIX = "faq-index-"
_CODE = Path(__file__).resolve().parent


def _code_stamp() -> tuple[Any, ...]:
    files = sorted(_CODE.glob("*.py"))
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def key_for(stamp: Sequence[Any]) -> str:
    """The file name for an index made from `stamp` (knowledge files and settings) by this code."""
    raw = repr((tuple(stamp), _code_stamp(), sys.version_info[:3], pickle.HIGHEST_PROTOCOL))
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()[:24] + ".pickle"


def load_or_build(directory: Path | None, stamp: Sequence[Any], build: Callable[[], FaqIndex]) -> FaqIndex:
    """The index kept in `directory` for `stamp`, else `build()` (then kept for the next start).
    `directory` None: no cache, always build."""
    if directory is None:
        return build()
    path = directory / key_for(stamp)
    try:
        data: bytes | None = path.read_bytes()
    except OSError:  # not built yet (or unreadable)
        data = None
    if data is not None:
        try:
            index = pickle.loads(data)  # the application's own file (module docstring)
        except Exception as exc:  # truncated, another version's classes…: build it again
            log.info("FAQ index cache %s not used: %s", path.name, type(exc).__name__)
        else:
            if isinstance(index, FaqIndex):
                return index
    index = build()
    _store(directory, path, index)
    return index


def _store(directory: Path, path: Path, index: FaqIndex) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
        # Written aside, then renamed: a reader (another worker starting) never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".faq-index-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        for old in directory.glob(PREFIX + "*.pickle"):
            if old != path:
                with contextlib.suppress(OSError):
                    old.unlink()
    except OSError as exc:  # a read-only directory: run without the cache
        log.info("FAQ index cache not written in %s: %s", directory, exc)
