"""First answer after `./start.sh` on a fresh clone, end to end.

    .venv/bin/python bench/first_answer.py [--quick] [--restarts N] [--rev COMMIT] [--keep DIR] [--no-write]

Clones this checkout's committed HEAD (`git clone -q`; `--rev`: another commit, e.g. a baseline)
into a temporary directory and runs its `./start.sh` there as a newcomer would: no token (the console
channel), stdin a pipe, the same Python as this bench (`PYTHON=`, the interpreter `sys.executable`'s
venv was made from), the web dashboard on a free port (`TOCNS_WEB_PORT=0`), pip's cache as it is on
this machine. The clock starts at the line start.sh prints between installing and starting
(`starting tocns`); the bench then types `/help` and `lam giay khai sinh online the nao` (the
README's example, without diacritics) and notes when each answer is complete (the console's next
`› ` prompt). Then start.sh again in the same clone (`--restarts`, install skipped), same
measurements. Goal: first answer < 3 s after the install.
`--quick`: one restart; never edits docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import ROOT, append_section, load_line, median, verdict

GOAL = 3.0
STARTING = "starting tocns"
PROMPT = "› "
QUESTIONS = ("/help", "lam giay khai sinh online the nao")
TIMEOUT = 1800.0  # a fresh install downloads and builds wheels


@dataclass
class Run:
    label: str
    spawn_to_start: float = 0.0  # install (or nothing, on a restart) until the `starting` line
    ready: float = 0.0  # from the `starting` line to the console's first prompt
    answers: list[float] = field(default_factory=list)  # from the `starting` line
    texts: list[str] = field(default_factory=list)


def base_python() -> str:
    """The interpreter this bench's venv was made from (start.sh makes its own venv with it)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOCNS_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update({"PYTHON": base_python(), "TOCNS_WEB_PORT": "0", "PYTHONUNBUFFERED": "1"})
    return env


async def start_once(clone: Path, label: str) -> Run:
    run = Run(label)
    t_spawn = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        "./start.sh",
        cwd=clone,
        env=clean_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    started = asyncio.Event()
    t_start = 0.0
    err_tail: list[str] = []

    async def watch_stderr() -> None:
        nonlocal t_start
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = line.decode(errors="replace")
            err_tail[:] = [*err_tail[-40:], text]
            if STARTING in text and not started.is_set():
                t_start = time.monotonic()
                started.set()

    stderr_task = asyncio.create_task(watch_stderr())
    out = ""
    try:
        async with asyncio.timeout(TIMEOUT):
            await started.wait()
            run.spawn_to_start = t_start - t_spawn
            # Typed at once, as someone who starts typing when the install is done; answered in turn.
            proc.stdin.write(("\n".join(QUESTIONS) + "\n").encode())
            await proc.stdin.drain()
            prompts_before = None
            while len(run.answers) < len(QUESTIONS):
                chunk = await proc.stdout.read(4096)
                if not chunk:
                    raise SystemExit(f"{label}: start.sh ended early:\n{out[-2000:]}\n{''.join(err_tail)}")
                out += chunk.decode(errors="replace")
                prompts = out.count(PROMPT)
                if prompts_before is None and prompts:
                    prompts_before = 1  # the first prompt: ready for the first question
                    run.ready = time.monotonic() - t_start
                while prompts_before is not None and prompts > prompts_before + len(run.answers):
                    run.answers.append(time.monotonic() - t_start)
                    run.texts.append(out.split(PROMPT)[len(run.answers)].strip())
    except TimeoutError:
        raise SystemExit(
            f"{label}: no answer within {TIMEOUT:.0f} s:\n{out[-2000:]}\n{''.join(err_tail)}"
        ) from None
    finally:
        proc.stdin.close()  # Ctrl-D: the console ends, start.sh with it
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        await stderr_task
    return run


def show(run: Run) -> str:
    first = run.answers[0]
    line = (
        f"{run.label}: install/prep {run.spawn_to_start:.1f} s; "
        f"from `starting` to the prompt {run.ready:.2f} s, to the answer of "
        + ", ".join(f"{q!r} {a:.2f} s" for q, a in zip(QUESTIONS, run.answers, strict=True))
        + f" (goal first < {GOAL:g} s: {verdict(first < GOAL)})"
    )
    print(line)
    for q, text in zip(QUESTIONS, run.texts, strict=True):
        print(f"    {q!r} → {text.splitlines()[0][:100] if text else '(empty)'}")
    return line


async def measure(clone: Path, restarts: int) -> list[Run]:
    runs = [await start_once(clone, "fresh clone")]
    show(runs[0])
    for i in range(restarts):
        runs.append(await start_once(clone, f"restart {i + 1}"))
        show(runs[-1])
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one restart; never edits docs")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--rev", default="HEAD", help="the commit to clone (default: HEAD)")
    parser.add_argument("--keep", default=None, help="clone here and keep it (must not exist)")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    restarts = 1 if args.quick else args.restarts
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    tmp = None if args.keep else tempfile.mkdtemp(prefix="tocns-first-answer-")
    clone = Path(args.keep) if args.keep else Path(tmp or "") / "tocns"
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", head], check=True)
        load_at_start = load_line()
        runs = asyncio.run(measure(clone, restarts))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    again = [r.answers[0] for r in runs[1:]]
    summary = (
        f"first answer {runs[0].answers[0]:.2f} s after the install (goal < {GOAL:g} s: "
        f"{verdict(runs[0].answers[0] < GOAL)}); after a restart, median {median(again):.2f} s "
        f"({verdict(median(again) < GOAL)})"
    )
    print(summary)
    if args.no_write:
        return
    append_section(
        "First answer after ./start.sh on a fresh clone",
        "`bench/first_answer.py`: `git clone -q` of a commit (HEAD unless `--rev`), `./start.sh` "
        "there with stdin a pipe (console channel, no token); the clock starts at start.sh's "
        "`starting tocns` line (the install is done; the bot's start-up is inside the measured time); "
        "the bench types `/help` and `lam giay khai sinh online the nao` at once and notes when each "
        "answer is complete. Then start.sh again in the same clone (install skipped). Goal: first "
        "answer < 3 s after the install.",
        [
            f"Commit {head}. Load at the start: {load_at_start}; at the end: {load_line()}.",
            "",
            "| run | spawn → `starting` s | → ready (prompt) s | → answer to `/help` s "
            "| → answer to the FAQ question s | goal < 3 s |",
            "|---|---|---|---|---|---|",
            *[
                f"| {r.label} | {r.spawn_to_start:.1f} | {r.ready:.2f} | {r.answers[0]:.2f} "
                f"| {r.answers[1]:.2f} "
                f"| {verdict(r.answers[0] < GOAL)} |"
                for r in runs
            ],
            "",
            f"Answer to the FAQ question: “{runs[0].texts[1].splitlines()[0][:120]}”.",
        ],
    )


if __name__ == "__main__":
    main()
