"""Rollback: the current version follows the content of the files. Returning a file to
earlier content makes that version current again (its number reused, not a new version),
and the history says when it became current again."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import DefinitionDocument, load_documents
from rounds.runtime.definitions import service

REPO = Path(__file__).resolve().parents[3]
Sessions = async_sessionmaker[AsyncSession]
SURVEY = Path("surveys") / "retailer_satisfaction.json"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rounds.cli", *args], capture_output=True,
                          text=True, env=env, check=False)


def test_cli_sync_back_to_earlier_content_makes_it_current_again(tmp_path: Path) -> None:
    defs = tmp_path / "definitions"
    shutil.copytree(REPO / "definitions", defs)
    env = {"ROUNDS_DATA_DIR": str(tmp_path / "var"), "ROUNDS_DEFINITIONS_DIR": str(defs),
           "PATH": "/usr/bin:/bin"}
    survey = defs / SURVEY
    v1_text = survey.read_text(encoding="utf-8")
    assert _run(env, "definitions", "sync").returncode == 0

    v2 = json.loads(v1_text)
    v2["title"]["en"] = "Retailer satisfaction (v2)"
    survey.write_text(json.dumps(v2, ensure_ascii=False), encoding="utf-8")
    second = _run(env, "definitions", "sync")
    assert "retailer_satisfaction: version 2 (published" in second.stdout

    survey.write_text(v1_text, encoding="utf-8")  # git checkout of the earlier file
    third = _run(env, "definitions", "sync")
    assert third.returncode == 0, third.stderr
    assert "retailer_satisfaction: version 1 is current again" in third.stdout
    assert "0 new, 1 restored" in third.stdout

    # What the app serves as current is version 1's content, and the history says when.
    script = (
        "import asyncio, json\n"
        "from rounds.settings import load_settings\n"
        "from rounds.db import create_engine, session_factory\n"
        "from rounds.runtime.definitions import service\n"
        "async def main():\n"
        "    e = create_engine(load_settings().database_url)\n"
        "    async with session_factory(e)() as s:\n"
        "        v = await service.get_version(s, 'retailer_satisfaction')\n"
        "        h = await service.current_history(s, 'retailer_satisfaction')\n"
        "        print(json.dumps({'number': v.number, 'title': v.content['title']['en'],\n"
        "              'history': [[x.number, x.reason, x.at] for x in h]}))\n"
        "    await e.dispose()\n"
        "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, check=True)
    state = json.loads(out.stdout)
    assert state["number"] == 1
    assert state["title"] == json.loads(v1_text)["title"]["en"]
    assert [h[:2] for h in state["history"]] == [[1, "published"], [2, "published"],
                                                 [1, "restored"]]
    assert state["history"][2][2] >= state["history"][1][2]

    fourth = _run(env, "definitions", "sync")  # running it again changes nothing
    every = len(list((REPO / "definitions").rglob("*.json")))  # each file, once
    assert fourth.stdout.strip().endswith(f"0 new, {every} unchanged")


def _docs_with(title_en: str) -> list[DefinitionDocument]:
    docs, problems = load_documents([REPO / "definitions"])
    assert not problems
    out = []
    for d in docs:
        if d.id == "retailer_satisfaction":
            content: dict[str, Any] = json.loads(json.dumps(d.content))
            content["title"]["en"] = title_en
            d = DefinitionDocument(d.source, content)
        out.append(d)
    return out


async def test_the_current_version_follows_content_for_every_reader(sessions: Sessions
                                                                     ) -> None:
    original = _docs_with("Retailer satisfaction")
    async with transaction(sessions) as s:
        await service.sync(s, original)
    async with transaction(sessions) as s:
        await service.sync(s, _docs_with("Retailer satisfaction, second edition"))
    async with sessions() as s:
        assert (await service.get_version(s, "retailer_satisfaction")).number == 2
    async with transaction(sessions) as s:
        report = await service.sync(s, original)
    assert [r[:2] for r in report.restored] == [("retailer_satisfaction", 1)]
    assert report.created == []
    async with sessions() as s:
        listed, _ = await service.list_definitions(s, kind="survey")
        assert {d.id: (d.current_version, d.latest_version) for d in listed} == {
            "retailer_satisfaction": (1, 2), "retailer_business_pressure": (1, 1),
            "market_price_stock": (1, 1), "consumer_satisfaction": (1, 1)}
        current = await service.get_version(s, "retailer_satisfaction")
        assert (current.number, current.content["title"]["en"]) == (1, "Retailer satisfaction")
        assert (await service.current_versions(s, ids=["retailer_satisfaction"]))[
            "retailer_satisfaction"].number == 1
        history = await service.current_history(s, "retailer_satisfaction")
        assert [(h.number, h.reason) for h in history] == [
            (1, "published"), (2, "published"), (1, "restored")]
    # The admin way: publishing version 2 again makes it current again too.
    async with transaction(sessions) as s:
        await service.publish(s, "retailer_satisfaction", 2)
    async with sessions() as s:
        assert (await service.get_version(s, "retailer_satisfaction")).number == 2
        assert [h.reason for h in await service.current_history(
            s, "retailer_satisfaction")][-1] == "restored"


async def test_a_draft_with_earlier_content_reuses_that_version(sessions: Sessions) -> None:
    original = _docs_with("Retailer satisfaction")
    async with transaction(sessions) as s:
        await service.sync(s, original)
    async with transaction(sessions) as s:
        await service.sync(s, _docs_with("Retailer satisfaction, second edition"))
    survey = next(d for d in original if d.id == "retailer_satisfaction")
    async with transaction(sessions) as s:
        draft = await service.save_draft(s, survey.content)
    assert draft.number == 1  # not a duplicate version (this used to fail on a unique key)
