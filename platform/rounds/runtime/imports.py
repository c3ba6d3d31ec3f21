"""CSV imports (org units, users, sites): reading the file and reporting every row error.

The rules every import follows:

- Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row
  is row 2. An error names its row and column, and its JSON pointer is
  ``/rows/<row>/<column>`` (``/rows/<row>`` when it concerns the whole row).
- Every error of every row is reported at once. A file with errors imports nothing, unless
  ``skip_bad_rows``: then the good rows are imported and the bad ones reported.
- The import runs in the caller's transaction: all of it is written, or none of it.
- The file is UTF-8 (with or without a byte order mark); a file that is not is read as
  GB 18030, which is how spreadsheet programs on Chinese Windows save CSV.

The HTTP side is here too: :func:`import_handler` is every import's endpoint
(``POST /api/imports/<what>``: the capability checked before the body is read, the file of a
request by :func:`csv_body`, the report answered as :class:`ImportOut`).

Imports: the foundation, ``runtime.access``, the web toolkit and the HTTP libraries; the
slices' imports use this module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem
from rounds.runtime import audit
from rounds.runtime.access import Principal
from rounds.textsafety import strip_unsafe
from rounds.web.security import CSV_UPLOAD

Progress = Callable[[str], None]


class ImportInvalid(InvalidInput, code="import_invalid", title="The file has errors"):
    """An import file that is empty, unreadable, or (unless bad rows are skipped) has bad rows;
    nothing of it is imported."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str
    code: str = "invalid"

    @property
    def pointer(self) -> str:
        return f"/rows/{self.row}/{self.column}" if self.column else f"/rows/{self.row}"

    def problem(self) -> Problem:
        return Problem(self.pointer, self.message, self.code,
                       params={"row": self.row, "column": self.column})

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


def row_errors(row: int, problems: Iterable[Problem], column_of: Callable[[str], str]
               ) -> list[RowError]:
    """Problems found by a service (pointers like ``/lat``) as errors of a CSV row."""
    out = []
    for p in problems:
        name = p.pointer.rsplit("/", 1)[-1] if p.pointer else ""
        out.append(RowError(row, column_of(name) if name else None, p.message, p.code))
    return out


@dataclass
class ImportReport:
    """What an import did: the rows read, how many were imported, every error."""

    what: str
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # codes or usernames, in file order
    # Users only: the passwords generated for blank ones, readable this one time.
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


@dataclass
class CsvTable:
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number, cells by column)


