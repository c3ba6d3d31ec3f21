"""Files to download: CSV lines and the headers that name the file.

The one CSV writer of Rounds (the dashboards' exports and the campaigns' answers use it):
a file starts with a byte order mark, so that spreadsheet programs (Excel) read UTF-8 and
show Chinese; ``None`` is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

CSV = "text/csv"  # Litestar adds "; charset=utf-8" to a text/ type (given here, it is twice)
BOM = "\ufeff"


def csv_line(values: Sequence[Any]) -> str:
    """One CSV row (with its line end); ``None`` is an empty cell."""
    out = io.StringIO()
    csv.writer(out).writerow(["" if v is None else v for v in values])
    return out.getvalue()


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A whole CSV file as lines: the BOM and the header first."""
    yield BOM + csv_line(header)
    for row in rows:
        yield csv_line(row)


def encoded(lines: Iterable[str]) -> Iterator[bytes]:
    """Lines as UTF-8 bytes, one at a time (for a streamed response)."""
    for line in lines:
        yield line.encode("utf-8")


def disposition(filename: str) -> dict[str, str]:
    """The headers that make a response a download named ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
