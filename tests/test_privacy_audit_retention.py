"""What is kept and for how long, end to end over a real socket on SQLite and PostgreSQL: the
legal export (P12), the audit log (P4), the retention engine (P6) and the shell's export,
erasure and purge dry run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from causerie.actions.messages import do_send_visitor_message
from causerie.actions.operators import do_add_operator
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_update_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, PageView, Role
from causerie.domain.privacy import EXPORT_FORMAT, LEGAL_FORMAT
from causerie.domain.retention import Rule
from causerie.domain.wire import iso
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.tokens import new_id
from tests import privacy_support
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, Site
from tests.privacy_support import (
    Visitor,
    assert_audit_holds_no,
    assert_nowhere,
    audit_rows,
    auth,
    details_of,
    messages_of,
    operator_says,
    patch_website,
    privacy,
)
from tests.support import cli_env, invoke_cli, run_cli
from tests.test_accounts import login
from tests.test_errors import error_of

# tests/privacy_support.py's fixtures, for this module's tests
web = privacy_support.web


RULES = {rule.value for rule in Rule}


# -- P12: legal export --------------------------------------------------------------------------


def test_p12_legal_export_for_owners_with_ip_and_times_and_audited(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    visitor = Visitor(web, site.website_id, ip="203.0.113.150")
    opened_at = clock.now()
    assert visitor.profile(email="suspect@mail.example").status_code == 200
    clock.advance(timedelta(minutes=1))
    assert visitor.say("threatening words 7777").status_code == 201
    clock.advance(timedelta(minutes=1))
    operator_says(web, site, visitor.session_id, "we have noted this")
    operator_says(web, site, visitor.session_id, "reported to the police", "note")
    conversation_id = harness.scalar("SELECT id FROM conversations")
    path = f"/api/v1/conversations/{conversation_id}/legal-export"

    for who in ("admin", "agent"):
        assert error_of(web.post(path, headers=auth(site, who)), 403)["code"] == "forbidden"
    outsider = web.post(path, headers=auth(site, "other_owner"))
    assert error_of(outsider, 404)["code"] == "conversation_not_found"
    unknown = web.post(
        "/api/v1/conversations/nosuchconversation/legal-export", headers=auth(site, "owner")
    )
    assert error_of(unknown, 404)["code"] == "conversation_not_found"
    assert audit_rows(harness, "conversation.legal_export") == []

    response = web.post(path, headers=auth(site, "owner"))
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["format"] == LEGAL_FORMAT
    assert document["conversation"]["id"] == conversation_id
    assert document["session"]["id"] == visitor.session_id
    assert document["session"]["ip"] == {"address": "203.0.113.150", "recorded_at": iso(opened_at)}
    assert document["session"]["permanent_since"] == iso(opened_at + timedelta(minutes=1))
    assert [(m["author"], m["type"], m["body"], m["created_at"]) for m in document["messages"]] == [
        ("visitor", "text", "threatening words 7777", iso(opened_at + timedelta(minutes=1))),
        ("operator", "text", "we have noted this", iso(opened_at + timedelta(minutes=2))),
        ("operator", "note", "reported to the police", iso(opened_at + timedelta(minutes=2))),
    ]

    [entry] = audit_rows(harness, "conversation.legal_export")
    assert entry[:6] == (
        "operator",
        site.operator_ids["owner"],
        "conversation.legal_export",
        site.website_id,
        "conversation",
        conversation_id,
    )
    assert details_of(entry) == {"messages": 3}
    assert_audit_holds_no(
        harness, ["203.0.113.150", "suspect@mail.example", "threatening words 7777"]
    )


# -- P4: the audit log --------------------------------------------------------------------------


def test_p4_an_owner_does_not_see_what_a_new_member_did_elsewhere(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    """Adding someone to a website showed its owner their logins from before (issue 12)."""
    with httpx.Client(base_url=str(web.base_url)) as elsewhere:
        login(elsewhere, site, "other_owner")
    harness.run(
        do_add_operator(
            harness.rt,
            Actor.cli(),
            "other_owner@shop.example",
            website_id=site.website_id,
            role=Role.AGENT,
        )
    )
    with httpx.Client(base_url=str(web.base_url)) as later:
        login(later, site, "other_owner")
    path = f"/api/v1/websites/{site.website_id}/audit"
    entries = web.get(path, headers=auth(site, "owner")).json()["entries"]
    theirs = [e for e in entries if e["target_id"] == site.operator_ids["other_owner"]]
    assert [e["action"] for e in theirs] == ["operator.role"]  # their joining this website
    assert all(e["action"] != "operator.login" for e in entries)


def test_p4_audit_log_for_owners_newest_first_filtered_paginated_and_without_personal_data(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    names = {"owner": "Olivia Q. Owner", "admin": "Adam Q. Admin", "agent": "Agnes Q. Agent"}
    for role, name in names.items():
        harness.execute(
            "UPDATE operators SET name = :n WHERE id = :i", n=name, i=site.operator_ids[role]
        )

    def tick() -> None:
        clock.advance(timedelta(seconds=1))

    # Privileged actions of every kind: login, token creation, settings, roles, data-subject
    # requests, legal export.
    tick()
    csrf = login(web, site, "owner")
    tick()
    created = web.post(
        "/api/v1/tokens",
        json={"name": "integration", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    web.cookies.clear()
    tick()
    assert patch_website(
        web, site, "admin", site.website_id, settings={"greeting": "Hi!"}
    ).is_success
    tick()
    promoted = web.patch(
        f"/api/v1/websites/{site.website_id}/operators/{site.operator_ids['agent']}",
        json={"role": "admin"},
        headers=auth(site, "admin"),
    )
    assert promoted.status_code == 200, promoted.text
    tick()
    visitor = Visitor(web, site.website_id, ip="203.0.113.200", user_agent="Mozilla/5.0 Audited/1")
    assert visitor.profile(nickname="Zed Q. Visitor", email="zed@mail.example").is_success
    assert visitor.say("message text 5150").status_code == 201
    tick()
    edited = web.patch(
        f"/api/v1/sessions/{visitor.session_id}/profile",
        json={"phone": "+1 555 0199"},
        headers=auth(site, "agent"),
    )
    assert edited.status_code == 200
    tick()
    conversation_id = harness.scalar("SELECT id FROM conversations")
    legal = web.post(
        f"/api/v1/conversations/{conversation_id}/legal-export", headers=auth(site, "owner")
    )
    assert legal.status_code == 200
    tick()
    assert privacy(web, site, "admin", "export", email="zed@mail.example").status_code == 200
    tick()
    assert privacy(web, site, "admin", "erase", email="zed@mail.example").status_code == 200

    # An operator of another website logs in: not this website's business.
    with httpx.Client(base_url=str(web.base_url)) as outsider:
        login(outsider, site, "other_owner")
    tick()

    # Owners read the website's entries, newest first, page by page.
    path = f"/api/v1/websites/{site.website_id}/audit"
    collected: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = web.get(path, params=params, headers=auth(site, "owner"))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["entries"]) <= 2
        collected += page["entries"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # The website's entries only: what its operators did elsewhere (logins, tokens, other
    # websites) is not its owners' business.
    stored = harness.rows(
        "SELECT id FROM audit_log WHERE website_id = :w ORDER BY at DESC, id DESC",
        w=site.website_id,
    )
    others = {
        row[0]
        for row in harness.rows(
            "SELECT id FROM audit_log WHERE actor_id = :o", o=site.operator_ids["other_owner"]
        )
    }
    assert others and not others & {e["id"] for e in collected}
    assert [e["id"] for e in collected] == [row[0] for row in stored]
    assert pages >= 4
    times = [e["at"] for e in collected]
    assert times == sorted(times, reverse=True)
    actions = [e["action"] for e in collected]
    assert "operator.login" not in actions and "token.create" not in actions
    for action in (
        "website.update",
        "operator.role",
        "visitor.profile",
        "conversation.legal_export",
        "privacy.export",
        "privacy.erase",
    ):
        assert action in actions, action
    assert actions[0] == "privacy.erase"
    assert actions.index("privacy.export") < actions.index("conversation.legal_export")

    only_role = web.get(path, params={"action": "operator.role"}, headers=auth(site, "owner"))
    role_entries = only_role.json()["entries"]
    assert {e["action"] for e in role_entries} == {"operator.role"}
    assert len(role_entries) == actions.count("operator.role") > 1
    role_entry = role_entries[0]  # the newest: the admin's change, after the fixture's
    assert role_entry["target_id"] == site.operator_ids["agent"]
    assert role_entry["details"] == {"role": "admin"}
    by_admin = web.get(
        path, params={"actor_id": site.operator_ids["admin"]}, headers=auth(site, "owner")
    ).json()["entries"]
    assert {e["actor_id"] for e in by_admin} == {site.operator_ids["admin"]}
    assert {e["action"] for e in by_admin} == {
        "website.update",
        "operator.role",
        "privacy.export",
        "privacy.erase",
    }

    for who in ("admin", "agent"):
        assert error_of(web.get(path, headers=auth(site, who)), 403)["code"] == "forbidden"
    outsider = web.get(path, headers=auth(site, "other_owner"))
    assert error_of(outsider, 404)["code"] == "website_not_found"
    bad = web.get(path, params={"cursor": "bm90IGEgY3Vyc29y"}, headers=auth(site, "owner"))
    assert error_of(bad, 422)["code"] == "invalid_cursor"

    # Every entry of the whole log (logins and tokens have no website), without personal data.
    everything = {row[2] for row in audit_rows(harness)}
    assert {"operator.login", "token.create"} <= everything
    assert_audit_holds_no(
        harness,
        [
            *names.values(),
            "owner@shop.example",
            "admin@shop.example",
            "agent@shop.example",
            "Zed Q. Visitor",
            "zed@mail.example",
            "+1 555 0199",
            "203.0.113.200",
            "127.0.0.1",
            "Audited/1",
            "message text 5150",
            "Hi!",
            created.json()["secret"],
        ],
    )


# -- P6: the retention engine -------------------------------------------------------------------


def chat(
    harness: Harness, rt: Runtime, website_id: str, origin: str, ip: str, body: str = "hello"
) -> str:
    """A session from `ip` that sent one message, made through the actions; its id."""

    async def run() -> str:
        opened = await do_open_session(
            rt,
            website_id=website_id,
            token=None,
            page=PageView(url=f"{origin}/"),
            ip=ip,
            origin=origin,
        )
        await do_send_visitor_message(
            rt, token=opened.token, origin=origin, client_id=new_id(), body=body
        )
        return opened.session.id

    result: str = harness.run(run())
    return result


@pytest.fixture
def engine(
    harness: Harness, make_settings: Callable[..., Settings], clock: ManualClock
) -> Callable[..., Runtime]:
    """Runtimes over the harness's store, with other settings."""

    def make(**overrides: str) -> Runtime:
        return replace(harness.rt, settings=make_settings(**overrides))

    return make


