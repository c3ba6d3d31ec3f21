"""Each file in ``planted/`` plants the errors of one kind of mistake an author makes with
rules, choice codes, message templates and scoring models. Validating the folder reports all
of them at once, each with its file and JSON pointer (and nothing else)."""

from __future__ import annotations

from pathlib import Path

from rounds.definitions.loader import load_documents
from rounds.definitions.validation import validate

HERE = Path(__file__).parent
REPO = HERE.parents[2]
PLANTED = HERE / "planted"

EXPECTED: dict[str, set[tuple[str, str]]] = {
    "rules_as_strings.json": {
        ("not_a_rule", "/sections/0/items/0/visible_if"),
        ("not_a_rule", "/sections/0/items/0/required_if"),
        ("not_a_rule", "/sections/0/items/0/score"),
        ("not_a_rule", "/sections/0/items/1/fail_if"),
        ("not_a_rule", "/sections/0/items/1/evidence_if"),
        ("not_a_rule", "/alerts/0/when"),
    },
    "okr_grade_string.json": {
        ("not_a_rule", "/objectives/0/key_results/0/grade"),
    },
    # OKR metrics from the catalogue, the definition they need, grades that exist.
    "okr_metrics_and_grades.json": {
        ("schema", "/grades/1/score"),
        ("duplicate_id", "/grades/2/id"),
        ("unknown_metric", "/objectives/0/key_results/0/metric"),
        ("definition_required", "/objectives/0/key_results/1"),
        ("unknown_grade", "/objectives/0/key_results/1/grade/if/1"),
        ("unknown_grade", "/objectives/0/key_results/1/grade/if/4"),
        ("definition_forbidden", "/objectives/0/key_results/2/definition"),
        ("unknown_reference", "/objectives/0/key_results/3/definition"),
        ("unknown_reference", "/objectives/0/key_results/4/definition"),
        # the survey metrics' item (a scale item of the survey) and level (of its outcome)
        ("parameter_required", "/objectives/0/key_results/5"),
        ("unknown_reference", "/objectives/0/key_results/6/item"),
        ("parameter_forbidden", "/objectives/0/key_results/6/level"),
        ("unknown_reference", "/objectives/0/key_results/7/level"),
        ("unknown_reference", "/objectives/0/key_results/8/level"),
    },
    "codes_and_templates.json": {
        ("schema", "/sections/0/items/0/choices/3/value"),
        ("schema", "/sections/0/items/0/choices/4/value"),
        ("unknown_field", "/sections/0/items/2/problem/params/n"),
        ("unused_param", "/sections/0/items/2/problem/params/spare"),
        ("unknown_field", "/alerts/0/message/params/count/+/1"),
        ("unknown_field", "/alerts/0/message/zh"),
        ("unknown_field", "/alerts/0/message/en"),
        ("bad_labels", "/alerts/0/message/params/labels/labels"),
        ("unused_param", "/alerts/0/message/params/other"),
        ("unknown_reference", "/alerts/0/message/params/other/labels"),
        ("unused_param", "/alerts/0/message/params/value"),
        ("not_a_rule", "/alerts/0/message/params/value/value"),
        ("unused_param", "/alerts/0/message/params/bad"),
        ("not_a_rule", "/alerts/0/message/params/bad"),
    },
    # Every misuse of scoring models, outcomes and checks (docs/scoring.md) in one file.
    "scoring_misuse.json": {
        # a scoring option on a type that cannot use it, or inside a group
        ("points_not_scorable", "/sections/0/items/1/good"),
        ("points_not_scorable", "/sections/0/items/1/reverse"),
        ("points_not_scorable", "/sections/0/items/4/choices/0/points"),
        ("points_not_scorable", "/sections/0/items/9/items/0/good"),
        # scored twice: a weight on absolute points, fractions and points on one item
        ("weight_twice", "/sections/0/items/2/weight"),
        ("weight_twice", "/sections/0/items/3/choices/1/points"),
        # points: "value" on a choice that is no number
        ("bad_choice", "/sections/0/items/2/choices/3/value"),
        ("bad_scoring", "/pass_percentage"),
        # the score read before it exists, directly or through a calculated value
        ("score_cycle", "/sections/0/items/6/visible_if/>/0"),
        ("score_cycle", "/sections/0/items/7/required_if/</0"),
        ("score_cycle", "/sections/0/items/11/calculate"),
        ("score_cycle", "/checks/0/when/</0"),
        ("score_cycle", "/checks/1/when/</0"),
        # reads of what is not there, or not yet
        ("unknown_field", "/sections/0/items/10/fail_if/in/1"),
        ("unknown_field", "/sections/0/items/10/problem/zh"),
        ("unknown_field", "/sections/0/items/10/problem/en"),
        ("unknown_field", "/outcomes/0/levels/5/when/==/0"),
        ("unknown_field", "/outcomes/0/levels/5/message/zh"),
        ("unknown_field", "/outcomes/0/levels/5/message/en"),
        ("unknown_field", "/outcomes/0/levels/6/when/>/0"),
        ("unknown_field", "/alerts/0/when/and/2"),
        ("unknown_field", "/alerts/0/when/and/3/>/0"),
        ("unknown_field", "/checks/1/message/params/n"),
        ("unknown_operation", "/checks/2/when"),
        # outcomes
        ("unknown_reference", "/outcomes/0/of"),
        ("overlapping_bands", "/outcomes/0/levels/2"),
        ("bad_band", "/outcomes/0/levels/3/min"),
        ("unreachable_level", "/outcomes/0/levels/4"),
        ("duplicate_id", "/outcomes/1/id"),
        ("unknown_reference", "/sections/0/items/8/forces/nope"),
        ("unknown_reference", "/sections/0/items/8/forces/rating"),
        ("forces_never_apply", "/sections/0/items/8/forces"),  # a scale never fails
        ("unknown_reference", "/checks/0/item"),
    },
}


