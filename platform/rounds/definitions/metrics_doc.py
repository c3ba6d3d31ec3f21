"""``docs/metrics.md``, written from the catalogue (``rounds.definitions.metrics``).

Run ``python -m rounds.definitions.metrics_doc > docs/metrics.md`` after changing the
catalogue; ``tests/unit/okr/test_metrics_doc.py`` fails while the document and the catalogue
differ, so the one people read is the one the code uses.
"""

from __future__ import annotations

from rounds.definitions.metrics import (
    CATALOGUE,
    DEFINITION_DIRECTION,
    HIGHER_BETTER,
    Metric,
)

# What each fact of the store counts, per local day (docs for people; the store slice
# computes exactly this).
FACTS: dict[str, str] = {
    "checkins": "visits checked in that day",
    "checkins_flagged": "of them, flagged (out of range, poor accuracy, another method)",
    "checkouts": "of them, checked out",
    "visit_seconds": "time on site of those checked out (seconds)",
    "visits_done": "visits that count for the plan under the user's role (a form submitted "
                   "during the visit, or every check-in where the role says so)",
    "submissions": "forms whose work was done that day (a late one counts on its day)",
    "scored": "of them, with a score value",
    "score_sum": "the sum of their score values",
    "percentage_count": "of them, scored as a percentage",
    "percentage_sum": "the sum of their percentages",
    "judged": "of them, judged pass or fail",
    "passed": "of them, passed",
    "failed_items": "their failed items",
    "alerts": "their alerts",
    "issues_opened": "issues created that day",
    "complaints_opened": "of them, complaints",
    "issues_rectified": "issues the assignee signed that day",
    "issues_verified": "issues the assigner accepted that day",
    "issues_closed": "issues closed that day",
    "issues_closed_on_time": "of them, closed by their deadline (or with none)",
    "close_seconds": "their time from opening to closing (seconds)",
    "issues_overdue": "issues due that day and not closed by then",
    "issues_escalated": "issues escalated that day",
    "issues_cancelled": "issues cancelled that day",
    "planned": "planned visits (the month's plan per person and site)",
}
# The survey answers' facts (on the item rows of their survey, `store_item_day_facts`).
ANSWER_FACTS_TEXT: dict[str, str] = {
    "answer_sum": "Σ of the answers to the key result's scale item (\"not applicable\" "
                  "left out), of the survey's responses and staff-submitted surveys that day",
    "answer_count": "how many answered that item with a number",
    "at_level": "responses whose outcome level is the key result's level or one listed "
                "after it in the survey's outcome",
    "with_outcome": "responses with an outcome level",
}

_FORMULA = {
    "ratio": "Σ {0} ÷ Σ {1}",
    "mean": "Σ {0} ÷ Σ {1}",
    "total": "Σ {all}",
    "stock": "Σ {plus} − Σ {minus}, over all months up to the period's end",
}
_PLAN = {
    "done_ratio": "Σ per site min(visits_done, planned) ÷ Σ planned",
    "coverage": "planned sites with at least one check-in ÷ planned sites",
    "per_site": "Σ checkins ÷ planned sites",
}
_DIRECTION = {HIGHER_BETTER: "higher is better", DEFINITION_DIRECTION:
              "as the standard scores (lower is better for demerits)"}


def formula(metric: Metric) -> str:
    if metric.formula == "plan":
        text = _PLAN[metric.facts[0]] + " (whole months only)"
    else:
        text = _FORMULA[metric.formula].format(
            *(f"`{f}`" for f in metric.facts), all=" + ".join(f"`{f}`" for f in metric.facts),
            plus=" + ".join(f"`{f}`" for f in metric.facts),
            minus=" − Σ ".join(f"`{f}`" for f in metric.minus))
    if metric.scale != 1:
        text += (f" ÷ {1 / metric.scale:g}" if metric.scale < 1 else f" × {metric.scale:g}")
    return text


def _rows(metric: Metric) -> str:
    where = {"standard": "rows of standards", "survey": "rows of surveys"}.get(
        metric.rows, "all rows")
    named = {"none": "may not name a definition", "optional": "may name one definition",
             "required": "must name one definition"}[metric.definition]
    needs = {"item": "; it must also name a scale `item` of that survey",
             "level": "; it must also name a `level` of that survey's outcome"}.get(
        metric.parameter, "")
    return f"{where}; a key result {named}{needs}"


def catalogue_markdown() -> str:
    lines = [
        "# Metrics",
        "",
        "Every figure an OKR key result (`metric`) or a dashboard can name, with what it "
        "means, its unit, which way is better, and how it is computed from the query store's "
        "facts over a period. Written from `rounds.definitions.metrics.CATALOGUE` by "
        "`python -m rounds.definitions.metrics_doc > docs/metrics.md` (a test keeps the two "
        "equal). Extensions may register more (`register_metric`).",
        "",
        "A key result's value is the metric over the grade's period for one person (their "
        "rows) or one org unit (the rows of its whole subtree, of the people the OKR applies "
        "to). A ratio or mean with nothing to divide by has no value: the key result is left "
        "out of the grade and the others' weights are renormalised (see "
        "[definitions.md](definitions.md#okr)). Totals and stocks with no rows are 0.",
        "",
        "| metric | en | zh | unit | better | formula |",
        "|---|---|---|---|---|---|",
    ]
    for m in CATALOGUE.values():
        better = _DIRECTION.get(m.direction, "lower is better")
        lines.append(f"| `{m.id}` | {m.title['en']} | {m.title['zh']} | {m.unit} | {better} "
                     f"| {formula(m)} |")
    lines += ["", "## Each metric", ""]
    for m in CATALOGUE.values():
        lines += [f"### `{m.id}` — {m.title['en']} ({m.title['zh']})", "",
                  f"{m.description['en']}", "", f"{m.description['zh']}", "",
                  f"- unit: {m.unit}; {_DIRECTION.get(m.direction, 'lower is better')}",
                  f"- formula: {formula(m)}",
                  f"- facts read: {', '.join(f'`{f}`' for f in m.reads)}",
                  f"- rows: {_rows(m)}", ""]
    lines += ["## The facts", "",
              "Counted per local day (the company's time zone) × person × site × org unit × "
              "definition in `store_day_facts`, summed per month in `store_month_facts`; the "
              "plan per month × person × site in `store_month_sites`.", "",
              "| fact | counts |", "|---|---|"]
    lines += [f"| `{f}` | {text} |" for f, text in FACTS.items()]
    lines += ["", "The metrics with a parameter (`surveys.item_mean`, `surveys.outcome_share`) "
              "read the survey answers' facts of their survey instead, kept on its rows of "
              "`store_item_day_facts` and `store_item_month_facts` (see "
              "[store.md](store.md)):", "", "| fact | counts |", "|---|---|"]
    lines += [f"| `{f}` | {text} |" for f, text in ANSWER_FACTS_TEXT.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(catalogue_markdown(), end="")
