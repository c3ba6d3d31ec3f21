"""Months of work in the demo city: visits and scored submissions, up to yesterday.

Each field worker visits their assigned retailers on working days, at a pace of their own
(some are ahead of the plan, some behind), checks in near the shop (now and then too far
away or with a poor GPS fix: flagged), fills their role's standard with answers of their
own quality, and checks out. People change from month to month (``Temper``): some improve,
some slip, most stay about where they were, so the trends and the OKR tables show movement.
Now and then a phone was offline and sent its form a day or two later (``happened_at`` is
the visit's, ``submitted_at`` when it arrived). Every submission goes through the real form
validation and scoring, so the scores, failed items and alerts are what the engine gives;
rows are then written in bulk with their past times.
"""

from __future__ import annotations

import hashlib
import random
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.demo.answers import plausible_submission
from rounds.demo.city import DemoCity
from rounds.forms.compiled import compile_form
from rounds.rules.operations import distance_m
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import get_version
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions.documents import (
    failed_item_rows,
    photo_refs,
    score_columns,
    stored_evaluation,
)
from rounds.runtime.submissions.models import FailedItem, Submission, SubmissionPhoto
from rounds.runtime.visits.models import PlannedVisit, Visit

# Who does which standard on their visits (and visits a site a month when the role's plan
# says nothing).
WORK = {
    "customer_manager": ("customer_manager_visit", 2),
    "market_inspector": ("market_inspector_patrol", 1),
    "delivery_staff": ("delivery_service", 1),
}


SHOP_VISITOR = "customer_manager"  # whose last visit of the month is at the demo's shop


def tiny_png(seed: int) -> bytes:
    """A valid 1×1 PNG whose colour depends on the seed (so each is a different photo)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])  # 1×1, 8-bit RGB
    pixel = bytes([0, seed % 256, (seed * 7) % 256, (seed * 13) % 256])  # filter 0 + RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))


def working_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)
            if (first + timedelta(days=i)).weekday() < 6]  # Monday to Saturday


def month_start(day: date, back: int = 0) -> date:
    """The first day of ``day``'s month, ``back`` months earlier."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _clip(value: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, value))


@dataclass(frozen=True)
class Temper:
    """How one person works in the demo's first month, and which way they go after it:
    ``drift`` > 0 improves each month (more of the plan, better answers, fewer flagged
    check-ins, fewer late fixes), < 0 slips."""

    pace: float  # share of the month's plan done
    quality: float  # how often an answer is the good one
    flagged: float  # share of check-ins too far away or with a poor fix
    late: float  # share of their issues fixed after the due date
    drift: float

    def month(self, k: int) -> Temper:
        """The temper ``k`` months after the first."""
        d = self.drift * k
        return Temper(pace=_clip(self.pace + 1.5 * d, 0.5, 1.15),
                      quality=_clip(self.quality + d, 0.6, 0.99),
                      flagged=_clip(self.flagged - 0.5 * d, 0.01, 0.25),
                      late=_clip(self.late - 1.5 * d, 0.03, 0.6), drift=self.drift)


def tempers(user_ids: Iterable[int], seed: int = 7) -> dict[int, Temper]:
    """Each person's temper, the same for a seed and user (work and issues both read it)."""
    out: dict[int, Temper] = {}
    for uid in user_ids:
        rng = random.Random(f"temper:{seed}:{uid}")
        way = rng.choice((-1.0, 0.0, 0.0, 1.0, 1.0))  # slipping, steady, improving
        out[uid] = Temper(pace=rng.uniform(0.7, 1.05), quality=rng.uniform(0.72, 0.95),
                          flagged=rng.uniform(0.03, 0.12), late=rng.uniform(0.1, 0.3),
                          drift=way * rng.uniform(0.03, 0.07) + rng.uniform(-0.01, 0.01))
    return out


