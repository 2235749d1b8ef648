"""Two requests changing one thing at once, on PostgreSQL (where transactions run side by side;
SQLite's writers take turns): a change that merges into what is stored (a visitor's custom data,
a website's settings, an operator's preferences) keeps the other's, and a limit on how many
objects a website holds (webhooks, labels, canned replies) is not passed by two creations at
once. Each race is made to happen, not hoped for: the other change is written in a transaction
held open while the request runs, and committed once the request is waiting on its row, or has
answered (which it must not do before it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.domain.labels import Label
from causerie.domain.models import Actor, Role, Scope
from causerie.domain.ports import Tx
from causerie.domain.replies import CannedReply
from causerie.domain.webhooks import Webhook
from causerie.tokens import new_id
from tests.conftest import ORIGIN, Harness, Site
from tests.support import until_pg_backend


@pytest.fixture
def database_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's writers take turns: two transactions never run side by side")
    return database_url


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _during(
    harness: Harness, other: Callable[[Tx], Awaitable[None]], request: Callable[[], httpx.Response]
) -> httpx.Response:
    """`request`'s answer, sent while `other` is written and not yet committed; committed as
    soon as the request waits on a lock, or has answered."""

    async def race() -> httpx.Response:
        async with harness.rt.store.transaction() as tx:
            await other(tx)
            answer = asyncio.ensure_future(asyncio.to_thread(request))
            waiting = asyncio.ensure_future(
                until_pg_backend(harness, "wait_event_type = 'Lock'", "the request never waited")
            )
            await asyncio.wait({answer, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        return await answer

    return harness.run(race())


def _sql(sql: str, **params: Any) -> Callable[[Tx], Awaitable[None]]:
    async def run(tx: Tx) -> None:
        await tx.db.execute(text(sql).bindparams(**params))  # type: ignore[attr-defined]

    return run


def _visitor(http: httpx.Client, site: Site) -> tuple[str, dict[str, str]]:
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/"}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    return body["session"]["id"], {"Authorization": f"Bearer {body['token']}", "Origin": ORIGIN}


def test_two_profile_changes_at_once_both_hold(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    """The chatbox sets `plan` while the host page's SDK sets `nickname` and `seats`: each
    merges into what is stored. The request read the row before the other change committed,
    then wrote the stale row back over it (`plan` and the nickname lost)."""
    session_id, visitor = _visitor(http, site)
    assert http.patch(
        "/api/widget/v1/session/profile", json={"data": {"plan": "free"}}, headers=visitor
    ).json()["session"]["profile"]["data"] == {"plan": "free"}

    other = _sql(
        "UPDATE sessions SET nickname = 'Ada', data = CAST(:data AS JSONB) WHERE id = :id",
        data=json.dumps({"plan": "pro"}),
        id=session_id,
    )
    changed = _during(
        harness,
        other,
        lambda: http.patch(
            "/api/widget/v1/session/profile", json={"data": {"seats": 3}}, headers=visitor
        ),
    )
    assert changed.status_code == 200, changed.text
    profile = changed.json()["session"]["profile"]
    assert profile["nickname"] == "Ada"
    assert profile["data"] == {"plan": "pro", "seats": 3}

    # An agent's correction merges the same way.
    other = _sql("UPDATE sessions SET email = 'ada@mail.example' WHERE id = :id", id=session_id)
    corrected = _during(
        harness,
        other,
        lambda: http.patch(
            f"/api/v1/sessions/{session_id}/profile",
            json={"data": {"seats": 4}},
            headers=owner(site),
        ),
    )
    assert corrected.status_code == 200, corrected.text
    profile = corrected.json()["session"]["profile"]
    assert profile["email"] == "ada@mail.example"
    assert profile["data"] == {"plan": "pro", "seats": 4}


def test_two_changes_of_a_websites_settings_at_once_both_hold(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    """One admin sets the colour while another sets the greeting: settings merge with the
    stored ones (docs/api.md), whoever commits first."""
    path = f"/api/v1/websites/{site.website_id}"
    before = http.get(path, headers=owner(site)).json()["website"]["settings"]
    other = _sql(
        "UPDATE websites SET settings = CAST(:settings AS JSONB) WHERE id = :id",
        settings=json.dumps({**before, "color": "#112233"}),
        id=site.website_id,
    )
    changed = _during(
        harness,
        other,
        lambda: http.patch(path, json={"settings": {"greeting": "Hello"}}, headers=owner(site)),
    )
    assert changed.status_code == 200, changed.text
    settings = http.get(path, headers=owner(site)).json()["website"]["settings"]
    assert (settings["color"], settings["greeting"]) == ("#112233", "Hello")


def test_two_changes_of_an_operators_preferences_at_once_both_hold(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    """The inbox's preferences page sends one switch at a time: two switched at once both
    hold. The row is locked through its operator, whose preferences may not be stored yet."""
    operator_id = site.operator_ids["owner"]
    assert (
        http.patch(
            "/api/v1/me",
            json={"notification_preferences": {"mail_digest": False}},
            headers=owner(site),
        ).json()["notification_preferences"]["mail_digest"]
        is False
    )

    async def other(tx: Tx) -> None:
        await tx.operators.lock(operator_id)  # as a change of the preferences does
        stored = await tx.mail.get_preferences(operator_id)
        await tx.mail.set_preferences(
            operator_id, {**stored, "mail_digest": True}, harness.rt.clock.now()
        )

    changed = _during(
        harness,
        other,
        lambda: http.patch(
            "/api/v1/me",
            json={"notification_preferences": {"mail_mentions": False}},
            headers=owner(site),
        ),
    )
    assert changed.status_code == 200, changed.text
    preferences = http.get("/api/v1/me", headers=owner(site)).json()["notification_preferences"]
    assert (preferences["mail_digest"], preferences["mail_mentions"]) == (True, False)


@pytest.mark.parametrize("kind", ["webhooks", "labels", "replies"])
def test_two_creations_at_once_do_not_pass_a_websites_limit(
    http: httpx.Client, harness: Harness, site: Site, kind: str
) -> None:
    """A website holds at most 20 webhooks, 200 labels, 500 canned replies: with one place
    left, a creation under way and a request at once make one, and the request is refused
    (409). Both were counted before either was stored, and both were made."""
    path = f"/api/v1/websites/{site.website_id}/{kind}"
    limit = {"webhooks": 20, "labels": 200, "replies": 500}[kind]

    def body(n: int) -> dict[str, Any]:
        if kind == "webhooks":
            return {"url": f"https://hooks{n}.example.com/in", "events": ["message.created"]}
        if kind == "labels":
            return {"name": f"Label {n}", "color": "#aabbcc"}
        return {"shortcut": f"r{n}", "title": f"Reply {n}", "body": "Thanks!"}

    for n in range(limit - 1):
        made = http.post(path, json=body(n), headers=owner(site))
        assert made.status_code == 201, made.text

    async def other(tx: Tx) -> None:
        """The last place taken by a creation under way, as the API makes one."""
        assert await tx.websites.lock(site.website_id) is not None
        now = harness.rt.clock.now()
        if kind == "webhooks":
            await tx.webhooks.insert(
                Webhook(
                    id=new_id(),
                    website_id=site.website_id,
                    url="https://last.example.com/in",
                    events=("message.created",),
                    secret="whsec_" + "A" * 43 + "=",
                    created_at=now,
                )
            )
        elif kind == "labels":
            assert await tx.labels.insert(Label(new_id(), site.website_id, "Last", "#aabbcc", now))
        else:
            assert await tx.replies.insert(
                CannedReply(new_id(), site.website_id, "last", "Last", "Thanks!", now, now)
            )

    refused = _during(
        harness, other, lambda: http.post(path, json=body(limit), headers=owner(site))
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] in ("too_many", "too_many_webhooks")
    listed = http.get(path, headers=owner(site)).json()
    assert len(listed[kind]) == limit


# What each change names, the other change's field, and how to read both back.
PATCHES = {
    "webhooks": (
        {"url": "https://hooks.example.com/in", "events": ["message.created"]},
        "UPDATE webhooks SET url = 'https://other.example.com/in' WHERE id = :id",
        {"events": ["conversation.created"]},
        {"url": "https://other.example.com/in", "events": ["conversation.created"]},
    ),
    "labels": (
        {"name": "VIP", "color": "#000000"},
        "UPDATE labels SET color = '#ffffff' WHERE id = :id",
        {"name": "Gold"},
        {"name": "Gold", "color": "#ffffff"},
    ),
    "replies": (
        {"shortcut": "thanks", "title": "Thanks", "body": "Thank you!"},
        "UPDATE canned_replies SET title = 'Merci' WHERE id = :id",
        {"body": "Thanks a lot!"},
        {"title": "Merci", "body": "Thanks a lot!"},
    ),
    "teams": (
        {"name": "Billing"},
        "UPDATE teams SET capacity = 9 WHERE id = :id",
        {"name": "Invoices"},
        {"name": "Invoices", "capacity": 9},
    ),
}


@pytest.mark.parametrize("kind", sorted(PATCHES))
def test_two_changes_of_one_object_at_once_keep_each_others_field(
    http: httpx.Client, harness: Harness, site: Site, kind: str
) -> None:
    """A field left out keeps its value (docs/api.md): also the value another change wrote at
    the same moment. The request read the object before that change committed and wrote every
    field back: the other's was lost, both answered 200."""
    made_body, other_sql, patch, expected = PATCHES[kind]
    listing = f"/api/v1/websites/{site.website_id}/{kind}"
    made = http.post(listing, json=made_body, headers=owner(site))
    assert made.status_code == 201, made.text
    object_id = next(iter(made.json().values()))["id"]
    path = f"/api/v1/webhooks/{object_id}" if kind == "webhooks" else f"{listing}/{object_id}"

    async def other(tx: Tx) -> None:
        """Another change under way, as the API makes one: behind its website's lock."""
        assert await tx.websites.lock(site.website_id) is not None
        await tx.db.execute(text(other_sql).bindparams(id=object_id))  # type: ignore[attr-defined]

    changed = _during(harness, other, lambda: http.patch(path, json=patch, headers=owner(site)))
    assert changed.status_code == 200, changed.text
    (stored,) = [
        o for o in http.get(listing, headers=owner(site)).json()[kind] if o["id"] == object_id
    ]
    assert {name: stored[name] for name in expected} == expected


