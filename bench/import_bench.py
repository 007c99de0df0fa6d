"""Import benchmark: generate a one-stop export (.xlsx and .csv), import it with the real CLI
(`tocns import dossiers`) into a fresh SQLite database, print rows/s and peak memory.

    python bench/import_bench.py            # 100,000 rows
    python bench/import_bench.py --quick    # 5,000 rows
    python bench/import_bench.py --kind xlsx --repeat 3   # best of 3 (fresh SQLite database each)
    python bench/import_bench.py --kind xlsx --parse-only # the readers alone: no database
    python bench/import_bench.py --rows 20000 --kind xlsx --database-url postgresql+asyncpg://…/db
    (an existing, empty database: both kinds would share it, so pick one; no --repeat)

Each import runs in a child process so its peak resident memory (ru_maxrss) is its own. The
machine is shared and timings are noisy: --repeat N prints the best of N runs (and every run).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["STT", "Mã hồ sơ", "Tên thủ tục", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả", "Trạng thái",
          "Hình thức nộp", "Người nộp (không nhập)", "Ghi chú"]  # fmt: skip
PROCS = ["Đăng ký khai sinh", "Đăng ký kết hôn", "Chứng thực bản sao từ bản chính", "Đăng ký tạm trú",
         "Cấp bản sao trích lục hộ tịch", "Đăng ký khai tử"]  # fmt: skip
STATUSES = ["Đã tiếp nhận", "Đang xử lý", "Đã trả kết quả", "Có kết quả", "Yêu cầu bổ sung"]
MODES = ["Trực tuyến toàn trình", "Trực tuyến một phần", "Trực tiếp"]


def rows(n: int) -> list[list[object]] | object:
    rng = random.Random(7)
    start = datetime(2026, 1, 5, 8, 0)
    for i in range(1, n + 1):
        received = start + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        due = received + timedelta(days=rng.choice((3, 5, 7, 10)))
        status = rng.choice(STATUSES)
        finished = received + timedelta(days=rng.randrange(1, 9)) if status in STATUSES[2:4] else None
        yield [i, f"000.00.19786.H46-{received:%y%m%d}-{i:06d}", rng.choice(PROCS), received, due, finished,
               status, rng.choice(MODES), "", "ghi chú thử"]  # fmt: skip


def write_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Hồ sơ")
    ws.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN — bản xuất thử"])
    ws.append([])
    ws.append(HEADER)
    for row in rows(n):  # type: ignore[union-attr]
        ws.append(row)
    wb.save(path)


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for row in rows(n):  # type: ignore[union-attr]
            w.writerow([v.strftime("%d/%m/%Y %H:%M") if isinstance(v, datetime) else ("" if v is None else v)
                        for v in row])  # fmt: skip


def parse_only(path: Path, n: int, repeat: int) -> None:
    """The reading ceiling: every cell of the sheet read, nothing parsed or stored."""
    from openpyxl import load_workbook

    def with_openpyxl() -> int:
        wb = load_workbook(path, read_only=True, data_only=True)
        rows = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        return rows

    def with_calamine() -> int:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        rows = sum(1 for _ in wb.get_sheet_by_index(0).iter_rows())
        wb.close()
        return rows

    for name, read in (("openpyxl read-only", with_openpyxl), ("python-calamine", with_calamine)):
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            try:
                read()
            except ImportError:
                print(f"parse only  {name:18}  (not installed)")
                break
            best = min(best, time.perf_counter() - t)
        else:
            print(f"parse only  {name:18}  {n / best:9,.0f} rows/s  {best:6.1f} s  (best of {repeat})")


def child(args: argparse.Namespace) -> None:
    """Run the real CLI in this process; print elapsed seconds and peak RSS as JSON."""
    from bot.cli import main

    started = time.perf_counter()
    try:
        main(["import", "dossiers", str(args.child), "--unit", "19786"])
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("BENCH " + json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024}), flush=True)


def run_child(file: Path, env: dict[str, str], show: bool) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(file)], env=env, capture_output=True, text=True, check=False
    )
    if show:
        sys.stderr.write(proc.stdout[-3000:])
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"import failed (exit {proc.returncode})")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH "))
    return dict(json.loads(line[len("BENCH ") :]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5,000 rows instead of 100,000")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--kind", choices=("xlsx", "csv", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="runs per kind; the best is printed last")
    parser.add_argument("--parse-only", action="store_true", help="time the .xlsx readers alone")
    parser.add_argument("--show", action="store_true", help="print the CLI's output")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args)
        return
    n = args.rows or (5_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="tocns-bench-") as tmp:
        d = Path(tmp)
        print(f"rows: {n:,}  python {sys.version.split()[0]}  cores: {os.cpu_count()}")
        if args.database_url and args.repeat > 1:
            raise SystemExit("--repeat needs a fresh database per run: only with the default SQLite")
        for kind, writer in (("xlsx", write_xlsx), ("csv", write_csv)):
            if args.kind not in (kind, "both"):
                continue
            path = d / f"export.{kind}"
            t = time.perf_counter()
            writer(path, n)
            gen = time.perf_counter() - t
            size = path.stat().st_size / 1024 / 1024
            if args.parse_only:
                if kind == "xlsx":
                    parse_only(path, n, args.repeat)
                continue
            results: dict[str, list[dict[str, float]]] = {"new": [], "re-import": []}
            for run in range(args.repeat):
                # A fresh database per file kind and run, so "new" really inserts every row.
                url = args.database_url or f"sqlite+aiosqlite:///{d / f'bench-{kind}-{run}.db'}"
                env = {**os.environ, "TOCNS_DATABASE_URL": url, "TOCNS_CONFIG": str(ROOT / "config.yaml"),
                       "PYTHONPATH": str(ROOT)}  # fmt: skip
                subprocess.run([sys.executable, "-m", "bot.cli", "demo", "seed"], env=env, check=True,
                               capture_output=True)  # fmt: skip
                results["new"].append(run_child(path, env, args.show))
                # every row already there: the "unchanged" path
                results["re-import"].append(run_child(path, env, False))
                db = url.split(":", 1)[0]
            for label, runs in results.items():
                shown = [*runs, min(runs, key=lambda r: r["seconds"])] if len(runs) > 1 else runs
                for i, r in enumerate(shown):
                    tag = "best" if i == len(runs) else f"run {i + 1}" if len(runs) > 1 else ""
                    print(
                        f"{db:17} {kind:4} {label:9} {n / r['seconds']:9,.0f} rows/s  {r['seconds']:6.1f} s  "
                        f"peak RSS {r['peak_mib']:6.0f} MiB  (file {size:.1f} MiB, generated in {gen:.1f} s)"
                        + (f"  {tag}" if tag else "")
                    )


if __name__ == "__main__":
    main()