def _visit(rng: random.Random, uid: int, site_id: int, site: tuple[Any, Any, Any], *,
           day: date, tz: tzinfo, mood: Temper, content: dict[str, Any], standard: str,
           photos: list[str]) -> tuple[dict[str, Any],
                                       tuple[dict[str, Any], str, bytes, dict[str, Any]]]:
    """One visit of a day (its row) and the form its person filled there (to validate)."""
    lat, lng, attrs = site
    start = datetime.combine(day, time(9, 0), tzinfo=tz) + timedelta(
        seconds=rng.randint(0, 8 * 3600))
    far = rng.random() < mood.flagged * 0.45
    poor = rng.random() < mood.flagged * 0.55
    jitter = 0.004 if far else 0.0003
    at_lat = round(lat + rng.uniform(-jitter, jitter), 6)
    at_lng = round(lng + rng.uniform(-jitter, jitter), 6)
    accuracy = round(rng.uniform(60, 150) if poor else rng.uniform(5, 30), 1)
    dist = distance_m({"lat": at_lat, "lng": at_lng}, {"lat": lat, "lng": lng})
    flags = {k_: True for k_, on in (("far", dist is not None and dist > 100),
                                     ("poor_accuracy", accuracy > 50)) if on}
    minutes = rng.randint(6, 25)
    visit = {"user_id": uid, "site_id": site_id, "method": rng.choice(["gps", "qr"]),
             "checked_in_at": start.astimezone(UTC), "lat": at_lat, "lng": at_lng,
             "accuracy_m": accuracy, "distance_m": dist, "flags": flags,
             "flagged": bool(flags),
             "checked_out_at": (start + timedelta(minutes=minutes)).astimezone(UTC),
             "duration_s": minutes * 60}
    doc = plausible_submission(content, rng, quality=mood.quality, photo_ids=photos,
                               position=(lat, lng), today=day, ctx={"site": attrs})
    return visit, (visit, standard, msgspec.json.encode(doc),
                   {"site": attrs, "today": day.isoformat(), "now": start.isoformat()})


async def _photos_for(db: AsyncSession, data_dir: Any, user_ids: list[int]) -> dict[int, list[str]]:
    """Two stored photos per worker, so answers and evidence reference real uploads."""
    from rounds.runtime.storage.service import photo_id_for
    from rounds.runtime.storage.store import photo_store

    store = photo_store(data_dir)
    rows: list[dict[str, Any]] = []
    out: dict[int, list[str]] = {}
    for uid in user_ids:
        for k in range(2):
            data = tiny_png(uid * 2 + k)
            key = await store.put(data)
            digest = hashlib.sha256(data).hexdigest()
            pid = photo_id_for(uid, digest)
            rows.append({"id": pid, "sha256": digest, "content_type": "image/png",
                         "size": len(data), "storage_key": key, "uploaded_by": uid,
                         "width": 1, "height": 1})
            out.setdefault(uid, []).append(pid)
    if rows:
        await db.execute(insert(Photo), rows)
    return out


