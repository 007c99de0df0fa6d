"""Spreadsheet exports never carry a live formula from user text (OWASP «CSV Injection»): a
team named `=HYPERLINK("http://…")` is written as text, and text beginning with = + - @ (or a
tab / carriage return, which some programs strip first) gets a leading apostrophe."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(DANGEROUS_START) else text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for csv.writer: every string neutralised."""
    return [neutralise(v) if isinstance(v, str) else v for v in values]


def append_row(ws: Any, values: Iterable[Any]) -> None:
    """`ws.append` for openpyxl, with every string cell stored as a string (never a formula)."""
    values = list(values)
    ws.append([neutralise(v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
