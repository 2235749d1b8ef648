"""A webhook's `events`: an event listed twice counts once (docs/api.md, "Webhooks"), before
the list's length is checked as well as after. Every name of the catalogue plus one repeated
was refused as "at most 7 items", while fewer names with a repeat were taken."""

from __future__ import annotations

import httpx

from tests.conftest import ServerThread, Site
from tests.test_errors import error_of

CATALOGUE = [
    "message.created",
    "conversation.created",
    "conversation.updated",
    "conversation.resolved",
    "conversation.rated",
    "conversation.deleted",
    "session.erased",
]


def test_a_repeated_event_counts_once_before_the_length_check(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    headers = {"Authorization": f"Bearer {site.tokens['owner']}"}
    hooks = f"/api/v1/websites/{site.website_id}/webhooks"
    repeated = [*CATALOGUE, "message.created"]
    created = http.post(
        hooks, json={"url": "https://example.com/hook", "events": repeated}, headers=headers
    )
    assert created.status_code == 201, created.text
    webhook = created.json()["webhook"]
    assert sorted(webhook["events"]) == sorted(CATALOGUE)

    path = f"/api/v1/webhooks/{webhook['id']}"
    narrowed = http.patch(path, json={"events": ["session.erased"] * 9}, headers=headers)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["webhook"]["events"] == ["session.erased"]
    widened = http.patch(path, json={"events": [*CATALOGUE, *CATALOGUE]}, headers=headers)
    assert sorted(widened.json()["webhook"]["events"]) == sorted(CATALOGUE)

    # What is not a name of the catalogue is still refused naming it, and nothing is made.
    unknown = http.post(
        hooks,
        json={"url": "https://example.com/other", "events": [*CATALOGUE, "message.sent"]},
        headers=headers,
    )
    error = error_of(unknown, 422)
    assert error["code"] == "invalid_request" and error["message"].startswith("events"), error
    assert error_of(
        http.post(hooks, json={"url": "https://example.com/x", "events": []}, headers=headers),
        422,
    )["message"].startswith("events")
    assert len(http.get(hooks, headers=headers).json()["webhooks"]) == 1