def test_p6_p18_retention_rules_per_server_and_per_website_and_purge_runs_record_counts(
    engine: Callable[..., Runtime], harness: Harness, site: Site, clock: ManualClock
) -> None:
    rt = engine(audit_retention="90d")
    start = clock.now()
    harness.run(
        do_update_website(
            rt,
            Actor.cli(),
            site.website_id,
            name=None,
            origins=None,
            settings={"retention": {"chat_ips": 30}},
        )
    )
    shortened = chat(harness, rt, site.website_id, ORIGIN, "203.0.113.31")
    kept = chat(harness, rt, site.other_website_id, OTHER_ORIGIN, "198.51.100.31")
    early_entries = harness.scalar("SELECT count(*) FROM audit_log")
    assert early_entries > 0

    def ips() -> dict[str, tuple[Any, ...]]:
        return {
            row[0]: row[1:]
            for row in harness.rows("SELECT id, ip, ip_seen_at IS NULL, state FROM sessions")
        }

    clock.advance(timedelta(days=29, hours=23))
    assert harness.run(do_purge(rt))["chat_ips"] == 0
    clock.advance(timedelta(hours=1))  # 30 days: the website's own limit
    assert harness.run(do_purge(rt))["chat_ips"] == 1
    assert ips() == {
        shortened: (None, True, "permanent"),
        kept: ("198.51.100.31", False, "permanent"),
    }
    assert messages_of(harness, [shortened, kept]) == 2  # only the address goes

    # Audit entries older than CAUSERIE_AUDIT_RETENTION go; younger ones stay.
    clock.advance(start + timedelta(days=89) - clock.now())
    harness.run(
        do_update_website(
            rt,
            Actor.cli(),
            site.website_id,
            name=None,
            origins=None,
            settings={"greeting": "later"},
        )
    )
    clock.advance(timedelta(days=1, seconds=1))  # the first entries are 90 days old
    dry = harness.run(do_purge(rt, dry_run=True))
    assert dry["audit_entries"] == early_entries
    assert harness.scalar("SELECT count(*) FROM audit_log") == early_entries + 1
    done = harness.run(do_purge(rt))
    assert done["audit_entries"] == early_entries
    assert [row[2] for row in audit_rows(harness)] == ["website.update"]
    assert ips()[kept][0] == "198.51.100.31"  # the server keeps chat IPs 365 days

    # Each run records its counts per rule, never what it removed.
    runs = harness.rows("SELECT dry_run, counts FROM purge_runs ORDER BY at, id")
    assert [bool(r[0]) for r in runs] == [False, False, True, False]
    for _, counts in runs:
        counts = json.loads(counts) if isinstance(counts, str) else counts
        assert set(counts) == RULES
        assert all(isinstance(v, int) for v in counts.values())
    assert [
        json.loads(r[1])["chat_ips"] if isinstance(r[1], str) else r[1]["chat_ips"] for r in runs
    ] == [0, 1, 0, 0]
    text = repr(harness.rows("SELECT * FROM purge_runs"))
    assert "203.0.113.31" not in text
    assert shortened not in text


