"""Market survey tasks on the campaign machinery, on SQLite and PostgreSQL: a campaign names
a survey instead of a standard; the drawn inspectors fill it at their drawn sites; its
answers are aggregated per question from the latest submission of each assignment only (not
an earlier one, not one at a site not drawn, by someone not drawn there, or outside the
period); the spec names exactly one form, of the kind its field says. Over HTTP too: the
answers' API and CSV (one server per database)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.draws import CampaignError
from rounds.runtime.campaigns import answers, service
from rounds.runtime.campaigns.answers import CampaignAnswers, QuestionAnswers
from rounds.runtime.definitions.service import get_version
from rounds.runtime.sites.models import SiteAssignment
from rounds.runtime.submissions import service as submissions
from rounds.runtime.visits import service as visits
from support.fieldwork import (
    STANDARD,
    Field,
    Live,
    body,
    live_city,
    load_definitions,
    principal,
    seed,
)

Sessions = async_sessionmaker[AsyncSession]
SURVEY = "market_price_stock"


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        return await seed(db)


def period() -> dict[str, str]:
    today = dt.date.today()
    return {"start": (today - dt.timedelta(days=2)).isoformat(),
            "end": (today + dt.timedelta(days=30)).isoformat()}


def survey_spec(field: Field, **changes: Any) -> dict[str, Any]:
    """Shops A and B drawn (shop C is not in the population): zhang serves A, so wang
    checks A and zhang checks B, whatever the seed."""
    return {"survey": SURVEY,
            "population": {"site_ids": [field.sites["shop_a"], field.sites["shop_b"]]},
            "sample": {"count": 2}, "pool": {"roles": ["customer_manager"]},
            "period": period()} | changes


def shop(stock: str, price: float | None, yuxi: float, marked: str, trend: str,
         remarks: str | None = None) -> dict[str, Any]:
    """Answers to the market survey: 中华's stock and price as given (no price when out of
    stock, the item is hidden then), the other brands ample, 玉溪 at ``yuxi``."""
    out: dict[str, Any] = {"zhonghua_stock": stock, "yuxi_stock": "ample", "yuxi_price": yuxi,
                           "yunyan_stock": "tight", "yunyan_price": 220,
                           "hongtashan_stock": "ample", "hongtashan_price": 100,
                           "prices_marked": marked, "sales_trend": trend}
    if price is not None:
        out["zhonghua_price"] = price
    if remarks is not None:
        out["remarks"] = remarks
    return out


async def fill(sessions: Sessions, field: Field, who: str, code: str,
               filled: dict[str, Any], at: dt.datetime) -> str:
    """``who`` checks in at shop ``code`` and submits the survey there, stored at ``at``."""
    async with transaction(sessions) as db:
        p = await principal(db, who)
        version = (await get_version(db, SURVEY)).content_hash
        view = await visits.check_in(db, p, qr_token=field.qr[code])
    doc = body(str(uuid.uuid4()), version, filled, visit_id=view.visit.id,
               definition_id=SURVEY)
    await submissions.submit(sessions, p, msgspec.json.encode(doc), lang="en", now=at)
    async with transaction(sessions) as db:
        await visits.check_out(db, p, view.visit.id)
    return str(doc["id"])


def question(found: CampaignAnswers, item_id: str) -> QuestionAnswers:
    return next(q for q in found.questions if q.item_id == item_id)


def counts(q: QuestionAnswers) -> dict[str, int]:
    return {c.value: c.count for c in q.choices}


async def test_a_survey_campaign_s_answers_count_only_its_own_latest_work(
        sessions: Sessions, city: Field) -> None:
    sites, now = city.sites, utcnow()
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        campaign = await service.create_campaign(db, li, title="Prices", tz=dt.UTC,
                                                 spec=survey_spec(city, sample={
                                                     "count": 2, "stratify_by": "org_unit"}))
        assert campaign.standard_id == SURVEY and "standard" not in campaign.spec
        record = await service.draw_campaign(db, li, campaign.id)
        # Nothing submitted yet: the questions, all unanswered.
        empty = await answers.campaign_answers(db, li, campaign.id)
    drawn = {d["site"]: d["team"] for s in record.result["strata"] for d in s["drawn"]}
    assert drawn == {sites["shop_a"]: [city.users["wang"]],
                     sites["shop_b"]: [city.users["zhang"]]}
    assert (empty.sample_size, empty.submissions, empty.form_kind) == (2, 0, "survey")
    assert question(empty, "zhonghua_stock").choices[0].share is None

    second = dt.timedelta(seconds=1)
    # wang at shop A, twice: only the later one counts.
    await fill(sessions, city, "wang", "shop_a", shop("tight", 480, 230, "yes", "rising"),
               now)
    await fill(sessions, city, "wang", "shop_a", shop("ample", 460, 230, "yes", "steady"),
               now + second)
    # zhang at shop B (drawn): out of stock, so no price for 中华.
    await fill(sessions, city, "zhang", "shop_b",
               shop("out", None, 250, "no", "falling", remarks="中华断货两周"), now + 2 * second)
    # Not this campaign's work: zhang at shop A (drawn, but for wang) ...
    await fill(sessions, city, "zhang", "shop_a", shop("tight", 700, 390, "no", "unsure"),
               now + 3 * second)
    # ... zhang at shop C (his own, but not drawn) ...
    async with transaction(sessions) as db:
        db.add(SiteAssignment(site_id=sites["shop_c"], role_id="customer_manager",
                              user_id=city.users["zhang"]))
    await fill(sessions, city, "zhang", "shop_c", shop("tight", 700, 390, "no", "unsure"),
               now + 4 * second)
    # ... and wang at shop A again, stored after the period's end.
    after = dt.datetime.fromisoformat(period()["end"]).replace(tzinfo=dt.UTC) + dt.timedelta(
        days=2)
    await fill(sessions, city, "wang", "shop_a", shop("tight", 700, 390, "no", "unsure"),
               after)

    async with sessions() as db:
        found = await answers.campaign_answers(db, await principal(db, "li"), campaign.id)
    assert (found.sample_size, found.submissions, found.draw_number) == (2, 2, 1)
    assert found.form_title.zh == "卷烟市场价格与库存调查"
    stock = question(found, "zhonghua_stock")
    assert counts(stock) == {"ample": 1, "tight": 0, "out": 1}
    assert [(c.label.zh, c.label.en, c.share) for c in stock.choices] == [
        ("充足", "Ample", 0.5), ("偏紧", "Tight", 0.0), ("断货", "Out of stock", 0.5)]
    assert (stock.answered, stock.not_answered) == (2, 0)
    price = question(found, "zhonghua_price")  # hidden where out of stock: not answered
    assert (price.answered, price.not_answered) == (1, 1)
    assert price.number is not None and (price.number.n, price.number.mean) == (1, 460)
    assert price.unit is not None and price.unit.zh == "元/条"
    yuxi = question(found, "yuxi_price").number
    assert yuxi is not None
    assert (yuxi.n, yuxi.mean, yuxi.median, yuxi.min, yuxi.max) == (2, 240, 240, 230, 250)
    # Per stratum (here the org unit: shop A is north's, shop B south's), named.
    assert sorted((s.label.en, s.n, s.mean) for s in yuxi.by_stratum) == [
        ("north", 1, 230), ("south", 1, 250)]
    assert {s.stratum for s in yuxi.by_stratum} == {s["key"] for s in record.result["strata"]}
    assert counts(question(found, "prices_marked")) == {"yes": 1, "no": 1}
    assert [c.label.zh for c in question(found, "prices_marked").choices] == ["是", "否"]
    assert counts(question(found, "sales_trend")) == {
        "rising": 0, "steady": 1, "falling": 1, "unsure": 0}
    remarks = question(found, "remarks")
    assert [(t.site_code, t.site_name, t.text) for t in remarks.texts] == [
        ("shop_b", "Shop B", "中华断货两周")]
    assert (remarks.answered, remarks.not_answered) == (1, 1)

    async with sessions() as db:  # progress counts the same work
        _, _, rows = await service.progress(db, await principal(db, "li"), campaign.id)
    assert [(row.drawn, row.submitted) for row in rows] == [(1, 1), (1, 1)]


async def test_a_team_of_two_counts_its_latest_submission_whoever_sent_it(
        sessions: Sessions, city: Field) -> None:
    """Shop C (nobody serves it) drawn for a team of zhang and wang: wang submits, then
    zhang (the lower user id) submits again; zhang's, the later, counts, once."""
    now = utcnow()
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        campaign = await service.create_campaign(db, li, title="Team", tz=dt.UTC, spec=(
            survey_spec(city, team_size=2, sample={"count": 1},
                        population={"site_ids": [city.sites["shop_c"]]})))
        record = await service.draw_campaign(db, li, campaign.id)
    [drawn] = record.result["strata"][0]["drawn"]
    assert sorted(drawn["team"]) == sorted([city.users["zhang"], city.users["wang"]])
    assert city.users["zhang"] < city.users["wang"]
    await fill(sessions, city, "wang", "shop_c", shop("tight", 480, 230, "yes", "rising"), now)
    await fill(sessions, city, "zhang", "shop_c", shop("out", None, 250, "no", "falling"),
               now + dt.timedelta(seconds=1))
    async with sessions() as db:
        found = await answers.campaign_answers(db, await principal(db, "li"), campaign.id)
    assert found.submissions == 1
    assert counts(question(found, "zhonghua_stock")) == {"ample": 0, "tight": 0, "out": 1}


