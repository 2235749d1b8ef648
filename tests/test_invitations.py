"""Invitations (docs/api.md "Invitations"): each link grants its own website and role, when it is
accepted, and never sets the password of an account that has one (security review, issue 12)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from causerie.actions import accounts
from causerie.actions.accounts import do_accept_link
from causerie.actions.members import do_invite
from causerie.domain.errors import Conflict
from causerie.domain.models import Actor, Role
from causerie.tokens import hash_password
from tests.conftest import Harness, ServerThread, Site
from tests.support import As
from tests.test_errors import error_of

VICTIM = "victim@mail.example"
PASSWORD = "the real person's password"


def _invite(api: As, website_id: str, email: str, role: str) -> str:
    invited = api.ok(
        api.post(f"/websites/{website_id}/operators", {"email": email, "role": role}), 201
    )
    assert invited["operator"]["pending"] is True
    url: str = invited["invitation_url"]
    return url.rsplit("token=", 1)[1]


def _accept(server: ServerThread, token: str, password: str, name: str = "") -> httpx.Response:
    body: dict[str, Any] = {"token": token, "password": password}
    if name:
        body["name"] = name
    with httpx.Client(base_url=server.url) as client:
        return client.post("/api/v1/auth/accept", json=body)


def _websites_of(server: ServerThread, email: str, password: str) -> dict[str, str]:
    with httpx.Client(base_url=server.url) as client:
        done = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert done.status_code == 200, done.text
        return {w["id"]: w["role"] for w in client.get("/api/v1/me").json()["websites"]}


def _pending(api: As, website_id: str) -> dict[str, tuple[str, bool]]:
    listed = api.ok(api.get(f"/websites/{website_id}/operators"))["operators"]
    return {m["email"]: (m["role"], m["pending"]) for m in listed}


def test_a_link_kept_by_one_website_grants_nothing_of_another(
    http: httpx.Client, server: ServerThread, site: Site, harness: Harness
) -> None:
    """The attack: Shop's admin keeps the link to an address; Other then invites the same
    address. Shop's kept link must give its holder nothing of Other, and Other's inviter gets a
    link of their own, which the real person can use."""
    shop, other = As(http, site, "admin"), As(http, site, "other_owner")
    kept = _invite(shop, site.website_id, VICTIM, "agent")
    theirs = _invite(other, site.other_website_id, VICTIM, "admin")
    assert _pending(other, site.other_website_id)[VICTIM] == ("admin", True)

    taken = _accept(server, kept, "the attacker's password", name="Mallory")
    assert taken.status_code == 200, taken.text
    assert _websites_of(server, VICTIM, "the attacker's password") == {site.website_id: "agent"}
    assert _pending(other, site.other_website_id)[VICTIM] == ("admin", True)
    # Other's link does not reset the password the attacker chose, nor accept another one.
    refused = _accept(server, theirs, PASSWORD, name="Victim")
    assert error_of(refused, 401)["code"] == "invalid_credentials"
    assert _websites_of(server, VICTIM, "the attacker's password") == {site.website_id: "agent"}


def test_an_account_activated_by_one_link_is_not_simply_added_by_the_next_inviter(
    http: httpx.Client, server: ServerThread, site: Site
) -> None:
    """The same attack the other way round: the holder of Shop's link activates the account
    first; Other's invitation still grants nothing until its own link is accepted."""
    shop, other = As(http, site, "admin"), As(http, site, "other_owner")
    kept = _invite(shop, site.website_id, VICTIM, "agent")
    assert _accept(server, kept, "the attacker's password", name="Mallory").status_code == 200
    _invite(other, site.other_website_id, VICTIM, "admin")
    assert _websites_of(server, VICTIM, "the attacker's password") == {site.website_id: "agent"}


