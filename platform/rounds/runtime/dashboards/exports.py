"""Exports, streamed: every dashboard table as CSV or XLSX, and the raw submissions of one
definition version with one column per item (labels in the reader's language).

Nothing is held whole in memory. A CSV goes out a row at a time as it is produced; an XLSX
is written by XlsxWriter in ``constant_memory`` mode (each row flushed to a temporary file
as soon as the next begins) and then sent from that file in chunks, which is deleted after.
The raw submissions are read from the database with a server-side cursor
(``stream`` + ``yield_per``), so a year's submissions pass through a few hundred at a time.

Values are the JSON's: a ratio is 0..1 (a percentage format in XLSX shows it as 85%), so
an export parses back to exactly the figures the API returns.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import as_utc
from rounds.definitions.items import items_of
from rounds.errors import InvalidInput, NotFound, Problem
from rounds.i18n import pick
from rounds.runtime.access import Principal
from rounds.runtime.dashboards.service import Table, say
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import Submission
from rounds.runtime.submissions.service import visible
from rounds.web.downloads import csv_line, disposition, encoded

__all__ = ["FORMATS", "RawExport", "check_format", "disposition", "encoded", "raw_csv",
           "raw_export", "raw_xlsx", "split_name", "table_csv", "table_xlsx"]

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CHUNK = 64 * 1024
BATCH = 500  # submissions fetched from the cursor at a time
PERCENT_UNITS = ("ratio", "percent")


def split_name(name: str) -> tuple[str, str | None]:
    """``units.csv`` → ("units", "csv"); ``units`` → ("units", None); another suffix 404."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return name, None
    if suffix not in FORMATS:
        raise NotFound(f"no export format {suffix!r} (csv or xlsx)")
    return stem, suffix


# -- CSV (the writer is rounds.web.downloads, shared with the campaigns' answers) ----------------

_csv_line = csv_line


def table_csv(table: Table) -> Iterator[str]:
    """The table as CSV lines (a BOM first, so that spreadsheet programs read UTF-8)."""
    yield "\ufeff" + _csv_line([c.label for c in table.columns])
    for row in table.rows:
        yield _csv_line([row.get(c.key) for c in table.columns])


# -- XLSX ------------------------------------------------------------------------------------------

class _Sheet:
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


def _send_file(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def table_xlsx(table: Table) -> Iterator[bytes]:
    """The table as an XLSX workbook, sent in chunks from its temporary file."""
    sheet = _Sheet(table.title)
    try:
        sheet.header([c.label for c in table.columns])
        percent = [c.unit == "ratio" for c in table.columns]
        for row in table.rows:
            sheet.write([row.get(c.key) for c in table.columns], percent)
        path = sheet.close()
    except BaseException:
        os.unlink(sheet.path)
        raise
    return _send_file(path)


# -- raw submissions of one definition version ------------------------------------------

def _answer_text(item: Mapping[str, Any], value: Any, lang: str) -> Any:
    """An answer as a cell: numbers stay numbers, a choice its label in ``lang``, a list
    its parts joined, a position "lat,lng", a photo list its count."""
    if value is None:
        return None
    labels = {str(c.get("value")): pick(c.get("label"), lang, str(c.get("value")))
              for c in item.get("choices") or [] if isinstance(c, Mapping)}
    if isinstance(value, bool):
        return say(lang, "yes") if value else say(lang, "no")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, list):
        if item.get("type") in ("photo", "signature"):
            return len(value)
        return "; ".join(str(_answer_text(item, v, lang)) for v in value)
    if isinstance(value, Mapping):
        if "lat" in value and "lng" in value:
            return f"{value['lat']},{value['lng']}"
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


EXPORT_TYPES_SKIPPED = ("group",)


class RawExport:
    """The columns of one definition version's submissions and how to fill a row."""

    def __init__(self, version: DefinitionVersion, lang: str) -> None:
        self.version, self.lang = version, lang
        self.items = [ref.item for ref in items_of(dict(version.content))
                      if ref.group is None and ref.item.get("type") not in EXPORT_TYPES_SKIPPED]
        self.labels = [say(lang, "col_submission"), say(lang, "col_submitted_at"),
                       say(lang, "col_person"), say(lang, "col_code"), say(lang, "col_site"),
                       say(lang, "col_score"), say(lang, "col_percentage"),
                       say(lang, "col_passed"), say(lang, "col_failed")] + [
            pick(i.get("title"), lang, str(i.get("id"))) for i in self.items]

    def row(self, r: Any) -> list[Any]:
        answers = r.answers or {}
        passed = None if r.passed is None else (say(self.lang, "yes") if r.passed
                                                else say(self.lang, "no"))
        return [r.id, as_utc(r.submitted_at).isoformat(), r.display_name or "", r.code or "",
                r.name or "", r.score_value, r.percentage, passed, r.failed_count] + [
            _answer_text(i, answers.get(str(i.get("id"))), self.lang) for i in self.items]

    @property
    def filename(self) -> str:
        return f"{self.version.definition_id}-v{self.version.number}"


async def raw_export(db: AsyncSession, principal: Principal, definition_id: str,
                     number: int, lang: str) -> RawExport:
    """The export of one version, if the principal may see submissions beyond their own
    (``submission.view_scope``) or has their own (scope as the submission lists)."""
    version = (await db.execute(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition_id,
        DefinitionVersion.number == number))).scalar_one_or_none()
    if version is None or not isinstance(version.content, Mapping) \
            or version.content.get("kind") not in ("standard", "survey"):
        raise NotFound(f"no standard or survey {definition_id!r} version {number}")
    return RawExport(version, lang)


def _raw_query(principal: Principal, export: RawExport) -> Any:
    t = Submission
    return (select(t.id, t.submitted_at, t.answers, t.score_value, t.percentage, t.passed,
                   t.failed_count, User.display_name, Site.code, Site.name)
            .join(User, User.id == t.user_id).outerjoin(Site, Site.id == t.site_id)
            .where(t.version_id == export.version.id, visible(principal))
            .order_by(t.submitted_at, t.id)
            .execution_options(yield_per=BATCH))


async def _rows(sessions: async_sessionmaker[AsyncSession], principal: Principal,
                export: RawExport) -> AsyncIterator[list[Any]]:
    async with sessions() as db:
        result = await db.stream(_raw_query(principal, export))
        async for r in result:
            yield export.row(r)


async def raw_csv(sessions: async_sessionmaker[AsyncSession], principal: Principal,
                  export: RawExport) -> AsyncIterator[str]:
    yield "\ufeff" + _csv_line(export.labels)
    async for values in _rows(sessions, principal, export):
        yield _csv_line(values)


async def raw_xlsx(sessions: async_sessionmaker[AsyncSession], principal: Principal,
                   export: RawExport) -> AsyncIterator[bytes]:
    sheet = _Sheet(export.filename)
    try:
        sheet.header(export.labels)
        async for values in _rows(sessions, principal, export):
            sheet.write(values)
        path = sheet.close()
    except BaseException:
        os.unlink(sheet.path)
        raise
    for chunk in _send_file(path):
        yield chunk


def check_format(fmt: str | None) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"{fmt!r} is not an export format", [
            Problem("/format", "csv or xlsx", "enum", "path")])
    return fmt


