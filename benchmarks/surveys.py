"""Anonymous survey answers: POST /s/{token} end to end, under load, against a bare insert.

    .venv/bin/python benchmarks/surveys.py               # both databases, full run
    .venv/bin/python benchmarks/surveys.py --quick       # a small run
    .venv/bin/python benchmarks/surveys.py --db sqlite   # or postgresql, or both

The method is benchmarks/submissions.py's, for the page a consumer's phone posts:

1. **Seed** with the app's own code: migrations, the definitions, a company, and an open
   consumer campaign of ``consumer_satisfaction`` (one response per device); its shared link
   is signed with the key the server will use (``ROUNDS_SURVEYS_LINK_KEY``).
2. **Serve**: this file started again as a second process (``--serve``) runs uvicorn with one
   worker; its app is ``rounds.app.create_app`` as shipped (rate limits off:
   ``ROUNDS_SURVEYS_PER_MINUTE=0``, ``ROUNDS_SURVEYS_CAMPAIGN_PER_MINUTE=0``), plus one
   benchmark-only route:

   - ``full``  POST /s/{token}, the real page handler: the link verified, the campaign and
     its survey read, the form parsed and typed, validated, scored, stored once (the unique
     indexes deciding), the thank-you page rendered;
   - ``bare``  POST /bench/survey-bare: the form read, then the same row (same columns, the
     same answers and evaluation documents, a new id and device hash) inserted through the
     same database layer (the app's session and engine, SQLAlchemy Core); a short answer.
3. **Load** from this process: N clients, each on its own keep-alive connection, each answer
   from a device of its own (a new ``rounds_device`` cookie and response id per request, as
   N phones would), sending the next as soon as the previous answer arrived. The variants
   take turns in rounds (the order rotates) so machine noise hits each alike. Every answer
   must be 200; the rows stored must match.

Prints per database ``full / bare: R.RR (target >= 0.70)``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pg  # noqa: E402  (this folder: the benchmarks run as scripts)

SURVEY = "consumer_satisfaction"
KEY = "bench-survey-link-key-" + "k" * 24
FORM = {"f-shop_service": "5", "f-price_marked": "4", "f-brand_available": "3",
        "f-shop_environment": "4", "f-genuine_trust": "5", "f-no_minors": "yes",
        "f-market_order": "4", "f-overall_satisfaction": "satisfied",
        "f-improve_first": ["stock", "prices"]}
TARGET = 0.70


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(database_url: str, data_dir: str) -> dict[str, str]:
    return {"ROUNDS_DATABASE_URL": database_url, "ROUNDS_DATA_DIR": data_dir,
            "ROUNDS_DEFINITIONS_DIR": str(ROOT / "definitions"),
            "ROUNDS_NODE_MODULES_DIR": str(ROOT / "node_modules"),
            "ROUNDS_SURVEYS_LINK_KEY": KEY, "ROUNDS_SURVEYS_PER_MINUTE": "0",
            "ROUNDS_SURVEYS_CAMPAIGN_PER_MINUTE": "0", "ROUNDS_LOG_LEVEL": "warning"}


# -- seed -------------------------------------------------------------------------------------

async def seed(database_url: str) -> tuple[int, str]:
    """A company, a manager and an open consumer campaign; (campaign id, its link's path)."""
    import datetime as dt

    from rounds.db import create_engine, session_factory, transaction
    from rounds.definitions.loader import load_documents
    from rounds.migrate import upgrade
    from rounds.runtime.definitions.service import get_version, sync
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.surveys import links
    from rounds.runtime.surveys.models import CONSUMER, OPEN, SurveyCampaign

    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as db:
            docs, problems = load_documents([ROOT / "definitions"])
            assert not problems, problems
            await sync(db, docs)
            await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                  name_en="City")
            user = await create_user(db, username="manager", display_name="manager",
                                     role_id="city_leader", org_unit_code="city",
                                     password="bench-password-1", language="zh")
            version = await get_version(db, SURVEY)
            now = dt.datetime.now(dt.UTC)
            campaign = SurveyCampaign(
                title="消费者满意度调查", survey_id=SURVEY, version_id=version.id,
                audience=CONSUMER, targeting={}, follow_visit=None, one_per="device",
                target_responses=100_000, period_start=now.date(),
                period_end=(now + dt.timedelta(days=30)).date(),
                opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=30),
                status=OPEN, created_by=user.id)
            db.add(campaign)
            await db.flush()
            cid = int(campaign.id)
    finally:
        await engine.dispose()
    return cid, f"/s/{links.campaign_link(KEY.encode(), cid)}"


# -- the benchmark's server -------------------------------------------------------------------

