"""What the field pages show, worked out without a server: languages, links, distances,
check-in flags, a score explained item by item, the problems raised; and the form engine's
options the visit form page uses (ctx, the submission envelope, photo uploads)."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rounds import i18n
from rounds.forms.render import form_context, render_form
from rounds.rules.standards import compile_standard
from rounds.runtime.fieldwork import views
from rounds.runtime.submissions.service import stored_evaluation
from rounds.web.language import choose

# The field pages' words as each catalogue holds them (no fallback filled in).
WORDS = {lang: i18n._catalogue("fieldwork", lang) for lang in i18n.LANGUAGES}

ROOT = Path(__file__).resolve().parents[3]
VISIT = json.loads((ROOT / "definitions/standards/customer_manager_visit.json").read_text("utf-8"))


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_words_and_placeholders() -> None:
    assert WORDS["zh"].keys() == WORDS["en"].keys()
    for key in WORDS["zh"]:
        assert fields(WORDS["zh"][key]) == fields(WORDS["en"][key]), key


def test_the_language_asked_for_then_the_account_then_the_default() -> None:
    assert choose("en", "zh", "zh") == "en"
    assert choose(None, "en", "zh") == "en"
    assert choose("fr", None, "en") == "en"
    assert choose("", "xx", "zh") == "zh"


def test_links_carry_the_language() -> None:
    assert views.href("/me/submissions", "en", page=2) == "/me/submissions?page=2&lang=en"
    assert views.href("/today", "zh", page=None) == "/today?lang=zh"


@pytest.mark.parametrize("target", [None, "", "today", "//evil.example/x", "http://evil.example",
                                    "/\\evil.example", "/to\nday"])
def test_after_sign_in_only_local_paths(target: str | None) -> None:
    # none given or not local: the root, which sends each person to their own home
    assert views.safe_next(target) == "/"


def test_a_local_path_is_kept() -> None:
    assert views.safe_next("/visits/3?lang=en") == "/visits/3?lang=en"


def test_distances() -> None:
    assert views.distance_text(40.4, "zh") == "40 米"
    assert views.distance_text(999.4, "en") == "999 m"
    assert views.distance_text(1500, "zh") == "1.5 公里"
    assert views.distance_text(5000, "en") == "5 km"
    assert views.distance_text(None, "en") == "distance unknown"


def test_flags_say_what_raised_them() -> None:
    texts = views.flag_texts(["far", "poor_accuracy"], distance_m=1234.0, accuracy_m=80.0,
                             radius_m=100, max_accuracy_m=50, lang="en")
    assert texts == ["Far from the shop: 1.2 km, more than the 100 m allowed.",
                     "The position was not precise enough (±80 m; at most ±50 m)."]
    assert views.flag_texts(["poor_accuracy"], distance_m=10, accuracy_m=None, radius_m=100,
                            max_accuracy_m=50, lang="zh") == \
        ["定位不够准确（—，要求不超过 ±50 米）。"]


def evaluated() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    answers = {"stock_checked": True, "brands_in_stock": 30, "out_of_stock_found": "no",
               "new_brand_recommended": "na", "display_standard": "messy",
               "display_guidance": False, "price_tags_complete": "no",
               "policy_explained": False, "self_discipline_group": "yes"}
    evidence = {"price_tags_complete": {"photos": ["p-1"], "note": "two tags missing"}}
    ev = compile_standard(VISIT).evaluate(answers, {})
    return msgspec.to_builtins(stored_evaluation(ev)), answers, evidence


def test_each_item_says_what_decided_its_points() -> None:
    stored, answers, _ = evaluated()
    sections = views.explanation(stored["score"], VISIT, answers, "en")
    assert [s.section for s in sections] == [s["id"] for s in VISIT["sections"]]
    lines = {i.item: i for s in sections for i in s.items}
    assert (lines["stock_checked"].points, lines["stock_checked"].why) == ("1 of 1", "ticked")
    assert lines["brands_in_stock"].points == "1 of 2"  # 25..39 brands: half the points
    assert lines["brands_in_stock"].why == "the standard's scoring rule (answer: 30)"
    assert not lines["brands_in_stock"].full
    assert lines["new_brand_recommended"].points == "not counted"
    assert lines["new_brand_recommended"].why == "not applicable"
    assert lines["display_standard"].why.startswith("chose “")
    assert lines["price_tags_complete"].why == "answered “No”"
    assert lines["policy_explained"].why == "not ticked"
    ordering = next(s for s in sections if s.section == "ordering")
    # a percentage standard: the section's percentage with its points
    assert re.fullmatch(r"[\d.]+% \([\d.]+ of [\d.]+ points\)", ordering.score), ordering.score


def test_problems_raised_with_their_evidence() -> None:
    stored, answers, evidence = evaluated()
    found = views.problems(stored["failed"], VISIT, answers, evidence, "zh")
    by_item = {p.item: p for p in found}
    tags = by_item["price_tags_complete"]
    assert tags.answer == "否" and tags.note == "two tags missing" and tags.photos == ["p-1"]
    assert tags.severity_code == "medium" and tags.severity == "较重"
    assert tags.section == "陈列与明码标价"
    assert by_item["display_standard"].severity == "一般"


def test_alerts_in_the_readers_language() -> None:
    stored, _, _ = evaluated()
    alerts = views.alert_lines(stored["alerts"], "en")
    tags = next(a for a in alerts if a.code == "price_tags_missing")
    assert tags.message.startswith("Prices are not correctly marked")


def test_times_in_the_company_time_zone() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert views.local("2026-03-01T16:30:00+00:00", tz) == "2026-03-02 00:30"
    assert views.local(None, tz) == ""


# -- the form engine, as the visit form page uses it ------------------------------------------

NEAR = {"kind": "standard", "id": "near_check", "title": {"zh": "近", "en": "Near"},
        "sections": [{"id": "s", "title": {"zh": "段", "en": "S"}, "items": [
            {"id": "why_far", "type": "text", "title": {"zh": "为何远", "en": "Why far"},
             "required": True,
             "visible_if": {">": [{"var": "ctx.visit.distance_m"}, 100]}}]}]}


def config_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="rounds-rules">(.*?)</script>',
                      html, re.S)
    assert found
    return dict(json.loads(found.group(1)))


def test_the_form_is_judged_with_the_visits_ctx() -> None:
    far = form_context(NEAR, lang="en", ctx={"visit": {"distance_m": 250}})
    near = form_context(NEAR, lang="en", ctx={"visit": {"distance_m": 20}})
    assert far["sections"][0].items[0].visible and far["sections"][0].items[0].required
    assert not near["sections"][0].items[0].visible
    assert far["config"]["ctx"] == {"visit": {"distance_m": 250}}


def test_a_submission_envelope_and_photo_uploads_reach_the_browser() -> None:
    envelope = {"definition_id": "near_check", "version": "ab" * 32, "visit_id": 7,
                "result_url": "/submissions/{id}?lang=en"}
    html = render_form(NEAR, lang="en", action="/api/submissions", envelope=envelope,
                       photo_upload="/api/photos", csrf_token="tok-1")
    config = config_of(html)
    assert config["envelope"] == envelope
    assert config["photo_upload"] == "/api/photos" and config["csrf_token"] == "tok-1"
    assert 'action="/api/submissions"' in html


def test_a_preview_stays_as_it_was() -> None:
    html = render_form(NEAR, lang="zh")
    config = config_of(html)
    assert not {"envelope", "photo_upload", "csrf_token"} & config.keys()
    assert '<a class="brand" href="/forms?lang=zh">' in html
