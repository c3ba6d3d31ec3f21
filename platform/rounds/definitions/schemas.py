"""The meta-schemas of the definition kinds, loaded once from the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

KINDS = ("site_kind", "role", "standard", "survey", "okr")


@cache
def _documents() -> dict[str, dict[str, Any]]:
    folder = resources.files("rounds.definitions") / "schemas"
    return {
        name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("common", *KINDS)
    }


def meta_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a definition kind, as served by the API."""
    return _documents()[kind]


def common_schema() -> dict[str, Any]:
    return _documents()["common"]


@cache
def registry() -> Registry:
    resources_ = [
        (doc["$id"], Resource.from_contents(doc)) for doc in _documents().values()
    ]
    return Registry().with_resources(resources_)


@cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(meta_schema(kind), registry=registry())