async def test_the_spec_names_one_form_of_the_kind_its_field_says(sessions: Sessions,
                                                                  city: Field) -> None:
    async def refused(spec: dict[str, Any]) -> list[tuple[str, str]]:
        async with transaction(sessions) as db:
            li = await principal(db, "li")
            with pytest.raises(CampaignError) as caught:
                await service.create_campaign(db, li, title="X", spec=spec, tz=dt.UTC)
        return [(p.pointer, p.code) for p in caught.value.problems]

    both = survey_spec(city, standard=STANDARD)
    assert sorted(await refused(both)) == [("/standard", "invalid"), ("/survey", "invalid")]
    neither = {k: v for k, v in survey_spec(city).items() if k != "survey"}
    assert sorted(await refused(neither)) == [("/standard", "required"),
                                              ("/survey", "required")]
    # A standard named as a survey, and a survey as a standard: named at the field, with
    # what it is.
    assert await refused(survey_spec(city, survey=STANDARD)) == [
        ("/survey", "unknown_reference")]
    swapped = {k: v for k, v in survey_spec(city).items() if k != "survey"} | {
        "standard": SURVEY}
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        with pytest.raises(CampaignError) as caught:
            await service.create_campaign(db, li, title="X", spec=swapped, tz=dt.UTC)
    [problem] = caught.value.problems
    assert problem.pointer == "/standard" and problem.code == "unknown_reference"
    assert "it is a survey, name it as \"survey\"" in problem.message
    # A role that does not fill the survey is named too.
    assert await refused(survey_spec(city, pool={"roles": ["station_head"]})) == [
        ("/pool/roles/0", "role_without_form")]