def test_every_planted_error_is_reported_at_once_with_file_and_pointer() -> None:
    real, problems = load_documents([REPO / "definitions"])
    planted, more = load_documents([PLANTED])
    assert problems == more == []
    found = validate([*real, *planted])
    by_file: dict[str, set[tuple[str, str]]] = {}
    for p in found:
        by_file.setdefault(Path(p.source or "").name, set()).add((p.code, p.pointer))
    assert by_file == EXPECTED


def test_messages_say_what_a_rule_and_a_code_look_like() -> None:
    planted, _ = load_documents([PLANTED])
    found = {(Path(p.source or "").name, p.pointer): p.message for p in validate(planted)}
    rule = found[("rules_as_strings.json", "/sections/0/items/0/visible_if")]
    assert '{">": [{"var": "stock_days"}, 0]}' in rule and '"stock_days > 0"' in rule
    assert "always true" in rule
    code = found[("codes_and_templates.json", "/sections/0/items/0/choices/4/value")]
    assert "A1, B-2, 07" in code and '"with space"' in code
    unused = found[("codes_and_templates.json", "/sections/0/items/2/problem/params/spare")]
    assert "{spare}" in unused
    chain = found[("scoring_misuse.json", "/sections/0/items/6/visible_if/>/0")]
    assert "risk → score.points" in chain  # the cycle through a calculated value, named
    overlap = found[("scoring_misuse.json", "/outcomes/0/levels/2")]
    assert "10–20" in overlap and "/outcomes/0/levels/1 (0–15)" in overlap
    metric = found[("okr_metrics_and_grades.json", "/objectives/0/key_results/0/metric")]
    assert metric.startswith("/objectives/0/key_results/0/metric: 'visits.done_ration'")
    assert "did you mean visits.done_ratio" in metric
    grade = found[("okr_metrics_and_grades.json", "/objectives/0/key_results/1/grade/if/1")]
    assert grade == "'A' is not a grade of this OKR (grades: fair, good)"
    kind = found[("scoring_misuse.json", "/sections/0/items/1/reverse")]
    assert kind == "'reverse' is not an option of items of type 'text'"


def test_the_cli_lists_them_with_file_and_pointer() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "rounds.cli", "definitions", "validate",
                          str(PLANTED / "rules_as_strings.json")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "rules_as_strings.json:/sections/0/items/0/visible_if: a rule is" in out.stdout
    assert "rules_as_strings.json:/alerts/0/when: a rule is" in out.stdout
