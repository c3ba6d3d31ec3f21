"""The public record of closed check campaigns (一公开), over real HTTP and without signing
in, on SQLite and PostgreSQL: a campaign not closed is 404 everywhere public; a closed one
lists its drawn sites and outcomes on the page, in CSV and XLSX and in the API; with the
inspectors ``hidden`` no inspector's name or id is in any of them, with ``names`` their
names are (and never an id); the scores go when the company hides them; the inputs'
download re-runs to the published result under the published seed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import openpyxl
import pytest

from rounds.draws import DrawResult, decode_inputs, verify
from support.fieldwork import STANDARD, Live, body, live_city, png_bytes, poor_answers


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("public"), request.param) as city:
        yield city


def company_today() -> str:
    """The day of a check as the record gives it: in the company's time zone (the server's
    default, Asia/Shanghai), where from 16:00 UTC it is already tomorrow."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def spec(**changes: Any) -> dict[str, Any]:
    today = dt.date.today()
    out: dict[str, Any] = {
        "standard": STANDARD, "population": {"site_kinds": ["retailer"]},
        "sample": {"count": 3}, "pool": {"roles": ["customer_manager"]}, "team_size": 1,
        "period": {"start": (today - dt.timedelta(days=2)).isoformat(),
                   "end": (today + dt.timedelta(days=30)).isoformat()}}
    return out | changes


def anonymous(live: Live) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=60)


def drawn_teams(record: dict[str, Any]) -> dict[int, list[int]]:
    return {d["site"]: d["team"] for s in record["result"]["strata"] for d in s["drawn"]}


