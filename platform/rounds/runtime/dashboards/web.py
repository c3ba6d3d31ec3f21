"""The dashboards' API (``/api/dashboard/...``): thin handlers over
:mod:`~rounds.runtime.dashboards.service` and :mod:`~rounds.runtime.dashboards.exports`.

Every table has three addresses: ``/api/dashboard/<table>`` (JSON),
``/api/dashboard/<table>.csv`` and ``/api/dashboard/<table>.xlsx`` (the same figures, streamed),
each taking ``month`` (YYYY-MM, this month by default), ``unit`` (an org unit in the
reader's scope, their own by default; any other is 404) and ``lang``. They are registered
one route a table and format, so the OpenAPI document names each with its media type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, get
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.dashboards import exports, grades, service
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, OptionalId

TAGS = ["dashboards"]
ABOUT = {
    "grades_units": "OKR grades of the units right under the unit shown, ranked per OKR",
    "grades_people": "OKR grades of the people in the unit's subtree, ranked per OKR",
    "grades_trend": "OKR grades of the unit and the units under it over the last six months",
    "units": "Figures per org unit under the unit shown (each unit's whole subtree), ranked",
    "people": "Figures per person in the unit's subtree, ranked by planned visits done",
    "trend": "The last six months' plan completion, coverage and average score per unit",
    "items": "The month's most-failed standard items, per unit under the unit shown",
    "funnel": "The month's issues: opened, rectified, accepted, closed, overdue, escalated",
    "ages": "The issues open now by age",
    "flagged": "Flagged check-ins of the month to review, per site and day",
}


class ColumnOut(msgspec.Struct):
    key: str
    label: str
    unit: str
    lower_better: bool


class TableOut(msgspec.Struct):
    """A dashboard table: its columns (label in the reader's language, unit: text, link,
    count, ratio 0..1, percent, minutes, hours, points, month) and rows of raw values."""

    name: str
    title: str
    month: str
    unit_id: int
    unit_name: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


class MapSite(msgspec.Struct):
    id: int
    name: str
    lat: float
    lng: float
    checkins: int
    flagged: int


class MapOut(msgspec.Struct):
    """The unit's sites, with today's check-ins (company time zone) from the store."""

    unit_id: int
    day: str
    sites: list[MapSite]
    checkins_today: int
    sites_today: int


class MonthOut(msgspec.Struct):
    """One person's month: figures by metric id, the facts behind them, their plan per site
    (what is left) and the funnel of their issues."""

    user_id: int
    display_name: str
    unit_name: str
    month: str
    figures: dict[str, float | None]
    sums: dict[str, dict[str, float]]  # per metric: the store's facts behind its figure
    planned: int
    left_visits: int
    left_sites: int
    sites: TableOut
    funnel: TableOut


def table_out(table: service.Table, month: str, unit_id: int, unit_name: str) -> TableOut:
    data = table.as_json()
    return TableOut(name=table.name, title=table.title, month=month, unit_id=unit_id,
                    unit_name=unit_name, columns=[ColumnOut(**c) for c in data["columns"]],
                    rows=table.rows)


async def dashboard_table(request: Request[Any, Any, Any], db: AsyncSession, *,
                          principal: Principal, settings: Settings, name: str,
                          month: str | None, unit: int | None
                          ) -> tuple[service.Table, str, int, str]:
    lang = request_language(request)
    root = await service.unit_in_scope(db, principal, unit)
    chosen = service.month_or_now(month, settings.tz)
    tree = await service.subtree(db, root)
    table = await grades.dashboard_table(db, principal, tree, name=name, month=chosen,
                                         lang=lang, now=datetime.now(UTC))
    return table, chosen, root.id, tree.name(root.id, lang)


def _json_handler(name: str) -> Any:
    @get(f"/api/dashboard/{name}", tags=TAGS, summary=ABOUT[name],
         operation_id=f"dashboard_{name}", name=f"dashboard_{name}")
    async def handler(request: Request[Any, Any, Any], db: AsyncSession,
                      principal: Principal, settings: Settings, *,
                      month: str | None = None, unit: OptionalId = None) -> TableOut:
        table, chosen, unit_id, unit_name = await dashboard_table(
            request, db, principal=principal, settings=settings, name=name, month=month,
            unit=unit)
        return table_out(table, chosen, unit_id, unit_name)

    return handler


def _table_file(table: service.Table, fmt: str, filename: str) -> Stream:
    """A dashboard table as a streamed CSV or XLSX download."""
    body = exports.encoded(exports.table_csv(table)) if fmt == "csv" \
        else exports.table_xlsx(table)
    return Stream(body, media_type=exports.FORMATS[fmt],
                  headers=exports.disposition(filename))


def _export_handler(name: str, fmt: str) -> Any:
    @get(f"/api/dashboard/{name}.{fmt}", tags=TAGS, media_type=exports.FORMATS[fmt],
         summary=f"{ABOUT[name]} ({fmt.upper()}, streamed)",
         operation_id=f"dashboard_{name}_{fmt}", name=f"dashboard_{name}_{fmt}")
    async def handler(request: Request[Any, Any, Any], db: AsyncSession,
                      principal: Principal, settings: Settings, *,
                      month: str | None = None, unit: OptionalId = None) -> Stream:
        table, chosen, unit_id, _ = await dashboard_table(
            request, db, principal=principal, settings=settings, name=name, month=month,
            unit=unit)
        return _table_file(table, fmt, f"{name}-{chosen}-unit{unit_id}.{fmt}")

    return handler


@get("/api/dashboard/map", tags=TAGS, summary="Sites of the unit and today's check-ins")
async def dashboard_map(db: AsyncSession, principal: Principal, settings: Settings, *,
                        unit: OptionalId = None) -> MapOut:
    root = await service.unit_in_scope(db, principal, unit)
    tree = await service.subtree(db, root)
    points = await service.map_points(db, tree, today=datetime.now(settings.tz).date())
    return MapOut(unit_id=root.id, day=points["day"],
                  sites=[MapSite(**s) for s in points["sites"]],
                  checkins_today=points["checkins_today"], sites_today=points["sites_today"])


@get("/api/dashboard/month", tags=TAGS,
     summary="A person's month: my own, or someone's in my dashboard scope (user)")
async def person_month(request: Request[Any, Any, Any], db: AsyncSession,
                       principal: Principal, settings: Settings, *,
                       month: str | None = None, user: OptionalId = None) -> MonthOut:
    lang = request_language(request)
    person = await service.person_in_scope(db, principal, user)
    chosen = service.month_or_now(month, settings.tz)
    pm = await service.person_month(db, person, chosen, lang)
    return month_out(pm)


def month_out(pm: service.PersonMonth) -> MonthOut:
    unit_id = pm.user.org_unit_id
    return MonthOut(user_id=pm.user.id, display_name=pm.user.display_name,
                    unit_name=pm.unit_name, month=pm.month, figures=pm.figures,
                    sums=pm.sums, planned=pm.planned,
                    left_visits=pm.left_visits, left_sites=pm.left_sites,
                    sites=table_out(pm.sites, pm.month, unit_id, pm.unit_name),
                    funnel=table_out(pm.funnel, pm.month, unit_id, pm.unit_name))


PERSON_TABLES = {"my_sites": "A person's plan this month site by site: left, planned, done",
                 "my_funnel": "A person's issues this month, step by step"}


async def person_table(request: Request[Any, Any, Any], db: AsyncSession, *,
                       principal: Principal, settings: Settings, name: str,
                       month: str | None, user: int | None) -> tuple[service.Table, str, int]:
    person = await service.person_in_scope(db, principal, user)
    chosen = service.month_or_now(month, settings.tz)
    pm = await service.person_month(db, person, chosen, request_language(request))
    return (pm.sites if name == "my_sites" else pm.funnel), chosen, person.id


def _person_json(name: str) -> Any:
    @get(f"/api/dashboard/{name}", tags=TAGS,
         summary=f"{PERSON_TABLES[name]}; mine, or someone's in my dashboard scope (user)",
         operation_id=f"dashboard_{name}", name=f"dashboard_{name}")
    async def handler(request: Request[Any, Any, Any], db: AsyncSession,
                      principal: Principal, settings: Settings, *,
                      month: str | None = None, user: OptionalId = None) -> TableOut:
        table, chosen, _ = await person_table(request, db, principal=principal,
                                              settings=settings, name=name, month=month,
                                              user=user)
        return table_out(table, chosen, 0, "")

    return handler


def _person_export(name: str, fmt: str) -> Any:
    @get(f"/api/dashboard/{name}.{fmt}", tags=TAGS, media_type=exports.FORMATS[fmt],
         summary=f"{PERSON_TABLES[name]} ({fmt.upper()}, streamed); mine, or someone's in "
                 "my dashboard scope (user)",
         operation_id=f"dashboard_{name}_{fmt}", name=f"dashboard_{name}_{fmt}")
    async def handler(request: Request[Any, Any, Any], db: AsyncSession,
                      principal: Principal, settings: Settings, *,
                      month: str | None = None, user: OptionalId = None) -> Stream:
        table, chosen, user_id = await person_table(
            request, db, principal=principal, settings=settings, name=name, month=month,
            user=user)
        return _table_file(table, fmt, f"{name}-{chosen}-user{user_id}.{fmt}")

    return handler


def _raw_handler(fmt: str) -> Any:
    @get(f"/api/dashboard/submissions/{{definition_id:str}}/{{version:int}}/submissions.{fmt}",
         tags=TAGS, media_type=exports.FORMATS[fmt],
         summary=f"The submissions of one definition version, one column per item "
                 f"({fmt.upper()}, streamed; those I may see, as in the submission lists)",
         operation_id=f"dashboard_submissions_{fmt}", name=f"dashboard_submissions_{fmt}")
    async def handler(request: Request[Any, Any, Any], db: AsyncSession,
                      principal: Principal, definition_id: str, version: Id) -> Stream:
        export = await exports.raw_export(db, principal, definition_id, version,
                                          request_language(request))
        sessions = request.app.state.sessions
        body: Any = exports.raw_csv(sessions, principal, export) if fmt == "csv" \
            else exports.raw_xlsx(sessions, principal, export)
        if fmt == "csv":
            body = _encode_async(body)
        return Stream(body, media_type=exports.FORMATS[fmt],
                      headers=exports.disposition(f"{export.filename}.{fmt}"))

    return handler


async def _encode_async(lines: Any) -> Any:
    async for line in lines:
        yield line.encode("utf-8")


def handlers() -> list[Callable[..., Any]]:
    out: list[Any] = [dashboard_map, person_month]
    for name in grades.TABLES:
        out += [_json_handler(name), _export_handler(name, "csv"),
                _export_handler(name, "xlsx")]
    for name in PERSON_TABLES:
        out += [_person_json(name), _person_export(name, "csv"),
                _person_export(name, "xlsx")]
    out += [_raw_handler("csv"), _raw_handler("xlsx")]
    return out

