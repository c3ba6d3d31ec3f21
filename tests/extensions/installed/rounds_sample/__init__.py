"""A sample extension with one of each part, for the tests of the mechanism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import get

from rounds.extensions import Extension, MenuEntry
from rounds.rules.operations import Operation

HERE = Path(__file__).parent


def twice(value: Any) -> Any:
    """Twice a number; null for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value * 2


@get("/api/sample", opt={"public": True}, tags=["sample"])
async def sample_answer() -> dict[str, bool]:
    return {"sample": True}


extension = Extension(
    name="sample", title={"zh": "示例扩展", "en": "Sample extension"},
    distribution="rounds-sample", definitions=HERE / "definitions",
    operations=[Operation("sample_twice", twice, 1, 1, "any", "twice a number")],
    capabilities=["sample.use"], grants={"market_inspector": ["sample.use"]},
    migrations=HERE / "migrations",
    handlers=lambda settings: [sample_answer],
    menu=[MenuEntry("/api/sample", {"zh": "示例", "en": "Sample"}, "sample.use")])