async def build_work(sessions: async_sessionmaker[AsyncSession], city: DemoCity, *,
                     today: date, months: int = 1, seed: int = 7, tz: tzinfo = UTC,
                     data_dir: Any = None, progress: Callable[[str], None] = print
                     ) -> tuple[int, int]:
    """Visits and submissions of ``months`` calendar months (this one and the ones before
    it) up to yesterday; with one month, from its first day or four weeks ago if earlier.
    The plans of those months (``generate_month_plans``) set each person's due visits.
    Returns (visits, submissions)."""
    from pathlib import Path

    rng = random.Random(seed + 1)
    yesterday = today - timedelta(days=1)
    firsts = [month_start(today, back) for back in range(months - 1, -1, -1)]
    # With one month, at least four weeks of history, early in a month too: the issues
    # found then have been worked on, closed, or gone overdue, as in a real month.
    start = firsts[0] if months > 1 else min(firsts[0], today - timedelta(days=28))
    days = working_days(start, yesterday)
    if not days:
        progress("  work: today is the first working day; nothing to show yet")
        return 0, 0
    async with sessions() as db:
        sites = {sid: (lat, lng, attrs) for sid, lat, lng, attrs in (await db.execute(
            select(Site.id, Site.lat, Site.lng, Site.attributes))).all()}
        assigned: dict[int, list[int]] = {}
        for site_id, user_id in (await db.execute(
                select(SiteAssignment.site_id, SiteAssignment.user_id)
                .order_by(SiteAssignment.site_id, SiteAssignment.user_id))).all():
            assigned.setdefault(user_id, []).append(site_id)
        versions: dict[str, DefinitionVersion] = {
            std: await get_version(db, std) for std, _ in WORK.values()}
        planned: dict[tuple[int, str], int] = {}
        for user_id, month, n in (await db.execute(
                select(PlannedVisit.user_id, PlannedVisit.month, PlannedVisit.visits).where(
                    PlannedVisit.month.in_([f.strftime("%Y-%m") for f in firsts])))).all():
            planned[(user_id, month)] = planned.get((user_id, month), 0) + n
        # The demo retailer's shop (shop1): its customer manager's last visit of the month
        # is there, so the shop has a visit of the last days to answer a survey about.
        shop = (await db.execute(select(User.site_id).where(
            User.username == city.usernames.get("retailer_user", "")))).scalar_one_or_none()
    forms = {std: compile_form(v.content, v.content_hash) for std, v in versions.items()}
    workers = [(uid, role) for role in WORK for uid in city.users.get(role, [])]
    moods = tempers([u for u, _ in workers], seed)
    async with sessions() as db, db.begin():
        photos = await _photos_for(db, Path(data_dir or "var"), [u for u, _ in workers])

    # Each month's days so far (the first month from ``start``) and all its working days.
    periods = []
    for k, first in enumerate(firsts):
        last = month_end(first)
        done = [d for d in days if first <= d <= last or (k == 0 and d < first)]
        periods.append((k, first.strftime("%Y-%m"), done, working_days(first, last)))
    visits: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], str, bytes, dict[str, Any]]] = []
    for uid, role in workers:
        standard, per_site = WORK[role]
        own = list(assigned.get(uid, []))
        if not own:
            continue
        for k, month, month_days, all_days in periods:
            if not month_days:
                continue
            mood = moods[uid].month(k)
            rng.shuffle(own)  # a round of its own each month
            due = planned.get((uid, month)) or len(own) * per_site
            # The month so far: the plan's share of the elapsed working days, at this pace.
            total = round(due * min(1.0, len(month_days) / len(all_days)) * mood.pace)
            daily = [total // len(month_days) + (1 if i < total % len(month_days) else 0)
                     for i in range(len(month_days))]
            if role == SHOP_VISITOR and shop in own and k == len(periods) - 1 and total:
                # The demo shop's customer manager: the month's last visit, on the last
                # working day, is at the demo shop.
                daily.reverse()
                final, here = (total - 1) % len(own), own.index(shop)
                own[final], own[here] = own[here], own[final]
            n = 0
            for day, count in zip(month_days, daily, strict=True):
                for _ in range(count):
                    site_id = own[n % len(own)]
                    n += 1
                    visit, entry = _visit(rng, uid, site_id, sites[site_id], day=day, tz=tz,
                                          mood=mood, content=versions[standard].content,
                                          standard=standard, photos=photos[uid])
                    visits.append(visit)
                    pending.append(entry)
    async with sessions() as db, db.begin():
        await db.execute(insert(Visit), visits)
        # Visit ids in insertion order: one query, matched on (user, check-in time).
        ids = {(u, at): vid for vid, u, at in (
            await db.execute(select(Visit.id, Visit.user_id, Visit.checked_in_at))).all()}
    progress(f"  visits: {len(visits)} over {len(days)} working days")

    submissions: list[dict[str, Any]] = []
    offline_before = datetime.combine(today - timedelta(days=3), time(), tzinfo=tz)
    failed: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    skipped = 0
    for visit, standard, body, ctx in pending:
        try:
            valid = forms[standard].validate(body, ctx)
        except Exception:
            skipped += 1  # an implausible combination; a real worker would have fixed it
            continue
        ev = valid.scored  # what a submission stores, as the service takes it
        at = visit["checked_out_at"] - timedelta(minutes=1)
        if rng.random() < 0.02 and visit["checked_in_at"] < offline_before:
            at += timedelta(hours=rng.uniform(6, 60))  # the phone was offline: sent later
        key = (visit["user_id"], visit["checked_in_at"])
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        version = versions[standard]
        submissions.append({
            "id": sid, "body_hash": hashlib.sha256(body).hexdigest(),
            "user_id": visit["user_id"], "site_id": visit["site_id"],
            "visit_id": ids.get(key), "definition_id": standard, "version_id": version.id,
            "content_hash": version.content_hash, "answers": valid.answers,
            "evidence": valid.evidence, **score_columns(ev),
            "evaluation": stored_evaluation(ev), "alert_count": len(ev.alerts),
            "failed_count": len(ev.failed), "submitted_at": at,
            "happened_at": visit["checked_in_at"]})  # the store files it on the visit's day
        failed += failed_item_rows(sid, ev.failed, visit["site_id"], at)
        # Linked as the API links them: who may see a photo follows from its submissions.
        links += [{"submission_id": sid, "photo_id": pid} for pid in sorted(set(
            photo_refs(forms[standard], valid.answers, valid.evidence).values()))]
    async with sessions() as db, db.begin():
        for i in range(0, len(submissions), 500):
            await db.execute(insert(Submission), submissions[i:i + 500])
        for i in range(0, len(failed), 1000):
            await db.execute(insert(FailedItem), failed[i:i + 1000])
        for i in range(0, len(links), 1000):
            await db.execute(insert(SubmissionPhoto), links[i:i + 1000])
    progress(f"  submissions: {len(submissions)} scored ({len(failed)} failed items"
             + (f"; {skipped} implausible drafts left out" if skipped else "") + ")")
    return len(visits), len(submissions)