def run_campaign(live: Live, title: str, raw_spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A campaign created, drawn, re-drawn (with its reason), one drawn site checked with a
    failing submission by its inspector; not closed. The campaign's id and the site checked
    ({"site", "inspector", "submission"})."""
    with live.client("li") as c:
        r = c.post("/api/campaigns", json={"title": title, "spec": raw_spec})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert c.post(f"/api/campaigns/{cid}/draws", json={}).status_code == 201
        r = c.post(f"/api/campaigns/{cid}/draws", json={"reason": "一名市管员调离"})
        assert r.status_code == 201, r.text
        teams = drawn_teams(r.json())
    users = {v: k for k, v in live.field.users.items()}
    shops = {v: k for k, v in live.field.sites.items()}
    site, team = next((s, t) for s, t in sorted(teams.items()) if t)
    who = users[team[0]]
    with live.client(who) as c:
        r = c.post("/api/visits", json={"qr_token": live.field.qr[shops[site]]})
        assert r.status_code == 201, r.text
        version = c.get(f"/api/definitions/{STANDARD}").json()["content_hash"]
        up = c.post("/api/photos", files={"file": ("p.png", png_bytes(5), "image/png")})
        answers, evidence = poor_answers(str(up.json()["id"]))
        doc = body(str(uuid.uuid4()), version, answers, evidence=evidence,
                   visit_id=r.json()["id"])
        r = c.post("/api/submissions", json=doc)
        assert r.status_code == 201, r.text
    return cid, {"site": site, "inspector": who, "submission": doc["id"],
                 "teams": teams}


def close(live: Live, cid: int) -> None:
    with live.client("li") as c:
        assert c.post(f"/api/campaigns/{cid}/close").status_code == 200


def xlsx_rows(content: bytes) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def everything(c: httpx.Client, cid: int) -> dict[str, Any]:
    """The page (both languages), the CSV, the XLSX and the API record of a campaign."""
    out = {"zh": c.get(f"/public/campaigns/{cid}", params={"lang": "zh"}),
           "en": c.get(f"/public/campaigns/{cid}", params={"lang": "en"}),
           "csv": c.get(f"/public/campaigns/{cid}.csv", params={"lang": "en"}),
           "xlsx": c.get(f"/public/campaigns/{cid}.xlsx", params={"lang": "en"}),
           "api": c.get(f"/api/public/campaigns/{cid}")}
    for name, r in out.items():
        assert r.status_code == 200, (name, r.text[:500])
    return out


def test_hidden_inspectors_a_running_campaign_is_not_public(live: Live) -> None:
    cid, checked = run_campaign(live, "春季双随机抽查", spec())
    with anonymous(live) as c:
        # Not closed: 404 wherever the public looks, as a campaign that does not exist.
        for path in (f"/public/campaigns/{cid}", f"/public/campaigns/{cid}.csv",
                     f"/public/campaigns/{cid}.xlsx", f"/api/public/campaigns/{cid}",
                     f"/public/campaigns/{cid}/draws/1/inputs.json",
                     f"/public/campaigns/{cid}/draws/1/result.json",
                     "/public/campaigns/999999"):
            assert c.get(path).status_code == 404, path
        assert "春季双随机抽查" not in c.get("/public/campaigns").text
        assert all(x["id"] != cid for x in c.get("/api/public/campaigns").json()["items"])
    close(live, cid)

    with anonymous(live) as c:
        listed = c.get("/public/campaigns", params={"lang": "zh"})
        assert listed.status_code == 200 and "春季双随机抽查" in listed.text
        assert f'href="/public/campaigns/{cid}?lang=zh"' in listed.text
        api_list = c.get("/api/public/campaigns").json()
        assert api_list["items"][0]["id"] == cid and api_list["total"] >= 1
        got = everything(c, cid)

    # The same for everyone, so a shared cache may keep it; a signed-in reader's copy (in
    # their account's language) is theirs alone.
    assert got["zh"].headers["cache-control"] == "public, max-age=300"
    with live.client("zhang") as c:
        mine_page = c.get(f"/public/campaigns/{cid}")
        assert mine_page.status_code == 200 and "Failed" in mine_page.text  # zhang reads en
        assert mine_page.headers["cache-control"] == "private, no-cache"
    record = got["api"].json()
    codes = {live.field.sites[k]: k for k in live.field.sites}
    drawn_codes = {codes[s] for s in checked["teams"]}
    assert {s["code"] for s in record["sites"]} == drawn_codes
    assert record["inspectors"] == "hidden" and record["scores"] is True
    mine = next(s for s in record["sites"] if s["code"] == codes[checked["site"]])
    assert mine["outcome"] == "failed" and mine["checked_on"] == company_today()
    assert mine["score"] is not None and mine["issues_raised"] > 0
    assert mine["inspectors"] == []
    assert all(s["outcome"] == "unchecked" for s in record["sites"] if s is not mine)
    [stratum] = record["strata"]
    assert (stratum["drawn"], stratum["checked"], stratum["passed"], stratum["failed"]) == (
        3, 1, 0, 1)
    assert [(d["number"], d["superseded"], d["reason"]) for d in record["draws"]] == [
        (1, True, None), (2, False, "一名市管员调离")]
    # The page: sites and outcomes in the reader's language, nothing of the inspectors.
    zh, en = got["zh"].text, got["en"].text
    for code in drawn_codes:
        assert code in zh and code in en
    assert "不合格" in zh and "未检查" in zh and "Failed" in en and "Not checked" in en
    assert "一名市管员调离" in zh and record["draws"][1]["seed"] in zh
    assert f"/public/campaigns/{cid}/draws/2/inputs.json" in zh
    # No inspector: no name, no username, no id in any field of any public output.
    people = set(live.field.users) - {"li", "admin", "qian"}
    texts = {"zh": zh, "en": en, "csv": got["csv"].content.decode("utf-8-sig"),
             "xlsx": json.dumps(xlsx_rows(got["xlsx"].content), ensure_ascii=False,
                                default=str),
             "api": got["api"].text}
    for name, text in texts.items():
        for person in people:
            assert person not in text, (name, person)
    assert not any(key in got["api"].text for key in ('"team"', '"lead', '"user',
                                                       '"drawn_by"', '"inspector_id'))
    # CSV and XLSX: the sites table, the same rows.
    rows = list(csv.reader(io.StringIO(texts["csv"])))
    assert rows[0] == ["Code", "Retailer", "Outcome", "Score", "Percentage", "Checked on",
                       "Issues raised", "Issues fixed", "Org unit", "Stratum"]
    assert {r[0] for r in rows[1:]} == drawn_codes
    failed = next(r for r in rows if r[0] == codes[checked["site"]])
    assert failed[2] == "Failed" and failed[5] == company_today()
    assert float(failed[3]) == mine["score"] and int(failed[6]) == mine["issues_raised"]
    sheet = xlsx_rows(got["xlsx"].content)
    assert sheet[0] == rows[0] and {r[0] for r in sheet[1:]} == drawn_codes
    assert got["csv"].headers["content-disposition"] == \
        f'attachment; filename="campaign-{cid}.csv"'


def test_names_shown_scores_hidden_and_the_inputs_verify(live: Live) -> None:
    raw = spec(publication={"inspectors": "names", "scores": False},
               exclusions={"redraw_within_days": 0, "allow_repeat": True})
    cid, checked = run_campaign(live, "Autumn checks", raw)
    close(live, cid)
    with anonymous(live) as c:
        got = everything(c, cid)
        record = got["api"].json()
        # The inputs, downloaded, re-run to the published result under the published seed.
        for d in record["draws"]:
            inputs = c.get(d["inputs_url"])
            result = c.get(d["result_url"])
            assert inputs.status_code == 200 and result.status_code == 200
            assert inputs.headers["content-type"].startswith("application/json")
            assert verify(decode_inputs(json.loads(inputs.content)), bytes.fromhex(d["seed"]),
                          msgspec.convert(result.json(), DrawResult))
            assert result.json()["inputs_digest"] == d["inputs_digest"]
            # The inputs hold ids, never a name.
            assert checked["inspector"] not in inputs.text
    assert record["inspectors"] == "names" and record["scores"] is False
    codes = {v: k for k, v in live.field.sites.items()}
    mine = next(s for s in record["sites"] if s["code"] == codes[checked["site"]])
    assert mine["inspectors"] == [checked["inspector"]] and mine["outcome"] == "failed"
    assert all(s["score"] is None and s["percentage"] is None for s in record["sites"])
    assert checked["inspector"] in got["zh"].text and checked["inspector"] in got["en"].text
    rows = list(csv.reader(io.StringIO(got["csv"].content.decode("utf-8-sig"))))
    assert rows[0] == ["Code", "Retailer", "Outcome", "Checked on", "Issues raised",
                       "Issues fixed", "Org unit", "Stratum", "Inspectors"]
    assert next(r for r in rows if r[0] == mine["code"])[-1] == checked["inspector"]
    sheet = xlsx_rows(got["xlsx"].content)
    assert sheet[0] == rows[0]
    assert next(r for r in sheet if r[0] == mine["code"])[-1] == checked["inspector"]
    # Names only: no user id in the record.
    assert '"team"' not in got["api"].text and '"drawn_by"' not in got["api"].text


def test_the_publication_choice_is_checked_and_a_draft_may_change_it(live: Live) -> None:
    with live.client("li") as c:
        r = c.post("/api/campaigns", json={"title": "Bad", "spec": spec(
            publication={"inspectors": "phones", "scores": "yes", "photos": True})})
        assert r.status_code == 422, r.text
        assert {p["pointer"] for p in r.json()["errors"]} == {
            "/publication/inspectors", "/publication/scores", "/publication/photos"}
        r = c.post("/api/campaigns", json={"title": "Draft", "spec": spec()})
        cid = r.json()["id"]
        assert r.json()["spec"]["publication"] == {"inspectors": "hidden", "scores": True}
        r = c.patch(f"/api/campaigns/{cid}", json={"spec": spec(
            publication={"inspectors": "names"})})
        assert r.status_code == 200, r.text
        assert r.json()["spec"]["publication"] == {"inspectors": "names", "scores": True}
        r = c.post(f"/api/campaigns/{cid}/draws", json={})
        # The choice is no draw input: the published inputs do not hold it.
        assert "publication" not in r.json()["inputs"]
