"""The inbox over real HTTP (a `rounds up` server on SQLite and on PostgreSQL): one's own
notifications only, unread first then newest, read one or all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from notification_helpers import Person, new_person, notify

from support.fieldwork import postgres_database
from support.live import LiveServer


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if request.param == "postgres" else None
        live = LiveServer(Path(tmp_path_factory.mktemp("inbox")), database_url=url)
        stack.callback(live.stop)
        yield live


def _get(person: Person, path: str, **params: object) -> httpx.Response:
    return httpx.get(person.server.url + path, headers=person.auth, params=params, timeout=30)


def _post(person: Person, path: str) -> httpx.Response:
    return httpx.post(person.server.url + path, headers=person.auth, timeout=30)


def _ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_inbox_is_mine_only_unread_first_then_newest(server: LiveServer) -> None:
    ann, bob = new_person(server), new_person(server)
    n1, n2, n3 = notify(server.database_url, ann.id, 3)
    (theirs,) = notify(server.database_url, bob.id)
    assert _post(ann, f"/api/notifications/{n3}/read").status_code == 200

    page = _get(ann, "/api/notifications")
    assert _ids(page) == [n2, n1, n3]  # unread (newest first), then read
    body = page.json()
    assert (body["total"], body["unread"]) == (3, 2)
    first = body["items"][0]
    assert first["kind"] == "issue_assigned" and first["unread"] is True
    assert first["message"] == {"zh": "通知 1", "en": "Notice 1"}
    assert first["text"] in first["message"].values()
    assert first["link"] == "/issues/1" and first["read_at"] is None
    assert body["items"][2]["read_at"] is not None
    assert theirs not in _ids(page)
    assert _ids(_get(bob, "/api/notifications")) == [theirs]


def test_pages_and_unread_only(server: LiveServer) -> None:
    ann = new_person(server)
    ids = notify(server.database_url, ann.id, 5)
    newest_first = ids[::-1]
    pages = [_ids(_get(ann, "/api/notifications", page=p, per_page=2)) for p in (1, 2, 3, 4)]
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:], []]
    assert _get(ann, "/api/notifications", per_page=2).json()["total"] == 5

    _post(ann, f"/api/notifications/{ids[0]}/read")
    unread = _get(ann, "/api/notifications", unread_only="true")
    assert _ids(unread) == newest_first[:4] and unread.json()["total"] == 4
    assert _get(ann, "/api/notifications", per_page=500).status_code == 400


def test_unread_count_and_marking_one_read_is_idempotent(server: LiveServer) -> None:
    ann = new_person(server)
    n1, _, _ = notify(server.database_url, ann.id, 3)
    assert _get(ann, "/api/notifications/unread-count").json() == {"unread": 3}

    first = _post(ann, f"/api/notifications/{n1}/read")
    assert first.status_code == 200, first.text
    assert first.json()["id"] == n1 and first.json()["unread"] is False
    again = _post(ann, f"/api/notifications/{n1}/read")
    assert again.status_code == 200
    assert again.json()["read_at"] == first.json()["read_at"]  # read once, when first read
    assert _get(ann, "/api/notifications/unread-count").json() == {"unread": 2}


def test_someone_elses_notification_is_not_found(server: LiveServer) -> None:
    ann, bob = new_person(server), new_person(server)
    (mine,) = notify(server.database_url, ann.id)
    r = _post(bob, f"/api/notifications/{mine}/read")
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "not_found"
    assert _post(bob, "/api/notifications/999999999/read").status_code == 404
    assert _get(ann, "/api/notifications/unread-count").json() == {"unread": 1}


def test_read_all_marks_only_mine(server: LiveServer) -> None:
    ann, bob = new_person(server), new_person(server)
    notify(server.database_url, ann.id, 3)
    notify(server.database_url, bob.id, 2)
    r = _post(ann, "/api/notifications/read-all")
    assert r.status_code == 200, r.text
    assert r.json() == {"marked": 3, "unread": 0}
    assert _post(ann, "/api/notifications/read-all").json() == {"marked": 0, "unread": 0}
    assert _get(ann, "/api/notifications/unread-count").json() == {"unread": 0}
    assert _get(bob, "/api/notifications/unread-count").json() == {"unread": 2}


def test_signed_in_only(server: LiveServer) -> None:
    for path in ("/api/notifications", "/api/notifications/unread-count",
                 "/api/notifications/stream"):
        assert httpx.get(server.url + path, timeout=30).status_code == 401
    assert httpx.post(server.url + "/api/notifications/read-all", timeout=30).status_code == 401
