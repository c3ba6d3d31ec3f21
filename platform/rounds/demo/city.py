"""A realistic demo city: org units, staff, retailers, assignments (and a month of work).

Modelled on the source document's city company (鄂州): a city company with four management
stations, each with its market department areas; customer managers, market inspectors and
delivery staff per station; retailers spread around the city centre. ``scale`` multiplies
the number of retailers and staff (``rounds demo --scale 5`` for benchmarks).
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.auth import hash_password
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site, SiteAssignment

CENTRE = (30.3912, 114.8948)  # 鄂州市中心
DEMO_PASSWORD = "rounds-demo"
STATIONS = [
    ("echeng", "鄂城管理所", "Echeng station", 0.0),
    ("huarong", "华容管理所", "Huarong station", 90.0),
    ("liangzihu", "梁子湖管理所", "Liangzihu station", 180.0),
    ("gedian", "葛店管理所", "Gedian station", 270.0),
]
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田"
            "董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "红梅"]
SHOP_KINDS = [("便利店", "convenience_store"), ("烟酒店", "tobacco_alcohol_shop"),
              ("超市", "supermarket"), ("副食店", "grocery"), ("商店", "grocery")]
STREETS = ["滨湖北路", "南浦路", "寿昌大道", "武昌大道", "古楼街", "江碧路", "凤凰路", "吴都大道",
           "鄂城大道", "文星路", "明塘路", "光明大道", "葛店大道", "华容大道", "梁子大道"]


@dataclass
class DemoCity:
    org_units: dict[str, int] = field(default_factory=dict)
    users: dict[str, list[int]] = field(default_factory=dict)  # role -> user ids
    usernames: dict[str, str] = field(default_factory=dict)  # a sample username per role
    sites: list[int] = field(default_factory=list)
    stations_of_sites: dict[int, str] = field(default_factory=dict)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _position(rng: random.Random, bearing_deg: float) -> tuple[float, float]:
    """A point in the station's quarter of the city, denser towards the centre."""
    angle = math.radians(bearing_deg + rng.uniform(-45, 45))
    km = 15 * math.sqrt(rng.random()) ** 1.3
    dlat = km / 111.0 * math.cos(angle)
    dlng = km / (111.0 * math.cos(math.radians(CENTRE[0]))) * math.sin(angle)
    return round(CENTRE[0] + dlat, 6), round(CENTRE[1] + dlng, 6)


