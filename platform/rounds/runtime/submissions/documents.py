"""What a submission stores and how the API shows it: the photos it refers to, the kept
evaluation, the failed items (the seeds of issues), and the document built from a stored row.

Imports: the forms and rules engines only (pure functions of a form and its answers).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from rounds.forms.compiled import CompiledForm
from rounds.pointer import path as pointer
from rounds.rules.explain import explain_text
from rounds.rules.generated import Scored
from rounds.rules.results import Evaluation, Failure, Score
from rounds.rules.structure import ScoreModel


def signature_refs(form: CompiledForm, answers: Any) -> dict[str, str]:
    """JSON pointer → photo id, for every signature drawn (a PNG uploaded as a photo)."""
    refs: dict[str, str] = {}
    if not isinstance(answers, dict):
        return refs
    for path, value in _answers_of_type(form, answers, "signature"):
        if isinstance(value, dict) and isinstance(value.get("photo"), str):
            refs[pointer((*path, "photo"))] = value["photo"]
    return refs


# Form → item type → where its answers are: (item id, None) for an item of the type, (group
# id, its entries' items of the type) for a group. Worked out once per compiled form: walking
# every item for each lookup cost a visible share of a submission's time.
_WHERE: weakref.WeakKeyDictionary[CompiledForm, dict[str, tuple[
    tuple[str, tuple[str, ...] | None], ...]]] = weakref.WeakKeyDictionary()


def _places(form: CompiledForm, item_type: str) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    by_type = _WHERE.get(form)
    if by_type is None:
        by_type = _WHERE[form] = {}
    found = by_type.get(item_type)
    if found is None:
        places: list[tuple[str, tuple[str, ...] | None]] = []
        for fi in form.items:
            if fi.type == item_type:
                places.append((fi.id, None))
            elif fi.type == "group":
                subs = tuple(s.id for s in fi.entry_items() if s.type == item_type)
                if subs:
                    places.append((fi.id, subs))
        found = by_type[item_type] = tuple(places)
    return found


def _answers_of_type(form: CompiledForm, answers: dict[str, Any], item_type: str
                     ) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(path, value) of every answer to an item of ``item_type``, in group entries too."""
    for item_id, subs in _places(form, item_type):
        value = answers.get(item_id)
        if subs is None:
            yield ("answers", item_id), value
        elif isinstance(value, list):
            for n, entry in enumerate(value):
                if isinstance(entry, dict):
                    for s in subs:
                        yield ("answers", item_id, n, s), entry.get(s)


def photo_refs(form: CompiledForm, answers: Any, evidence: Any) -> dict[str, str]:
    """JSON pointer → photo id, for every photo an answer, a signature or an evidence entry
    refers to."""
    refs: dict[str, str] = signature_refs(form, answers)
    if not isinstance(answers, dict):
        return refs

    def add(path: tuple[str | int, ...], ids: Any) -> None:
        if isinstance(ids, list):
            for i, pid in enumerate(ids):
                refs[pointer((*path, i))] = str(pid)

    for path, ids in _answers_of_type(form, answers, "photo"):
        add(path, ids)
    for key, entry in (evidence.items() if isinstance(evidence, dict) else ()):
        if isinstance(entry, dict):
            add(("evidence", key, "photos"), entry.get("photos"))
    return refs


def stored_evaluation(ev: Evaluation | Scored) -> dict[str, Any]:
    """What is kept of an evaluation: the score with its explanation (``score.items``: how
    each item counted and which rule decided it), the outcomes with theirs, failed items,
    alerts, calculated values. The write path gives the generated evaluation's record
    (``ValidSubmission.scored``), already in this form."""
    if isinstance(ev, Scored):
        return ev.stored()
    data: dict[str, Any] = msgspec.to_builtins({
        "score": ev.score, "outcomes": ev.outcomes, "failed": ev.failed,
        "alerts": ev.alerts, "calculated": ev.calculated, "errors": ev.errors})
    return data


