"""Reading the export file: .xlsx (streamed by openpyxl, or read fast by calamine when it
fits) and .csv, as numbered rows of cells."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from services.dossiers.import_.profiles import HEADER_SEARCH_ROWS, ImportStructureError

# python-calamine (Rust) reads .xlsx ~15× faster than openpyxl but holds the sheet's values in
# memory (~80 bytes a cell, measured), and a crafted sheet (one cell at XFD1048576) makes it
# abort the whole process. So it reads only files given as a path (the command line, the
# operator's own file) whose size estimate fits; uploads to the bot (bytes) and anything larger
# are streamed by openpyxl.
FAST_XLSX_MAX_BYTES = 256 * 1024 * 1024
_BYTES_PER_CELL = 80
_MIN_XML_PER_CELL = 32  # '<c r="B12345"><v>1</v></c>': a size-based estimate errs on the high side
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


Rows = Iterator[tuple[int, list[Any]]]
# Whether a sheet's first rows hold the list's header (the workbook's first such sheet is read).
Chooser = Callable[[list[tuple[int, list[Any]]]], bool]


@dataclass
class Sheet:
    """Rows of a file as (row number, cell values); total is a row estimate for progress bars;
    name is the sheet read when it is not the workbook's first (the summary names it)."""

    rows: Rows
    total: int | None
    close: Callable[[], None] = lambda: None
    reader: str = "csv"
    name: str | None = None


class SheetLike(Protocol):
    """A Sheet, or rows streamed from the parsing child (services.spreadsheet_guard)."""

    rows: Rows
    total: int | None
    name: str | None

    def close(self) -> None: ...


def open_sheet(data: bytes | Path, filename: str, choose: Chooser | None = None) -> Sheet:
    name = filename.lower()
    try:
        if name.endswith((".xlsx", ".xlsm")):
            return _open_xlsx(data, choose)
        if name.endswith((".csv", ".txt")):
            return _open_csv(data)
    except ImportStructureError:
        raise
    except Exception:
        raise ImportStructureError("nhap.errors.unreadable") from None
    raise ImportStructureError("nhap.errors.bad_type", name=filename[-40:])


def _open_xlsx(data: bytes | Path, choose: Chooser | None = None) -> Sheet:
    if isinstance(data, Path) and _fast_xlsx_fits(data):
        try:
            return _open_xlsx_calamine(data, choose)
        except Exception:  # not installed, or refused the file: openpyxl decides
            pass
    return _open_xlsx_openpyxl(data, choose)


def _pick(count: int, first_rows: Callable[[int], Rows], choose: Chooser | None) -> int:
    """The index of the first sheet whose first rows hold the header; the first sheet when none
    does (its error is the one reported) or when there is one sheet."""
    if choose is None or count < 2:
        return 0
    for index in range(count):
        if choose(list(islice(first_rows(index), HEADER_SEARCH_ROWS))):
            return index
    return 0


def _open_xlsx_openpyxl(data: bytes | Path, choose: Chooser | None = None) -> Sheet:
    from openpyxl import load_workbook

    source: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    wb = load_workbook(source, read_only=True, data_only=True)

    def numbered(index: int) -> Rows:
        return enumerate((list(r) for r in wb.worksheets[index].iter_rows(values_only=True)), start=1)

    try:
        index = _pick(len(wb.worksheets), numbered, choose)
    except Exception:
        wb.close()
        raise
    ws = wb.worksheets[index]
    total = ws.max_row if isinstance(ws.max_row, int) else None

    def gen() -> Iterator[tuple[int, list[Any]]]:
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, list(row)

    return Sheet(gen(), total, wb.close, "openpyxl", ws.title if index else None)


def _open_xlsx_calamine(data: bytes | Path, choose: Chooser | None = None) -> Sheet:
    from python_calamine import CalamineWorkbook

    wb = (
        CalamineWorkbook.from_filelike(io.BytesIO(data))
        if isinstance(data, bytes)
        else CalamineWorkbook.from_path(str(data))
    )
    try:
        index = _pick(
            len(wb.sheet_names), lambda i: enumerate(wb.get_sheet_by_index(i).iter_rows(), start=1), choose
        )
        if index:
            # The size estimate that chose this reader was the first sheet's: stream the other.
            raise ValueError("not the first sheet")
        ws = wb.get_sheet_by_index(index)
    except Exception:
        wb.close()
        raise
    end = ws.end
    closed = False

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            wb.close()

    def gen() -> Iterator[tuple[int, list[Any]]]:
        # iter_rows starts at the sheet's first row (leading empty rows included), so the row
        # numbers are the sheet's, as with openpyxl; tests/test_import.py checks this.
        yield from enumerate(ws.iter_rows(), start=1)

    return Sheet(gen(), end[0] + 1 if end else 0, close, "calamine")


def _fast_xlsx_fits(data: bytes | Path) -> bool:
    """Whether the first sheet's values fit FAST_XLSX_MAX_BYTES: cells from its <dimension> when
    that is plausible, else from the size of its XML (cheap: the zip directory, workbook.xml and
    the sheet's first bytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as z:
            info = z.getinfo(_first_sheet_part(z))
            with z.open(info) as fh:
                found = _DIMENSION.search(fh.read(4096))
            cells = info.file_size // _MIN_XML_PER_CELL + 1
            if found is not None:
                c1, r1, c2, r2 = found.groups()
                rows = int(r2 or r1) - int(r1) + 1
                cols = _column_number(c2 or c1) - _column_number(c1) + 1
                # Trusted only when no larger than the XML could hold (some writers say "A1").
                if rows * cols * 1024 + 65536 >= info.file_size:
                    cells = rows * cols
            strings = sum(i.file_size for i in z.infolist() if i.filename.endswith("sharedStrings.xml"))
            return cells * _BYTES_PER_CELL + strings <= FAST_XLSX_MAX_BYTES
    except Exception:  # no estimate: take the streaming reader
        return False


def _first_sheet_part(z: zipfile.ZipFile) -> str:
    import xml.etree.ElementTree as ET  # workbook.xml and its rels are small

    book = ET.fromstring(z.read("xl/workbook.xml"))
    rel_id = next(
        v for e in book.iter() if e.tag.endswith("}sheet") for k, v in e.attrib.items() if k.endswith("}id")
    )
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = next(e.attrib["Target"] for e in rels.iter() if e.attrib.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _open_csv(data: bytes | Path) -> Sheet:
    if isinstance(data, Path):
        fh: Any = data.open("r", encoding="utf-8-sig", newline="")
        size = data.stat().st_size
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1258", errors="strict")
        fh = io.StringIO(text, newline="")
        size = len(data)
    sample = fh.read(4096)
    fh.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(fh, dialect)

    # ~80 bytes a row is a fair guess for a progress bar; the bar corrects itself at the end.
    return Sheet(enumerate(reader, start=1), max(1, size // 80), fh.close, "csv")