async def test_a_standard_campaign_s_draw_inputs_have_no_survey(sessions: Sessions,
                                                                city: Field) -> None:
    """The spec is in the published inputs: a standard campaign's has no ``survey`` key,
    the JSON it had before surveys could be named, so its draws verify as before."""
    spec = survey_spec(city)
    del spec["survey"]
    async with transaction(sessions) as db:
        li = await principal(db, "li")
        campaign = await service.create_campaign(db, li, title="Std", tz=dt.UTC,
                                                 spec=spec | {"standard": STANDARD})
        record = await service.draw_campaign(db, li, campaign.id)
        found = await answers.campaign_answers(db, li, campaign.id)
    inputs = msgspec.json.decode(record.inputs)
    assert inputs["spec"]["standard"] == STANDARD and "survey" not in inputs["spec"]
    assert found.form_kind == "standard" and found.submissions == 0
    assert {q.type for q in found.questions} >= {"yes_no", "single_choice", "number"}


# -- over HTTP: the API and the CSV ------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("surveys"), request.param) as city:
        yield city


def client(live: Live, who: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=60)


def http_fill(live: Live, who: str, code: str, filled: dict[str, Any]) -> None:
    with client(live, who) as c:
        r = c.post("/api/visits", json={"qr_token": live.field.qr[code]})
        assert r.status_code == 201, r.text
        visit = r.json()["id"]
        version = c.get(f"/api/definitions/{SURVEY}").json()["content_hash"]
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version, filled,
                                                  visit_id=visit, definition_id=SURVEY))
        assert r.status_code == 201, r.text
        assert c.post(f"/api/visits/{visit}/check-out").status_code == 200