def score_columns(ev: Evaluation | Scored) -> dict[str, Any]:
    """The submission row's score columns, at full precision (rounding is for display): the
    points and their max, the percentage (in that model only), the value in the
    definition's model with the model and the direction, passed, the first outcome's level."""
    if isinstance(ev, Scored):
        s = ev.score
        return {"total": s["points"], "max_total": s["max"], "percentage": s["percentage"],
                "passed": s["passed"], "score_value": s["value"], "score_model": s["model"],
                "direction": s["direction"],
                "outcome": ev.outcomes[0]["level"] if ev.outcomes else None}
    sc = ev.score
    return {"total": sc.points, "max_total": sc.max, "percentage": sc.percentage,
            "passed": sc.passed, "score_value": sc.value, "score_model": sc.model,
            "direction": sc.direction,
            "outcome": ev.outcomes[0].level if ev.outcomes else None}


def explanation_text(score: Any, lang: str) -> str:
    """The stored score explained in a few lines (built on reading: it is not stored, and
    the write path does not pay for it)."""
    sc = msgspec.convert(score, Score)
    ev = Evaluation(definition="", answers={}, calculated={}, visible={}, required={},
                    evidence={}, entries=[], failed=[], score=sc, alerts=[], errors=[])
    return explain_text(ev, lang)


def failed_item_rows(submission_id: str, failed: Sequence[Failure | Mapping[str, Any]],
                     site_id: int | None, at: datetime) -> list[dict[str, Any]]:
    """One row per failed item: the seeds of issues (``Evaluation.failed``, or the stored
    form of it, ``Scored.failed``)."""
    return [{"submission_id": submission_id, "item_id": f["item"], "severity": f["severity"],
             "site_id": site_id, "created_at": at} if isinstance(f, Mapping) else
            {"submission_id": submission_id, "item_id": f.item, "severity": f.severity,
             "site_id": site_id, "created_at": at} for f in failed]


# A score stored before scoring models was what a definition without ``scoring`` gives: a
# percentage, higher better, shown to the default digits.
_OLD_SCORE = {"model": ScoreModel().model, "direction": ScoreModel().direction,
              "digits": ScoreModel().digits, "has_total": True}


def _score_view(row: Mapping[Any, Any], score: Mapping[str, Any]) -> dict[str, Any]:
    """The stored score with its model, direction, digits and value (filled in for a row
    stored before scoring models, from its columns)."""
    if "model" in score:
        return dict(score)
    return {**score, **_OLD_SCORE, "model": row.get("score_model") or "percentage",
            "direction": row.get("direction") or "higher_better",
            "value": row.get("score_value", score.get("percentage")),
            "sections": [{**_OLD_SCORE, "value": s.get("percentage"), **s}
                         for s in score.get("sections") or []]}


def render(row: Mapping[Any, Any], version_number: int) -> dict[str, Any]:
    """The API's view of a stored submission, built from the row alone, so that the first
    answer (201) and every retry (200) are the same document: the score in its model
    (``score.model``, ``direction``, ``digits``, ``value``; full precision), the outcomes
    with why each level was chosen, and ``outcome``, the first outcome's level."""
    ev = row["evaluation"]
    return {
        "id": row["id"], "definition_id": row["definition_id"],
        "version": row["content_hash"], "version_number": version_number,
        "user_id": row["user_id"], "site_id": row["site_id"], "visit_id": row["visit_id"],
        "submitted_at": row["submitted_at"].isoformat(),
        "score": _score_view(row, ev["score"]), "outcomes": ev.get("outcomes") or [],
        "outcome": row.get("outcome"), "alerts": ev["alerts"],
        "failed_items": ev["failed"], "calculated": ev["calculated"],
        "rule_errors": ev["errors"], "answers": row["answers"], "evidence": row["evidence"],
        "dropped": ev.get("dropped") or [],
    }