def bench_handler(campaign_id: int) -> Any:
    """POST /bench/survey-bare: the row the full path stores, inserted through the same
    database layer, with nothing else done."""
    import msgspec
    from litestar import Request, Response, post
    from sqlalchemy.ext.asyncio import AsyncSession

    from rounds.db import table_of, utcnow
    from rounds.runtime.submissions.documents import score_columns, stored_evaluation
    from rounds.runtime.surveys import public_pages
    from rounds.runtime.surveys.models import SurveyCampaign, SurveyResponse
    from rounds.runtime.surveys.responses import body_digest, campaign_form

    table = table_of(SurveyResponse)
    made: dict[str, Any] = {}

    async def template(db: AsyncSession) -> dict[str, Any]:
        """The documents of one valid response, worked out once (the bare path does not)."""
        if not made:
            campaign = await db.get(SurveyCampaign, campaign_id)
            assert campaign is not None
            content = await public_pages.survey_content(db, campaign.version_id)

            class Form(dict[str, Any]):
                def getall(self, key: str, default: Any) -> Any:
                    value = self.get(key, default)
                    return value if isinstance(value, list) else [value]

            answers = public_pages.answers_of(content, Form(FORM))
            body = msgspec.json.encode({"answers": answers})
            fv = await campaign_form(db, campaign)
            valid = fv.form.validate(body, None, "zh")
            columns = score_columns(valid.scored)
            del columns["passed"]
            made.update({"body_hash": body_digest(body), "campaign_id": campaign.id,
                         "definition_id": campaign.survey_id,
                         "version_id": campaign.version_id, "respondent": "consumer",
                         "answers": valid.answers,
                         "evaluation": stored_evaluation(valid.scored), **columns})
        return made

    names = {"AsyncSession": AsyncSession, "Request": Request, "Response": Response, "Any": Any}

    @post("/bench/survey-bare", include_in_schema=False, opt=public_pages.PUBLIC_FORM,
          status_code=200, signature_namespace=names)
    async def bare(request: Request[Any, Any, Any], db: AsyncSession) -> Response[bytes]:
        form = await request.form()
        row = dict(await template(db))
        now = utcnow()
        device = request.cookies.get(public_pages.DEVICE_COOKIE) or ""
        row.update(id=str(form.get("response_id")), submitted_at=now, happened_at=now,
                   device_hash=public_pages.device_hash(device, campaign_id))
        await db.execute(table.insert().values(row))
        return Response(b"<!doctype html><p>ok</p>", media_type="text/html")

    return bare


def serve(port: int, database_url: str, data_dir: str, campaign_id: int) -> None:
    import uvicorn

    from rounds.app import create_app
    from rounds.settings import load_settings

    app = create_app(load_settings(server_env(database_url, data_dir)))
    app.register(bench_handler(campaign_id))
    # Dev only: ROUNDS_BENCH_PROFILE=<file> profiles the server (a pstats file at shutdown).
    profile_to = os.environ.get("ROUNDS_BENCH_PROFILE")
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()

        def dump_profile() -> None:
            profiler.disable()
            profiler.dump_stats(profile_to)

        app.on_shutdown.append(dump_profile)
        profiler.enable()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_keep_alive=300)


# -- load -------------------------------------------------------------------------------------

async def load(url: str, path: str, clients: int, per_client: int) -> tuple[float, int]:
    """``clients`` phones, each answering ``per_client`` times as a new device; (seconds,
    answers that were not 200)."""
    import httpx

    bad = 0

    async def phone() -> None:
        nonlocal bad
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            for _ in range(per_client):
                headers = {"Cookie": f"rounds_device={secrets.token_urlsafe(24)}"}
                data = {"response_id": str(uuid.uuid4()), **FORM}
                r = await c.post(path, data=data, headers=headers)
                if r.status_code != 200:
                    bad += 1
                    if bad <= 3:
                        print(f"  {r.status_code} {r.text[:300]}")

    start = time.perf_counter()
    await asyncio.gather(*(phone() for _ in range(clients)))
    return time.perf_counter() - start, bad


def count(database_url: str) -> int:
    from sqlalchemy import text

    from rounds.db import create_engine

    async def run() -> int:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text(
                    "SELECT count(*) FROM survey_responses"))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def run_one(db_name: str, database_url: str, data_dir: str, *, clients: int, per_client: int,
            rounds: int) -> float:
    campaign_id, path = asyncio.run(seed(database_url))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), database_url, data_dir,
         str(campaign_id)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the benchmark's server did not start")
            time.sleep(0.2)
        variants = {"full": path, "bare": "/bench/survey-bare"}
        asyncio.run(load(url, path, 4, 5))  # warm up: caches, connections
        asyncio.run(load(url, variants["bare"], 4, 5))
        seconds = {k: 0.0 for k in variants}
        sent = {k: 0 for k in variants}
        order = list(variants)
        for n in range(rounds):
            for name in order[n % 2:] + order[:n % 2]:
                took, bad = asyncio.run(load(url, variants[name], clients, per_client))
                if bad:
                    raise RuntimeError(f"{name}: {bad} answers were not 200")
                seconds[name] += took
                sent[name] += clients * per_client
        stored = count(database_url)
        expected = sum(sent.values()) + 40
        if stored != expected:
            raise RuntimeError(f"{stored} rows stored, {expected} answers sent")
        rates = {k: sent[k] / seconds[k] for k in variants}
        ratio = rates["full"] / rates["bare"]
        print(f"{db_name}: full {rates['full']:.0f}/s, bare {rates['bare']:.0f}/s "
              f"({clients} clients, {sent['full']} answers each)")
        print(f"{db_name}: full / bare: {ratio:.2f} (target >= {TARGET:.2f})")
        return ratio
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--serve", nargs=4, metavar=("PORT", "URL", "DIR", "CAMPAIGN"))
    args = parser.parse_args()
    if args.serve:
        port, url, data_dir, campaign = args.serve
        serve(int(port), url, data_dir, int(campaign))
        return
    per_client, rounds = (10, 2) if args.quick else (40, 4)
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run_one("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", tmp,
                    clients=args.clients, per_client=per_client, rounds=rounds)
    if args.db in ("postgresql", "both"):
        with tempfile.TemporaryDirectory() as tmp, \
                bench_pg.postgres_database(f"rounds_bench_surveys_{os.getpid()}") as url:
            run_one("postgresql", url, tmp, clients=args.clients, per_client=per_client,
                    rounds=rounds)


if __name__ == "__main__":
    main()
