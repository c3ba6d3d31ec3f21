"""The definition store on real SQLite and PostgreSQL: sync, versions, drafts, immutability."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import DefinitionDocument, content_hash, load_documents
from rounds.errors import NotFound
from rounds.runtime.definitions import service
from rounds.runtime.definitions.models import DefinitionVersion

REPO = Path(__file__).resolve().parents[3]
Sessions = async_sessionmaker[AsyncSession]


def folder_docs() -> list[DefinitionDocument]:
    docs, problems = load_documents([REPO / "definitions"])
    assert not problems
    return docs


async def version_count(sessions: Sessions) -> int:
    async with sessions() as s:
        return int((await s.execute(select(func.count()).select_from(DefinitionVersion)))
                   .scalar_one())


async def test_sync_is_idempotent_and_versions_only_what_changed(sessions: Sessions) -> None:
    docs = folder_docs()
    async with transaction(sessions) as s:
        first = await service.sync(s, docs)
    assert len(first.created) == len(docs)
    assert all(number == 1 for _, number, _ in first.created)

    async with transaction(sessions) as s:
        again = await service.sync(s, docs)
    assert again.created == []
    assert sorted(again.unchanged) == sorted(d.id for d in docs if d.id)
    assert await version_count(sessions) == len(docs)

    # Same content with another key order is the same version.
    reordered = [DefinitionDocument(d.source, json.loads(json.dumps(d.content, sort_keys=True)))
                 for d in docs]
    async with transaction(sessions) as s:
        assert (await service.sync(s, reordered)).created == []

    changed = copy.deepcopy(docs)
    std = next(d for d in changed if d.id == "customer_manager_visit")
    std.content["pass_percentage"] = 75
    async with transaction(sessions) as s:
        third = await service.sync(s, changed)
    assert [(i, n) for i, n, _ in third.created] == [("customer_manager_visit", 2)]
    async with sessions() as s:
        current = await service.get_version(s, "customer_manager_visit")
        assert current.number == 2
        assert current.content["pass_percentage"] == 75
        assert current.content_hash == content_hash(std.content)
        old = await service.get_version(s, "customer_manager_visit", 1)
        assert old.content["pass_percentage"] != 75
        by_hash = await service.get_version(s, "customer_manager_visit", old.content_hash[:10])
        assert by_hash.number == 1


async def test_an_invalid_folder_imports_nothing(sessions: Sessions) -> None:
    docs = folder_docs()
    broken = copy.deepcopy(docs)
    role = next(d for d in broken if d.id == "customer_manager")
    role.content["standards"].append("no_such_standard")
    std = next(d for d in broken if d.id == "delivery_service")
    std.content["sections"][0]["items"][0]["visible_if"] = {"nope": []}
    with pytest.raises(service.DefinitionInvalid) as err:
        async with transaction(sessions) as s:
            await service.sync(s, broken)
    codes = sorted(p.code for p in err.value.problems)
    assert codes == ["unknown_operation", "unknown_reference"]
    assert await version_count(sessions) == 0


async def test_published_versions_never_change(sessions: Sessions) -> None:
    docs = folder_docs()
    async with transaction(sessions) as s:
        await service.sync(s, docs)
    with pytest.raises(service.PublishedVersionImmutable):
        async with transaction(sessions) as s:
            v = await service.get_version(s, "retailer_satisfaction")
            v.content = {**v.content, "title": {"zh": "改", "en": "Changed"}}
            await s.flush()
    async with sessions() as s:
        v = await service.get_version(s, "retailer_satisfaction")
        assert v.content["title"]["en"] != "Changed"
        assert v.content_hash == content_hash(v.content)


async def test_drafts_change_until_published(sessions: Sessions) -> None:
    docs = folder_docs()
    async with transaction(sessions) as s:
        await service.sync(s, docs)
    content: dict[str, Any] = copy.deepcopy(
        next(d for d in docs if d.id == "leader_spot_check").content)
    content["pass_percentage"] = 70
    async with transaction(sessions) as s:
        draft = await service.save_draft(s, content)
    assert (draft.number, draft.status) == (2, "draft")
    content["pass_percentage"] = 65
    async with transaction(sessions) as s:
        draft = await service.save_draft(s, content)
    assert (draft.number, draft.content["pass_percentage"]) == (2, 65)
    async with sessions() as s:  # the current version is still the published one
        assert (await service.get_version(s, "leader_spot_check")).number == 1
    async with transaction(sessions) as s:
        await service.publish(s, "leader_spot_check", 2)
    content["pass_percentage"] = 60
    async with transaction(sessions) as s:
        newer = await service.save_draft(s, content)
    assert (newer.number, newer.status) == (3, "draft")
    async with sessions() as s:
        assert (await service.get_version(s, "leader_spot_check")).content[
            "pass_percentage"] == 65
        with pytest.raises(NotFound):
            await service.get_version(s, "leader_spot_check", 9)
        page, total = await service.list_definitions(s, kind="standard", limit=2)
        assert total == 5 and len(page) == 2


def test_cli_sync_twice_changes_nothing(tmp_path: Path) -> None:
    defs = tmp_path / "definitions"
    shutil.copytree(REPO / "definitions", defs)
    env = {"ROUNDS_DATA_DIR": str(tmp_path / "var"), "ROUNDS_DEFINITIONS_DIR": str(defs),
           "PATH": "/usr/bin:/bin"}

    def sync() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rounds.cli", "definitions", "sync"],
                              capture_output=True, text=True, env=env, check=False)

    first = sync()
    assert first.returncode == 0, first.stderr
    n = len(list(defs.rglob("*.json")))
    assert first.stdout.strip().endswith(f"{n} new, 0 unchanged")
    second = sync()
    assert second.stdout.strip().endswith(f"0 new, {n} unchanged")
    survey = defs / "surveys" / "retailer_satisfaction.json"
    data = json.loads(survey.read_text(encoding="utf-8"))
    data["title"]["en"] = "Retailer satisfaction (2027)"
    survey.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    third = sync()
    assert "retailer_satisfaction: version 2 (published" in third.stdout
    assert third.stdout.strip().endswith(f"1 new, {n - 1} unchanged")
