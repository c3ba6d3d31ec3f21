"""`rounds demo` gives a board that looks like three real months: issues in every state of the
loop, overdue and escalated ones, each due after it was found, notes about its own item."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from rounds.demo.notes import NOTES
from support.live import DEFINITIONS, REPO, LiveServer, api_token, in_database

# No issue is left open: routing falls back to the nearest head (see test_issue_routing).
STATES = ("assigned", "in_progress", "rectified", "verified", "closed")


def _board(server: LiveServer, auth: dict[str, str], **query: Any) -> dict[str, Any]:
    r = httpx.get(server.url + "/api/issues", params={"per_page": 200, **query}, headers=auth)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def test_rounds_demo_fills_the_board_with_three_months_of_issues(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {**os.environ, "ROUNDS_DATA_DIR": str(data), "ROUNDS_DEFINITIONS_DIR": str(DEFINITIONS)}
    made = subprocess.run([sys.executable, "-m", "rounds.cli", "demo"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "issues:" in made.stdout

    server = LiveServer(data)  # no worker: what the board shows is what `rounds demo` made
    try:
        leader = api_token(server, "leader", "rounds-demo")
        for state in STATES:
            page = _board(server, leader, status=state)
            assert page["total"] > 0, f"no {state} issue on the board"
            assert all(i["status"] == state for i in page["items"])
        overdue = _board(server, leader, overdue="true")
        assert overdue["total"] > 0
        assert all(i["overdue"] for i in overdue["items"])
        assert any(i["escalation_level"] >= 1 for i in overdue["items"])  # 督办

        everything: list[dict[str, Any]] = []
        page_no = 1
        while True:
            page = _board(server, leader, page=page_no)
            everything += page["items"]
            if len(everything) >= page["total"] or not page["items"]:
                break
            page_no += 1
        for issue in everything:  # each found first, due after
            assert datetime.fromisoformat(issue["due_at"]) > datetime.fromisoformat(
                issue["created_at"]), issue

        # An issue's history and notes are about its own item.
        closed = _board(server, leader, status="closed")["items"]
        with_notes = [i for i in closed if i.get("item_id") in NOTES][:10]
        assert with_notes
        for issue in with_notes:
            r = httpx.get(f"{server.url}/api/issues/{issue['id']}", headers=leader)
            assert r.status_code == 200
            detail = r.json()
            actions = [e["action"] for e in detail["events"]]
            assert actions[:2] == ["created", "assigned"] and actions[-1] == "closed"
            assert "rectified" in actions and "verified" in actions
            fix = next(e for e in detail["events"] if e["action"] == "rectified")
            assert fix["data"]["note"] in NOTES[issue["item_id"]][1]
            times = [e["at"] for e in detail["events"]]
            assert times == sorted(times)  # in the order they happened
    finally:
        server.stop()

    async def notes_of_failed_items(db: Any) -> list[tuple[str, str]]:
        from sqlalchemy import select

        from rounds.runtime.submissions.models import Submission

        rows = (await db.execute(select(Submission.evidence).where(
            Submission.failed_count > 0).limit(300))).scalars().all()
        return [(item, e["note"]) for ev in rows for item, e in (ev or {}).items()
                if isinstance(e, dict) and e.get("note")]

    notes = in_database(server.database_url, notes_of_failed_items)
    assert notes
    for item, note in notes:  # the field worker's note says what was wrong with that item
        assert item not in NOTES or note in NOTES[item][0], (item, note)

    async def issue_times(db: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import select

        from rounds.runtime.issues.models import Issue

        return list((await db.execute(select(
            Issue.created_at, Issue.due_at, Issue.closed_at, Issue.status,
            Issue.escalation_level))).all())

    # Three months of them: each month has issues closed on time and closed late, some that
    # were escalated before they were closed, and some still open.
    rows = in_database(server.database_url, issue_times)
    months = sorted({created.strftime("%Y-%m") for created, *_ in rows})
    assert len(months) == 3, months
    for month in months[:2]:
        of_month = [r for r in rows if r[0].strftime("%Y-%m") == month]
        closed = [r for r in of_month if r[3] == "closed"]
        assert any(r[2] <= r[1] for r in closed), month  # on time
        assert any(r[2] > r[1] for r in closed), month  # late
        assert any(r[4] >= 1 for r in closed), month  # escalated (督办), then closed
        assert any(r[3] != "closed" for r in of_month), month  # still open

    async def store_and_grades(db: Any) -> tuple[int, int, list[tuple[Any, ...]]]:
        from sqlalchemy import func, select

        from rounds.runtime.okr.models import OkrGrade
        from rounds.runtime.store.models import ClosedDay, DayFact

        closed = (await db.execute(select(func.count()).select_from(ClosedDay))).scalar_one()
        facts = (await db.execute(select(func.count()).select_from(DayFact))).scalar_one()
        grades = (await db.execute(select(
            OkrGrade.okr_id, OkrGrade.period, OkrGrade.subject_kind, OkrGrade.subject_id,
            OkrGrade.score, OkrGrade.frozen))).all()
        return int(closed), int(facts), list(grades)

    # The store is built and every past day closed; the two closed months are graded and
    # frozen, and people's grades moved between them.
    closed, facts, grades = in_database(server.database_url, store_and_grades)
    assert facts > 0
    assert closed >= 58  # the two previous months, whole, and this one up to yesterday
    periods = sorted({g[1] for g in grades})
    assert periods == months[:2], (periods, months)
    assert all(g[5] for g in grades)  # frozen
    scores = {(g[0], g[3], g[1]): g[4] for g in grades if g[2] == "person"}
    moved = [abs(s - scores[(okr, who, periods[1])]) for (okr, who, period), s in scores.items()
             if period == periods[0] and s is not None
             and scores.get((okr, who, periods[1])) is not None]
    assert moved and max(moved) >= 0.1, moved
