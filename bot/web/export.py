"""Excel exports of the dashboard's tables: text from people (unit names, procedures) is always a
string cell, never a formula (a name starting with "=" stays text); numbers are numbers."""

from __future__ import annotations

import io
from collections.abc import Sequence

CellValue = str | int | float | None


def xlsx(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[CellValue]],
    sheet: str = "Bảng",
    formats: Sequence[str | None] = (),
) -> bytes:
    """`formats`: a number format per column (None: General), e.g. '0.0"%"' for a rate column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31]

    def put(r: int, c: int, value: CellValue, bold: bool = False) -> None:
        cell = ws.cell(row=r, column=c)
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"  # openpyxl would read "=…" as a formula
        else:
            cell.value = value
        if bold:
            cell.font = Font(bold=True)

    put(1, 1, title, bold=True)
    for c, h in enumerate(header, start=1):
        put(2, c, h, bold=True)
    for r, line in enumerate(rows, start=3):
        for c, value in enumerate(line, start=1):
            put(r, c, value)
            fmt = formats[c - 1] if c - 1 < len(formats) else None
            if fmt and isinstance(value, int | float):
                ws.cell(row=r, column=c).number_format = fmt
    ws.column_dimensions["A"].width = 34
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