def test_the_answers_api_and_csv(live: Live) -> None:
    with client(live, "li") as c:
        r = c.post("/api/campaigns", json={"title": "价格与库存",
                                           "spec": survey_spec(live.field)})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert r.json()["standard_id"] == SURVEY
        r = c.post("/api/campaigns", json={"title": "Both", "spec": survey_spec(
            live.field, standard=STANDARD)})
        assert r.status_code == 422, r.text
        assert {p["pointer"] for p in r.json()["errors"]} == {"/standard", "/survey"}
        assert c.post(f"/api/campaigns/{cid}/draws", json={}).status_code == 201
    http_fill(live, "wang", "shop_a", shop("tight", 480, 230, "yes", "rising"))
    http_fill(live, "wang", "shop_a", shop("ample", 460, 230, "yes", "steady"))
    http_fill(live, "zhang", "shop_b", shop("out", None, 250, "no", "falling", "中华断货"))
    http_fill(live, "zhang", "shop_a", shop("tight", 700, 390, "no", "unsure"))

    with client(live, "li") as c:
        r = c.get(f"/api/campaigns/{cid}/answers")
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["form_kind"], got["sample_size"], got["submissions"]) == ("survey", 2, 2)
        by_id = {q["item_id"]: q for q in got["questions"]}
        assert {ch["value"]: ch["count"] for ch in by_id["zhonghua_stock"]["choices"]} == {
            "ample": 1, "tight": 0, "out": 1}
        assert by_id["yuxi_price"]["number"]["mean"] == 240
        assert by_id["remarks"]["texts"][0]["site_code"] == "shop_b"

        r = c.get(f"/api/campaigns/{cid}/answers.csv", params={"lang": "zh"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["题目编号", "题目", "题型"]
        cells = {(row[0], row[3], row[4]): row for row in rows[1:]}
        assert cells[("", "stat", "submissions")][6] == "2"
        assert cells[("zhonghua_stock", "choice", "out")][5:8] == ["断货", "1", "0.5"]
        assert cells[("zhonghua_price", "not_answered", "not_answered")][6] == "1"
        assert float(cells[("yuxi_price", "stat", "mean")][6]) == 240
        assert cells[("yuxi_price", "stat", "mean")][8] == "元/条"
        assert cells[("remarks", "text", "shop_b")][6] == "中华断货"
        assert cells[("yuxi_price", "stratum_mean", "all")][5:7] == [
            "全部平均值（2 个有效回答）", "240.0"]
        en = c.get(f"/api/campaigns/{cid}/answers.csv", params={"lang": "en"})
        assert "Out of stock" in en.content.decode("utf-8-sig")
    with client(live, "zhang") as c:  # a customer manager may not read them
        assert c.get(f"/api/campaigns/{cid}/answers").status_code == 403


# -- over HTTP: the leader's pages and the public record ---------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Live]:
    """A city of its own: the API test's work at the same shops would count here too."""
    with live_city(tmp_path_factory.mktemp("survey-pages"), request.param) as city:
        yield city


def new_form(field: Field, **changes: Any) -> str:
    """The new campaign's form as a browser posts it, the survey chosen in the one select."""
    days = period()
    fields: dict[str, Any] = {
        "title": "价格与库存调查", "standard": SURVEY, "sample_kind": "count",
        "sample_value": "2", "stratify_by": "", "pool_roles": ["customer_manager"],
        "team_size": "1", "served_within_days": "365", "redraw_within_days": "365",
        "period_start": days["start"], "period_end": days["end"]} | changes
    pairs = [(k, x) for k, v in fields.items() for x in (v if isinstance(v, list) else [v])]
    return str(httpx.QueryParams(pairs))


def test_a_survey_campaign_through_the_pages_and_its_public_record(fresh: Live) -> None:
    live = fresh
    with client(live, "li") as c:
        shown = c.get("/campaigns/new?lang=zh").text
        assert '<optgroup label="检查标准"' in shown and '<optgroup label="问卷调查"' in shown
        survey_group = shown.split('<optgroup label="问卷调查"')[1].split("</optgroup>")[0]
        assert f'value="{SURVEY}"' in survey_group  # a staff survey; the retailers' are not
        assert "retailer_satisfaction" not in shown
        r = c.post("/campaigns/new?lang=zh", headers=FORM, content=new_form(live.field))
        assert r.status_code == 303, r.text
        page = r.headers["location"]
        cid = int(page.split("?")[0].rsplit("/", 1)[1])
        stored = c.get(f"/api/campaigns/{cid}").json()
        assert stored["spec"]["survey"] == SURVEY and "standard" not in stored["spec"]
        assert c.post(f"/campaigns/{cid}/draw?lang=zh", headers=FORM,
                      content="").status_code == 303
        sites = c.get(f"/api/campaigns/{cid}/sites").json()
    names = {v: k for k, v in live.field.users.items()}
    drawn = sorted((s["site_code"], names[s["team"][0]]) for s in sites if s["team"])
    assert len(drawn) == 2
    (first, who1), (second, who2) = drawn
    http_fill(live, who1, first, shop("out", None, 240, "yes", "steady", "中华断货，店主李某"))
    http_fill(live, who2, second, shop("tight", 480, 260, "no", "rising"))
    with client(live, "li") as c:
        listed = c.get("/campaigns?lang=zh").text
        assert "卷烟市场价格与库存调查（问卷调查）" in listed
        shown = c.get(page).text
        assert "卷烟市场价格与库存调查（问卷调查）" in shown
        assert "各题结果" in shown and "data-answers" in shown
        assert f'href="/api/campaigns/{cid}/answers.csv?lang=zh"' in shown
        strata = shown.split('id="h-strata"')[1].split("</section>")[0]
        assert "合格" not in strata  # an unscored survey: submitted, no pass or fail
        stock = shown.split('data-question="zhonghua_stock"')[1].split("</article>")[0]
        assert re.search(r'data-choice="out"><th scope="row">断货</th>'
                         r'<td class="num" data-count>1</td><td class="num">50%</td>', stock)
        price = shown.split('data-question="yuxi_price"')[1].split("</article>")[0]
        assert re.search(r'data-stat="mean"><th scope="row">平均值</th>'
                         r'<td class="num">250(\.0)?</td>', price)
        remarks = shown.split('data-question="remarks"')[1].split("</article>")[0]
        assert "中华断货，店主李某" in remarks and "data-text-filter" in remarks
        assert c.post(f"/campaigns/{cid}/close?lang=zh", headers=FORM,
                      content="").status_code == 303
    with httpx.Client(base_url=live.url, timeout=60) as anyone:  # the public, not signed in
        zh = anyone.get(f"/public/campaigns/{cid}", params={"lang": "zh"})
        assert zh.status_code == 200, zh.text
        about = zh.text.split('id="s-about"')[1].split("</section>")[0]
        assert "问卷调查" in about and "检查标准" not in about
        assert "已调查" in zh.text and "data-public-answers" in zh.text
        public = zh.text.split("data-public-answers")[1].split("</section>")[0]
        assert "断货" in public and "平均值" in public
        assert "店主李某" not in zh.text  # free text may name people: never published
        en = anyone.get(f"/public/campaigns/{cid}", params={"lang": "en"}).text
        assert "Surveyed" in en and "Answers per question" in en and "店主李某" not in en
