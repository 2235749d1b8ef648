"""A cursor the API did not give is `422 invalid_cursor` (docs/api.md, "Conversations"), on
both paged lists: also one in the API's own form (a time and an id in base64url, which anyone
can write), one cut short or lengthened (a copy that lost its last character paged on from
another place), and one of the other list. The cursors the API gives still page, across a
restart of the server (they are signed with its secret key, which every node shares)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx

from causerie.settings import Settings
from tests.conftest import ServerThread, Site
from tests.test_session_endpoint import open_session


def _owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _refused(http: httpx.Client, path: str, site: Site, cursor: str) -> bool:
    answer = http.get(path, params={"limit": 2, "cursor": cursor}, headers=_owner(site))
    return answer.status_code == 422 and answer.json()["error"] == {
        "code": "invalid_cursor",
        "message": "cursor: not a cursor this API gave",
    }


def test_only_the_cursors_the_api_gave_for_that_list_page(
    http: httpx.Client,
    site: Site,
    settings: Settings,
    start_server: Callable[[Settings], ServerThread],
) -> None:
    for _ in range(5):
        token = open_session(http, site.website_id).json()["token"]
        sent = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": "c1", "body": "hello"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 201, sent.text
    for n in range(4):  # audit entries: label changes
        made = http.post(
            f"/api/v1/websites/{site.website_id}/labels",
            json={"name": f"L{n}", "color": "#aabbcc"},
            headers=_owner(site),
        )
        assert made.status_code == 201, made.text
    lists = {
        "conversations": f"/api/v1/websites/{site.website_id}/conversations",
        "audit": f"/api/v1/websites/{site.website_id}/audit",
    }
    given = {}
    for name, path in lists.items():
        first = http.get(path, params={"limit": 2}, headers=_owner(site)).json()
        given[name] = first["next_cursor"]
        assert given[name]

    # The API's own form, written by hand: the place of the list's second row.
    second = http.get(lists["conversations"], params={"limit": 2}, headers=_owner(site)).json()
    row = second["conversations"][1]
    at = row["last_message_at"].replace("Z", "+00:00")
    by_hand = base64.urlsafe_b64encode(f"{at}|{row['id']}".encode()).decode().rstrip("=")
    for name, path in lists.items():
        cursor = given[name]
        other = given["audit" if name == "conversations" else "conversations"]
        for made_up in (by_hand, cursor[:-1], cursor + "0", cursor[1:], other):
            assert _refused(http, path, site, made_up), (name, made_up)

    # A restarted server (or another node: the same key) pages on from the cursors it gave.
    again = start_server(settings)
    with httpx.Client(base_url=again.url, timeout=10) as other_node:
        for name, path in lists.items():
            page = other_node.get(
                path, params={"limit": 2, "cursor": given[name]}, headers=_owner(site)
            )
            assert page.status_code == 200, page.text
            rows = page.json()["conversations" if name == "conversations" else "entries"]
            assert len(rows) == 2