def test_a_person_invited_by_two_websites_accepts_each_link_with_one_password(
    http: httpx.Client, server: ServerThread, site: Site, harness: Harness
) -> None:
    shop, other = As(http, site, "admin"), As(http, site, "other_owner")
    first = _invite(shop, site.website_id, VICTIM, "agent")
    second = _invite(other, site.other_website_id, VICTIM, "admin")
    info = http.post("/api/v1/auth/link", json={"token": second}).json()
    assert info == {
        "purpose": "invite",
        "email": VICTIM,
        "websites": [{"id": site.other_website_id, "name": "Other", "role": "admin"}],
        "has_account": False,
    }
    assert _accept(server, first, PASSWORD, name="Vic").status_code == 200
    stored = harness.scalar("SELECT password_hash FROM operators WHERE email = :e", e=VICTIM)
    assert http.post("/api/v1/auth/link", json={"token": second}).json()["has_account"] is True
    wrong = _accept(server, second, "not the password", name="Someone else")
    assert error_of(wrong, 401)["code"] == "invalid_credentials"
    joined = _accept(server, second, PASSWORD, name="Someone else")
    assert joined.status_code == 200, joined.text
    assert joined.json()["operator"]["name"] == "Vic"  # the account is proven, not changed
    assert (
        harness.scalar("SELECT password_hash FROM operators WHERE email = :e", e=VICTIM) == stored
    )
    assert _websites_of(server, VICTIM, PASSWORD) == {
        site.website_id: "agent",
        site.other_website_id: "admin",
    }
    assert _pending(other, site.other_website_id)[VICTIM] == ("admin", False)
    assert error_of(_accept(server, second, PASSWORD), 404)["code"] == "invalid_link"


def test_an_operator_with_an_account_joins_by_logging_in_and_keeps_their_password(
    http: httpx.Client, server: ServerThread, site: Site, harness: Harness
) -> None:
    other = As(http, site, "other_owner")
    token = _invite(other, site.other_website_id, "agent@shop.example", "agent")
    assert _pending(other, site.other_website_id)["agent@shop.example"] == ("agent", True)
    assert _websites_of(server, "agent@shop.example", site.passwords["agent"]) == {
        site.website_id: "agent"
    }
    stored = harness.scalar(
        "SELECT password_hash FROM operators WHERE email = 'agent@shop.example'"
    )
    for _ in range(5):  # wrong passwords on a link count as failed logins
        assert error_of(_accept(server, token, "a brand new password"), 401)
    assert error_of(_accept(server, token, site.passwords["agent"]), 429)["code"] == "rate_limited"
    assert (
        harness.scalar("SELECT password_hash FROM operators WHERE email = 'agent@shop.example'")
        == stored
    )


def test_a_pending_invitation_changes_role_or_is_withdrawn(
    http: httpx.Client, server: ServerThread, site: Site
) -> None:
    admin = As(http, site, "admin")
    path = f"/websites/{site.website_id}/operators"
    token = _invite(admin, site.website_id, VICTIM, "agent")
    pending_id = next(
        m["id"] for m in admin.ok(admin.get(path))["operators"] if m["email"] == VICTIM
    )
    changed = admin.ok(admin.patch(f"{path}/{pending_id}", {"role": "admin"}))["operator"]
    assert (changed["role"], changed["pending"]) == ("admin", True)
    again = admin.post(path, {"email": VICTIM, "role": "agent"})
    assert error_of(again, 409)["code"] == "already_member"
    assert admin.delete(f"{path}/{pending_id}").status_code == 204
    assert VICTIM not in _pending(admin, site.website_id)
    assert error_of(_accept(server, token, PASSWORD, name="Vic"), 404)["code"] == "invalid_link"
    fresh = _invite(admin, site.website_id, VICTIM, "admin")
    assert _accept(server, fresh, PASSWORD, name="Vic").status_code == 200
    assert _websites_of(server, VICTIM, PASSWORD) == {site.website_id: "admin"}


def test_two_links_accepted_at_once_give_the_account_one_password(
    harness: Harness, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both links find no password and choose one: the first sets it, the second is refused
    (409 `account_active`) rather than replacing it. Each waits, before hashing its password,
    until the other has read the account too: without that, one could commit before the other
    read, which then asks for the password set (a login, refused), not the race tested here."""
    both_read = threading.Barrier(2, timeout=10)

    def hash_once_both_read(password: str) -> str:
        both_read.wait()
        return hash_password(password)

    monkeypatch.setattr(accounts, "hash_password", hash_once_both_read)
    cli = Actor.cli()
    links = [
        harness.run(do_invite(harness.rt, cli, website_id, VICTIM, Role.AGENT)).invitation_url
        for website_id in (site.website_id, site.other_website_id)
    ]

    async def both() -> list[object]:
        return await asyncio.gather(
            *(
                do_accept_link(
                    harness.rt,
                    url.rsplit("token=", 1)[1],
                    name="Vic",
                    password=f"password number {n}",
                    email=None,
                    client_ip="127.0.0.1",
                )
                for n, url in enumerate(links)
            ),
            return_exceptions=True,
        )

    results = harness.run(both())
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 1 and refused[0].code == "account_active", results
    joined = harness.rows(
        "SELECT m.website_id FROM memberships m JOIN operators o ON o.id = m.operator_id"
        " WHERE o.email = :e",
        e=VICTIM,
    )
    assert len(joined) == 1