def test_two_owners_leaving_at_once_leave_the_website_an_owner(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    """A website keeps at least one owner (409 `last_owner`): two owners stepping down at the
    same moment each counted two owners, both were let go, and the website had none."""
    cli = Actor.cli()
    second = harness.run(
        do_add_operator(
            harness.rt, cli, "second@shop.example", website_id=site.website_id, role=Role.OWNER
        )
    ).operator.id
    _, token = harness.run(
        do_create_api_token(
            harness.rt, cli, "second@shop.example", name="t", scopes=frozenset(Scope)
        )
    )

    async def first_steps_down(tx: Tx) -> None:
        assert await tx.websites.lock(site.website_id) is not None  # as a role change does
        await tx.db.execute(  # type: ignore[attr-defined]
            text(
                "UPDATE memberships SET role = 'admin' WHERE website_id = :w AND operator_id = :o"
            ).bindparams(w=site.website_id, o=site.operator_ids["owner"])
        )

    refused = _during(
        harness,
        first_steps_down,
        lambda: http.patch(
            f"/api/v1/websites/{site.website_id}/operators/{second}",
            json={"role": "admin"},
            headers={"Authorization": f"Bearer {token}"},
        ),
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "last_owner"
    owners = harness.scalar(
        "SELECT count(*) FROM memberships WHERE website_id = :w AND role = 'owner'",
        w=site.website_id,
    )
    assert owners == 1
