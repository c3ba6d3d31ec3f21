"""docs/metrics.md is the catalogue for people: written from the catalogue, kept equal."""

from __future__ import annotations

from pathlib import Path

from rounds.definitions.metrics import CATALOGUE
from rounds.definitions.metrics_doc import FACTS, catalogue_markdown
from rounds.runtime.store.models import MEASURES

DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"


def test_the_document_is_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/metrics.md differs from the catalogue: run "
        "`python -m rounds.definitions.metrics_doc > docs/metrics.md`")


def test_every_metric_and_fact_is_described() -> None:
    text = DOC.read_text(encoding="utf-8")
    for metric_id in CATALOGUE:
        assert f"### `{metric_id}`" in text
    assert set(MEASURES) <= set(FACTS)