def decode(data: bytes | str) -> str:
    """The file's text, without NUL and bidirectional controls (names must read as stored)."""
    if isinstance(data, str):
        return strip_unsafe(data.removeprefix("\ufeff"))
    try:
        return strip_unsafe(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return strip_unsafe(data.decode("gb18030", errors="replace"))


def read_table(data: bytes | str, *, what: str, required: Iterable[str],
               known: Callable[[str], bool]) -> tuple[CsvTable, list[RowError]]:
    """The table, and the errors of the file itself (header, ragged rows).

    Header errors (a required column missing, an unknown or repeated column) are returned
    as errors of row 1; the caller refuses the file then, even with ``skip_bad_rows``,
    since every row would be read wrongly.
    """
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    records = [r for r in reader]
    errors: list[RowError] = []
    if not records or not any(c.strip() for c in records[0]):
        raise ImportInvalid(f"the {what} file is empty; the first row names the columns",
                            [RowError(1, None, "no header row", "required").problem()])
    columns = [c.strip() for c in records[0]]
    seen: set[str] = set()
    for c in columns:
        if not c:
            errors.append(RowError(1, None, "a column without a name", "invalid"))
        elif c in seen:
            errors.append(RowError(1, c, f"column {c!r} appears twice", "duplicate_id"))
        elif not known(c):
            errors.append(RowError(1, c, f"{c!r} is not a column of a {what} file",
                                   "unknown_column"))
        seen.add(c)
    for c in required:
        if c not in seen:
            errors.append(RowError(1, c, f"the column {c!r} is required", "required"))
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not rows
        if len(record) > len(columns):
            errors.append(RowError(number, None, f"{len(record)} cells but only "
                                   f"{len(columns)} columns", "ragged_row"))
        cells = {c: (record[i].strip() if i < len(record) else "")
                 for i, c in enumerate(columns) if c}
        rows.append((number, cells))
    return CsvTable(columns=[c for c in columns if c], rows=rows), errors


def refuse_if_header_wrong(errors: list[RowError], what: str) -> None:
    header = [e for e in errors if e.row == 1]
    if header:
        raise ImportInvalid(f"the {what} file cannot be read: its header has "
                            f"{len(header)} error{'s' if len(header) != 1 else ''}",
                            [e.problem() for e in header])


def begin(data: bytes | str, *, what: str, required: Iterable[str],
          known: Callable[[str], bool]) -> tuple[CsvTable, ImportReport]:
    """The table of an import and its report, which starts with the file's own errors
    (ragged rows); a wrong header refuses the file at once."""
    table, file_errors = read_table(data, what=what, required=required, known=known)
    refuse_if_header_wrong(file_errors, what)
    return table, ImportReport(what, rows=len(table.rows), errors=file_errors)


def settle(report: ImportReport, *, skip_bad_rows: bool) -> None:
    """Refuse the whole file when it has errors, unless bad rows are to be skipped."""
    if report.errors and not skip_bad_rows:
        rows = report.bad_rows
        raise ImportInvalid(
            f"nothing imported: {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}"
            f" in {len(rows)} of {report.rows} row{'s' if report.rows != 1 else ''}",
            [e.problem() for e in sorted(report.errors, key=lambda e: e.row)])


# -- the HTTP side of an import ------------------------------------------------------------------

class RowErrorOut(msgspec.Struct):
    row: int
    column: str | None
    pointer: str
    message: str
    code: str


class ImportOut(msgspec.Struct):
    what: str
    rows: int
    imported: int
    created: list[str]
    errors: list[RowErrorOut]
    passwords: dict[str, str]  # users only: generated passwords, shown this once


def import_out(report: ImportReport) -> ImportOut:
    return ImportOut(
        what=report.what, rows=report.rows, imported=report.imported, created=report.created,
        errors=[RowErrorOut(e.row, e.column, e.pointer, e.message, e.code)
                for e in report.errors], passwords=report.passwords)


async def csv_body(request: Request[Any, Any, Any]) -> bytes:
    """The CSV of an import: a multipart upload (field ``file``, or the first file) or the
    request body itself (``text/csv``)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        if upload is None:
            raise InvalidInput("no file in the form", [
                Problem("/file", "attach the CSV file as the form field 'file'", "required")])
        data = await upload.read()
        return data if isinstance(data, bytes) else str(data).encode()
    return await request.body()


# An import: ``(db, data, *, principal=, skip_bad_rows=)`` as the slices' ``import_*`` take.
Importer = Callable[..., Awaitable[ImportReport]]


async def run_import(db: AsyncSession, name: str, run: Importer, data: bytes, *,
                     principal: Principal, skip_bad_rows: bool = False) -> ImportReport:
    """An import by a person, with its one audit entry (how many rows, imported, skipped)
    in the same transaction; a refused file raises and so leaves no entry."""
    report = await run(db, data, principal=principal, skip_bad_rows=skip_bad_rows)
    audit.record(db, actor_id=principal.user_id, action=f"import.{name.replace('-', '_')}",
                 target_kind="import", target_id=name,
                 changes={"rows": report.rows, "imported": report.imported,
                          "skipped": len(report.bad_rows)})
    return report


def import_handler(name: str, run: Importer, *, what: str, capability: str
                   ) -> HTTPRouteHandler:
    """The endpoint of one import: ``POST /api/imports/<name>`` with a CSV body (``text/csv``
    or a multipart upload); 403 without ``capability``, 422 with every row error. ``name``
    with ``-`` for ``_`` names the handler too (and so its OpenAPI operation)."""

    async def handler(db: AsyncSession, principal: Principal,
                      request: Request[Any, Any, Any], skip_bad_rows: bool = False
                      ) -> ImportOut:
        principal.require(capability)  # before reading a possibly large body
        return import_out(await run_import(db, name, run, await csv_body(request),
                                           principal=principal, skip_bad_rows=skip_bad_rows))

    handler.__name__ = handler.__qualname__ = name.replace("-", "_")
    return post(f"/api/imports/{name}", status_code=200, tags=["imports"],
                opt=CSV_UPLOAD,  # bodies are CSV files, not JSON
                summary=f"Import {what} from CSV ({capability}); 422 with every row error"
                )(handler)