def test_p6_dry_run_counts_what_the_purge_then_removes_with_a_website_override(
    engine: Callable[..., Runtime], harness: Harness, site: Site, clock: ManualClock
) -> None:
    rt = engine(chat_ip_retention="60d")
    harness.run(
        do_update_website(
            rt,
            Actor.cli(),
            site.website_id,
            name=None,
            origins=None,
            settings={"retention": {"chat_ips": 30}},
        )
    )
    chat(harness, rt, site.website_id, ORIGIN, "203.0.113.32")
    clock.advance(timedelta(days=61))  # past both 30 days (website) and 60 days (server)
    dry = harness.run(do_purge(rt, dry_run=True))["chat_ips"]
    done = harness.run(do_purge(rt))["chat_ips"]
    assert done == 1
    assert dry == done


# -- the shell: export, erase, purge dry run ----------------------------------------------------


def test_p9_p6_cli_exports_and_erases_a_person_and_counts_a_dry_run(
    harness: Harness, site: Site, tmp_path: Path
) -> None:
    rt = harness.rt
    email = "cli.person@mail.example"
    sessions = []
    for website_id, origin, ip in (
        (site.website_id, ORIGIN, "203.0.113.170"),
        (site.other_website_id, OTHER_ORIGIN, "198.51.100.170"),
    ):

        async def person(website_id: str = website_id, origin: str = origin, ip: str = ip) -> str:
            opened = await do_open_session(
                rt,
                website_id=website_id,
                token=None,
                page=PageView(url=f"{origin}/"),
                ip=ip,
                origin=origin,
            )
            await do_update_visitor_profile(
                rt, token=opened.token, origin=origin, email=email, nickname="Cli Person"
            )
            for body in ("cli words one", "cli words two"):
                await do_send_visitor_message(
                    rt, token=opened.token, origin=origin, client_id=new_id(), body=body
                )
            return opened.session.id

        sessions.append(harness.run(person()))
    bystander = chat(harness, rt, site.website_id, ORIGIN, "192.0.2.170", "bystander words")
    env = cli_env(harness.settings.data_dir, harness.settings.database_url)

    exported = invoke_cli("privacy", "export", "--email", email, env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["format"] == EXPORT_FORMAT
    assert document["query"] == {"email": email}
    assert sorted(s["id"] for s in document["sessions"]) == sorted(sessions)
    for session in document["sessions"]:
        assert session["profile"]["nickname"] == "Cli Person"
        assert session["ip"]["address"] in ("203.0.113.170", "198.51.100.170")
        assert [m["body"] for m in session["conversation"]["messages"]] == [
            "cli words one",
            "cli words two",
        ]

    before = {t: harness.scalar(f"SELECT count(*) FROM {t}") for t in ("sessions", "messages")}
    dry = invoke_cli("purge", "--dry-run", "--json", env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    counted = json.loads(dry.stdout)
    assert counted["dry_run"] is True
    assert set(counted["removed"]) == RULES
    assert all(isinstance(v, int) for v in counted["removed"].values())
    assert {t: harness.scalar(f"SELECT count(*) FROM {t}") for t in before} == before

    erased = run_cli("privacy", "erase", "--email", email, env=env, cwd=tmp_path)
    assert erased.returncode == 0, erased.stderr
    assert "erased 2 sessions and 4 messages" in erased.stdout
    assert "[y/N]" not in erased.stdout + erased.stderr
    assert harness.rows("SELECT id FROM sessions") == [(bystander,)]
    entries = audit_rows(harness, "privacy.erase")
    assert sorted(e[5] for e in entries) == sorted(sessions)
    assert {e[0] for e in entries} == {"cli"}
    assert_nowhere(
        harness.settings.database_url,
        [email, "Cli Person", "203.0.113.170", "198.51.100.170", "cli words one"],
    )
