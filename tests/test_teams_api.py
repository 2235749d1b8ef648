"""Teams, transfers, business hours, auto-resolve settings and ratings over HTTP
(docs/api.md "Teams", "POST .../rating"), on a real server, SQLite and PostgreSQL: the
request and response shapes, and the refusals that change nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ORIGIN, Site
from tests.support import As, chat, new_visitor

# The API's shapes do not depend on the database (tests/test_teams.py runs the store on both).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def error_of(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code >= 400, response.text
    return response.status_code, str(response.json()["error"]["code"])


HOURS = {
    "timezone": "Europe/Paris",
    "week": {"mon": [["09:00", "17:00"]]},
    "holidays": ["2026-01-05"],
    "away_message": "Back on Tuesday.",
}


def test_teams_transfer_and_settings_over_the_api(http: httpx.Client, site: Site) -> None:
    admin, agent = As(http, site, "admin"), As(http, site, "agent")
    teams = f"/websites/{site.website_id}/teams"
    made = admin.ok(
        admin.post(
            teams, {"name": "Billing", "mode": "manual", "members": [site.operator_ids["agent"]]}
        ),
        201,
    )["team"]
    assert made["mode"] == "manual" and made["capacity"] == 5
    assert made["members"] == [site.operator_ids["agent"]]
    assert error_of(agent.post(teams, {"name": "Mine"})) == (403, "forbidden")
    assert error_of(admin.post(teams, {"name": "X", "capacity": 0}))[0] == 422
    assert error_of(admin.post(teams, {"name": "X", "mode": "lottery"}))[0] == 422
    assert agent.ok(agent.get(teams))["teams"] == [made]
    changed = admin.ok(admin.patch(f"{teams}/{made['id']}", {"capacity": 2, "name": "Money"}))
    assert (changed["team"]["capacity"], changed["team"]["name"]) == (2, "Money")

    who = chat(http, site.website_id, "My invoice?")
    conversation = f"/conversations/{who.conversation_id}"
    moved = agent.ok(agent.post(f"{conversation}/transfer", {"team_id": made["id"]}))
    assert moved["conversation"]["team_id"] == made["id"]
    assert error_of(agent.post(f"{conversation}/transfer", {})) == (422, "invalid_transfer")
    thread = agent.ok(agent.get(conversation))
    assert thread["messages"][-1]["type"] == "event"
    assert thread["messages"][-1]["body"].startswith("Transferred to Money")
    assert thread["ratings"] == []

    # Business hours and auto-resolve are website settings; the chatbox gets the hours.
    patched = admin.ok(
        admin.patch(
            f"/websites/{site.website_id}",
            {"settings": {"business_hours": HOURS, "auto_resolve_minutes": 60}},
        )
    )
    assert patched["website"]["settings"]["business_hours"]["week"]["tue"] == []
    refused = admin.patch(
        f"/websites/{site.website_id}",
        {"settings": {"business_hours": {**HOURS, "timezone": "Nowhere/Land"}}},
    )
    assert error_of(refused) == (422, "invalid_settings")
    assert "business_hours.timezone" in refused.json()["error"]["message"]
    # ManualClock starts on Thursday 1 January 2026, 12:00 UTC: closed until Monday 12th (the
    # 5th is a holiday), 09:00 in Paris (CET) = 08:00 UTC.
    visitor = new_visitor(http, site.website_id)
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"token": visitor.token, "page": {"url": "https://shop.example/"}},
        headers={"Origin": ORIGIN},
    ).json()
    assert opened["website"]["availability"] == {
        "online": False,
        "hours": {
            "open": False,
            "back_at": "2026-01-12T08:00:00Z",
            "away_message": "Back on Tuesday.",
        },
    }
    assert admin.delete(f"{teams}/{made['id']}").status_code == 204
    assert error_of(admin.delete(f"{teams}/{made['id']}")) == (404, "team_not_found")


def test_the_visitor_rates_a_resolved_conversation(http: httpx.Client, site: Site) -> None:
    agent = As(http, site, "agent")
    who = chat(http, site.website_id, "Hello")
    rating = f"/api/widget/v1/session/conversations/{who.conversation_id}/rating"
    assert error_of(http.post(rating, json={"rating": 5}, headers=who.headers())) == (
        409,
        "not_resolved",
    )
    agent.ok(agent.post(f"/conversations/{who.conversation_id}/resolve"))
    for wrong in ({"rating": 6}, {"rating": "5"}, {"rating": 3, "comment": "x" * 1001}, {}):
        assert error_of(http.post(rating, json=wrong, headers=who.headers()))[0] == 422
    other = chat(http, site.website_id, "Me too")
    assert error_of(http.post(rating, json={"rating": 1}, headers=other.headers())) == (
        404,
        "conversation_not_found",
    )
    assert http.post(rating, json={"rating": 5}).status_code == 401
    given = http.post(rating, json={"rating": 4, "comment": "Quick!"}, headers=who.headers())
    assert given.status_code == 200, given.text
    assert given.json()["rating"]["rating"] == 4
    thread = agent.ok(agent.get(f"/conversations/{who.conversation_id}"))
    assert [(r["rating"], r["comment"]) for r in thread["ratings"]] == [(4, "Quick!")]