async def build_city(db: AsyncSession, *, scale: float = 1.0, seed: int = 7,
                     progress: Callable[[str], None] = print) -> DemoCity:
    """Create the org units, people, retailers and assignments of the demo city."""
    rng = random.Random(seed)
    city = DemoCity()
    if (await db.execute(select(func.count()).select_from(OrgUnit))).scalar_one():
        raise RuntimeError("the database already has org units; the demo needs an empty one")

    async def unit(code: str, kind: str, zh: str, en: str, parent: str | None) -> int:
        parent_id = city.org_units.get(parent) if parent else None
        parent_path = "/"
        if parent_id is not None:
            parent_path = (await db.execute(select(OrgUnit.path).where(
                OrgUnit.id == parent_id))).scalar_one()
        row = OrgUnit(code=code, kind=kind, name_zh=zh, name_en=en, parent_id=parent_id)
        db.add(row)
        await db.flush()
        row.path = f"{parent_path}{row.id}/"
        city.org_units[code] = row.id
        return row.id

    await unit("city", "city", "鄂州市烟草公司", "Ezhou city company", None)
    for code, zh, en, _ in STATIONS:
        await unit(code, "station", zh, en, "city")
        await unit(f"{code}_market", "market_department", zh.replace("管理所", "市场部"),
                   en.replace("station", "market department"), code)
    progress(f"  org units: {len(city.org_units)}")

    password_hash = hash_password(DEMO_PASSWORD)  # one hash: every demo user shares it
    users: list[dict[str, Any]] = []

    def user(username: str, role: str, unit_code: str, name: str | None = None) -> None:
        users.append({"username": username, "display_name": name or _person(rng),
                      "role_id": role, "org_unit_id": city.org_units[unit_code],
                      "password_hash": password_hash, "language": "zh", "active": True,
                      "phone": f"13{rng.randint(100000000, 999999999)}"})

    per_station = {"customer_manager": max(1, round(6 * scale)),
                   "market_inspector": max(1, round(2 * scale)),
                   "delivery_staff": max(1, round(1 * scale))}
    user("admin", "administrator", "city", "系统管理员")
    user("leader", "city_leader", "city", "市公司经理")
    # A cigarette manufacturer's user: the industry page's aggregated figures.
    user("industry1", "industry_user", "city", "卷烟工业企业 张")
    for i in range(max(1, round(2 * scale))):
        user(f"jicha{i + 1}", "enforcement_officer", "city")
    for code, _, _, _ in STATIONS:
        user(f"{code}_head", "station_head", code)
        for role, n in per_station.items():
            short = {"customer_manager": "cm", "market_inspector": "mi",
                     "delivery_staff": "ds"}[role]
            for i in range(n):
                user(f"{code}_{short}{i + 1}", role, f"{code}_market")
    await db.execute(insert(User), users)
    rows = (await db.execute(select(User.id, User.username, User.role_id, User.org_unit_id))
            ).all()
    by_station_role: dict[tuple[str, str], list[int]] = {}
    unit_code = {v: k for k, v in city.org_units.items()}
    for uid, username, role, org_unit_id in rows:
        city.users.setdefault(role, []).append(uid)
        city.usernames.setdefault(role, username)
        station = unit_code[org_unit_id].removesuffix("_market")
        by_station_role.setdefault((station, role), []).append(uid)
    progress(f"  staff: {len(rows)} (password for all: {DEMO_PASSWORD})")

    n_sites = max(8, round(2000 * scale))
    sites: list[dict[str, Any]] = []
    for i in range(n_sites):
        code, zh, _, bearing = STATIONS[i % len(STATIONS)]
        lat, lng = _position(rng, bearing)
        shop, business = rng.choice(SHOP_KINDS)
        owner = _person(rng)
        street = rng.choice(STREETS)
        sites.append({
            "site_kind": "retailer", "code": f"4207{i + 1:08d}",
            "name": f"{owner[0]}记{shop}" if rng.random() < 0.5 else f"{street[:2]}{owner}{shop}",
            "address": f"鄂州市{street}{rng.randint(1, 399)}号", "lat": lat, "lng": lng,
            "org_unit_id": city.org_units[f"{code}_market"],
            "qr_token": secrets.token_urlsafe(18),
        })
        km = math.dist((lat, lng), CENTRE) * 111
        sites[-1]["attributes"] = {
            "licence_no": f"4207{i + 1:08d}", "shop_name": sites[-1]["name"],
            "address": sites[-1]["address"], "owner_name": owner,
            "phone": f"13{rng.randint(100000000, 999999999)}", "business_type": business,
            "grade": rng.randint(1, 30), "delivery_cycle": rng.choice(["weekly", "biweekly"]),
            "market_area": "urban" if km < 6 else "rural",
            "licence_expires_on": f"{rng.randint(2027, 2031)}-{rng.randint(1, 12):02d}-01",
            "monthly_volume": rng.randint(20, 600),
        }
    await db.execute(insert(Site), sites)
    site_rows = (await db.execute(select(Site.id, Site.org_unit_id))).all()
    assignments: list[dict[str, Any]] = []
    counters: dict[tuple[str, str], int] = {}
    for sid, org_unit_id in site_rows:
        station = unit_code[org_unit_id].removesuffix("_market")
        city.sites.append(sid)
        city.stations_of_sites[sid] = station
        for role in per_station:
            staff = by_station_role[(station, role)]
            k = counters.get((station, role), 0)
            counters[(station, role)] = k + 1
            assignments.append({"site_id": sid, "role_id": role, "user_id": staff[k % len(staff)]})
    await db.execute(insert(SiteAssignment), assignments)
    progress(f"  retailers: {len(site_rows)}, assignments: {len(assignments)}")

    # A few retailers get their own accounts (the retailer's view of the platform).
    shop_users = [{"username": f"shop{i + 1}", "display_name": f"零售户{i + 1}",
                   "role_id": "retailer_user", "org_unit_id": site_rows[i][1],
                   "site_id": site_rows[i][0], "password_hash": password_hash,
                   "language": "zh", "active": True} for i in range(min(20, len(site_rows)))]
    await db.execute(insert(User), shop_users)
    city.usernames["retailer_user"] = "shop1"
    return city
