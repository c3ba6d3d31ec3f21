"""The OKR slice's words: a grade explained in every language, and the notices of key
results scored low.

The words are in the gettext catalogue ``okr`` (``rounds/i18n/locale/<lang>/LC_MESSAGES/
okr.po``); this module fills them in. Everything is given in every language at once
(``{lang: text}``): a grade's explanation is read in the reader's language and a notice is
stored for whoever reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rounds import i18n
from rounds.definitions.metrics import Metric
from rounds.rules.alerts import format_number

DOMAIN = "okr"

Texts = dict[str, str]


# The plan figures as the store computes them (``store.read.plan_figures``): visits done
# (each site's up to its plan) over planned visits, planned sites visited over planned
# sites, check-ins over planned sites.
PLAN_PARTS = {"done_ratio": ("visits_done", "planned"),
              "coverage": ("visited_sites", "planned_sites"),
              "per_site": ("checkins", "planned_sites")}


def words(lang: str, key: str, /, **fields: Any) -> str:
    return i18n.text(DOMAIN, lang, key, **fields)


def each(key: str, /, **fields: Any) -> Texts:
    """One text in every language; a field that is a ``{lang: text}`` map is read in each."""
    return {lang: words(lang, key, **{k: (i18n.pick(v, lang) if isinstance(v, Mapping) else v)
                                      for k, v in fields.items()})
            for lang in i18n.LANGUAGES}


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else format_number(value, digits)


def fact_label(fact: str, lang: str, rows: str = "") -> str:
    """What a fact of the store is called (its key when the catalogue has no word); of the
    rows of one kind of definition (``rows``: ``survey``) its word for them if it has one
    ("计得分率答卷", not "表单")."""
    table = i18n.table(DOMAIN, lang)
    own = table.get(f"fact_{rows}_{fact}") if rows else None
    return own or table.get(f"fact_{fact}", fact)


def _part(fact: str, sums: Mapping[str, float], lang: str,
          labels: Mapping[str, Texts] | None = None, rows: str = "") -> str:
    named = (labels or {}).get(fact)
    label = named.get(lang) or fact_label(fact, lang, rows) if named \
        else fact_label(fact, lang, rows)
    return words(lang, "fact", label=label, n=number(sums.get(fact, 0.0)))


def level_labels(levels: list[Mapping[str, Any]]) -> Texts:
    """The facts' word for the responses at these outcome levels, with their names
    ("结果为满意、非常满意的答卷")."""
    return {lang: words(lang, "fact_at_levels", levels=words(lang, "names_sep").join(
        i18n.pick(level.get("label") or {}, lang, str(level.get("id"))) for level in levels))
        for lang in i18n.LANGUAGES}


def sums_in_words(metric: Metric, sums: Mapping[str, float], value: float | None,
                  labels: Mapping[str, Texts] | None = None) -> Texts:
    """How the value came from the facts: ``flagged check-ins 2 ÷ check-ins 40 = 0.05``
    (``labels``: a fact's own words for this key result, such as the outcome levels it
    counts)."""
    out: Texts = {}
    for lang in i18n.LANGUAGES:
        def part(f: str, lang: str = lang) -> str:
            return _part(f, sums, lang, labels, metric.rows)

        if metric.formula in ("ratio", "mean"):
            formula = words(lang, f"formula_{metric.formula}", top=part(metric.facts[0]),
                            bottom=part(metric.facts[1]))
        elif metric.formula == "plan" and metric.facts[0] in PLAN_PARTS:
            top, bottom = PLAN_PARTS[metric.facts[0]]
            formula = words(lang, "formula_ratio", top=part(top), bottom=part(bottom))
        elif metric.formula == "stock":
            formula = words(lang, "formula_stock",
                            plus=words(lang, "plus_sep").join(part(f) for f in metric.facts),
                            minus=words(lang, "minus_sep").join(part(f) for f in metric.minus))
        else:  # total (and a plan figure this module does not know: the facts there are)
            shown = metric.facts if metric.formula == "total" else tuple(
                f for f in sums if f != metric.facts[0]) or metric.reads
            formula = words(lang, f"formula_{metric.formula}",
                            parts=words(lang, "parts_sep").join(part(f) for f in shown))
        out[lang] = words(lang, "equals", formula=formula, value=number(value, 4))
    return out
