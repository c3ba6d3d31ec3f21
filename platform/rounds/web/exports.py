"""CSV and XLSX downloads, streamed: the one writer of both, for every slice that exports.

A CSV goes out a line at a time as it is produced (a BOM first, so that spreadsheet programs
read UTF-8); an XLSX is written by XlsxWriter in ``constant_memory`` mode (each row flushed
to a temporary file as soon as the next begins) and then sent from that file in chunks,
the file deleted after. Cells are written as their values: numbers stay numbers, text
stays text (never a formula or a link, whatever it starts with).

Imports: the standard library and XlsxWriter; it knows no slice.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import xlsxwriter

from rounds.errors import NotFound

# Litestar adds "; charset=utf-8" to a text/ type itself (given here, it was sent twice).
FORMATS = {"csv": "text/csv",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CHUNK = 64 * 1024


def split_name(name: str) -> tuple[str, str | None]:
    """``units.csv`` → ("units", "csv"); ``units`` → ("units", None); another suffix 404."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return name, None
    if suffix not in FORMATS:
        raise NotFound(f"no export format {suffix!r} (csv or xlsx)")
    return stem, suffix


def disposition(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_line(values: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(["" if v is None else v for v in values])
    return out.getvalue()


def rows_csv(labels: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A header and rows as CSV lines, the BOM first."""
    yield "\ufeff" + csv_line(labels)
    for values in rows:
        yield csv_line(values)


def encoded(lines: Iterable[str]) -> Iterator[bytes]:
    for line in lines:
        yield line.encode("utf-8")


class Sheet:
    """A one-sheet workbook written row by row into a temporary file (constant memory)."""

    def __init__(self, title: str) -> None:
        handle, self.path = tempfile.mkstemp(suffix=".xlsx", prefix="rounds-export-")
        os.close(handle)
        self.book = xlsxwriter.Workbook(self.path, {"constant_memory": True,
                                                    "strings_to_numbers": False,
                                                    "strings_to_formulas": False,
                                                    "strings_to_urls": False})
        self.sheet = self.book.add_worksheet(title[:31] or "Sheet1")
        self.bold = self.book.add_format({"bold": True})
        self.percent = self.book.add_format({"num_format": "0.0%"})
        self.row = 0

    def header(self, labels: Sequence[str]) -> None:
        for col, label in enumerate(labels):
            self.sheet.write_string(self.row, col, label, self.bold)
        self.row += 1

    def write(self, values: Sequence[Any], percent: Sequence[bool] = ()) -> None:
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                self.sheet.write_boolean(self.row, col, value)
            elif isinstance(value, int | float):
                fmt = self.percent if col < len(percent) and percent[col] else None
                self.sheet.write_number(self.row, col, value, fmt)
            else:
                self.sheet.write_string(self.row, col, str(value))
        self.row += 1

    def close(self) -> str:
        self.book.close()
        return self.path


def send_file(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def rows_xlsx(title: str, labels: Sequence[str], rows: Iterable[Sequence[Any]],
              percent: Sequence[bool] = ()) -> Iterator[bytes]:
    """A header and rows as an XLSX workbook (``percent``: the columns of ratios 0..1,
    shown as 85%), sent in chunks from its temporary file."""
    sheet = Sheet(title)
    try:
        sheet.header(labels)
        for values in rows:
            sheet.write(values, percent)
        path = sheet.close()
    except BaseException:
        os.unlink(sheet.path)
        raise
    return send_file(path)
