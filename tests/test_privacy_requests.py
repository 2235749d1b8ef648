"""Data-subject requests end to end over a real socket on SQLite and PostgreSQL: search, export,
rectification and erasure (P7, P9), who may ask (P4), and the visitor's own erasure from the
chatbox (P9).

"Nothing is left" is checked the hard way (tests/privacy_support.py): every row of every
table of the database, and on SQLite the bytes of the database files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from causerie.clock import ManualClock
from causerie.domain.models import Actor, Author, Message, MessageType, Scope
from causerie.domain.privacy import EXPORT_FORMAT
from causerie.domain.shield import network_key
from causerie.domain.wire import iso
from causerie.tokens import new_id
from tests import privacy_support
from tests.conftest import OTHER_ORIGIN, Harness, Site
from tests.live import agent
from tests.privacy_support import (
    Visitor,
    assert_audit_holds_no,
    assert_nowhere,
    audit_rows,
    auth,
    database_text,
    details_of,
    messages_of,
    operator_says,
    patch_website,
    privacy,
    sqlite_files,
)
from tests.test_errors import error_of

# tests/privacy_support.py's fixtures, for this module's tests
web = privacy_support.web
server_log = privacy_support.server_log


# -- P9: erasure --------------------------------------------------------------------------------

ADA: dict[str, Any] = {
    "emails": ["Ada.Lovelace@Mail.Example", "ada.lovelace@mail.example"],
    "nickname": "Ada Lovelace-Zq",
    "phone": "+44 20 7946 0958",
    "data": "ada-gold-plan-77",
    "ips": ["203.0.113.45", "203.0.113.46"],
    "user_agent": "Mozilla/5.0 AdaBrowser/9.1",
    "page": "https://shop.example/orders/ada-order-page",
    "texts": [
        "my parcel 4242 never came",
        "agent reply about parcel 4242",
        "note: Ada is a difficult customer",
        "second visit, still no parcel 4242",
    ],
}


def test_p9_erasure_by_email_leaves_nothing_of_the_person_anywhere(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock, server_log: list[str]
) -> None:
    url = harness.settings.database_url
    # The website asks for consent: the person gives it, so it is among what is erased.
    changed = patch_website(
        web,
        site,
        "admin",
        site.website_id,
        settings={"consent_required": True, "consent_notice": "We keep your chat."},
    )
    assert changed.status_code == 200, changed.text
    version = changed.json()["website"]["settings"]["consent_version"]

    first = Visitor(
        web,
        site.website_id,
        ip=ADA["ips"][0],
        user_agent=ADA["user_agent"],
        page_url=ADA["page"],
    )
    assert first.consent(version).status_code == 200
    profile = first.profile(
        nickname=ADA["nickname"],
        email=ADA["emails"][0],
        phone=ADA["phone"],
        data={"plan": ADA["data"]},
    )
    assert profile.status_code == 200, profile.text
    assert first.say(ADA["texts"][0]).status_code == 201
    operator_says(web, site, first.session_id, ADA["texts"][1])
    operator_says(web, site, first.session_id, ADA["texts"][2], "note")

    clock.advance(timedelta(hours=2))
    second = Visitor(web, site.website_id, ip=ADA["ips"][1], user_agent=ADA["user_agent"])
    assert second.consent(version).status_code == 200
    assert second.profile(email=ADA["emails"][1]).status_code == 200
    assert second.say(ADA["texts"][3]).status_code == 201

    # The same person on a website this admin does not manage, and someone else on this one.
    elsewhere = Visitor(web, site.other_website_id, ip="198.51.100.23", origin=OTHER_ORIGIN)
    assert elsewhere.profile(email="ADA.LOVELACE@MAIL.EXAMPLE", nickname="Countess B").is_success
    assert elsewhere.say("kept on the other website").status_code == 201
    bob = Visitor(web, site.website_id, ip="192.0.2.10")
    assert bob.consent(version).status_code == 200
    assert bob.profile(email="bob@mail.example").status_code == 200
    assert bob.say("bob stays").status_code == 201

    ada_sessions = [first.session_id, second.session_id]
    assert harness.scalar("SELECT count(*) FROM sessions WHERE consent_version IS NOT NULL") == 3
    stats_before = harness.rows(
        "SELECT network, day, sessions, messages FROM network_stats ORDER BY network, day"
    )
    network = network_key(harness.settings.secret_key, "203.0.113.1")
    assert any(row[0] == network for row in stats_before)

    # Found by email, whatever its case; only on the admin's website.
    found = privacy(web, site, "admin", "search", email="ADA.lovelace@mail.EXAMPLE")
    assert found.status_code == 200, found.text
    assert sorted(s["session"]["id"] for s in found.json()["sessions"]) == sorted(ada_sessions)
    held = messages_of(harness, ada_sessions)
    assert held == 4

    erased = privacy(web, site, "admin", "erase", email="ada.lovelace@mail.example")
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"erased": {"sessions": 2, "messages": held}}

    markers = [
        *ADA["emails"],
        ADA["nickname"],
        ADA["phone"],
        ADA["data"],
        *ADA["ips"],
        ADA["user_agent"],
        "ada-order-page",
        *ADA["texts"],
        *ada_sessions,
    ]
    # Every table, every row (session ids included: no row refers to the erased sessions but
    # the audit log, checked below); on SQLite the file bytes too.
    text = database_text(url)
    for table, rows in text.items():
        for marker in markers:
            if marker in ada_sessions and table == "audit_log":
                continue
            assert marker not in rows, f"{marker!r} survives in table {table}"
    for name, content in sqlite_files(url).items():
        for marker in markers[: -len(ada_sessions)]:
            assert marker.encode() not in content, f"{marker!r} survives in the file {name}"

    # The audit log: one entry per session, ids and counts only.
    entries = audit_rows(harness, "privacy.erase")
    assert sorted(e[5] for e in entries) == sorted(ada_sessions)
    for entry in entries:
        assert entry[:5] == (
            "operator",
            site.operator_ids["admin"],
            "privacy.erase",
            site.website_id,
            "session",
        )
        assert set(details_of(entry)) == {"messages"}
    assert sum(details_of(e)["messages"] for e in entries) == held
    assert_audit_holds_no(harness, markers[: -len(ada_sessions)])

    # Aggregates survive; the other website's session and the other visitor are untouched.
    assert (
        harness.rows(
            "SELECT network, day, sessions, messages FROM network_stats ORDER BY network, day"
        )
        == stats_before
    )
    assert harness.rows(
        "SELECT email, nickname, ip FROM sessions WHERE id = :s", s=elsewhere.session_id
    ) == [("ADA.LOVELACE@MAIL.EXAMPLE", "Countess B", "198.51.100.23")]
    assert messages_of(harness, [elsewhere.session_id, bob.session_id]) == 2
    assert "kept on the other website" in text["messages"]
    assert "bob stays" in text["messages"]
    again = privacy(web, site, "admin", "search", email=ADA["emails"][1])
    assert again.json() == {"sessions": []}
    # The erased visitor's token is dead.
    assert error_of(first.say("hello?"), 401)["code"] == "invalid_session"
    # The person was named in request bodies only: the server's log holds nothing of them.
    logged = "\n".join(server_log)
    assert '"POST /api/v1/privacy/erase" 200' in logged
    for marker in markers[: -len(ada_sessions)]:
        assert marker not in logged, f"{marker!r} is in the server's log"


# -- P9: export ---------------------------------------------------------------------------------


def bulk_messages(
    harness: Harness, conversation_id: str, operator_id: str, count: int, start: datetime
) -> list[tuple[str, str]]:
    """`count` messages (every seventh an operator's note) straight into the store, in one
    transaction; returns (type, body) in order."""
    made: list[tuple[str, str]] = []

    async def insert() -> None:
        async with harness.rt.store.transaction() as tx:
            for i in range(count):
                note = i % 7 == 3
                message = Message(
                    id=new_id(),
                    conversation_id=conversation_id,
                    author=Author.OPERATOR if note else Author.VISITOR,
                    type=MessageType.NOTE if note else MessageType.TEXT,
                    body=f"bulk message {i:05d}",
                    client_id=f"bulk-{i}",
                    created_at=start + timedelta(milliseconds=i),
                    operator_id=operator_id if note else None,
                )
                assert await tx.messages.insert(message)
                made.append((message.type.value, message.body))

    harness.run(insert())
    return made


def test_p9_export_holds_every_session_and_message_and_the_visitor_gets_their_own(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    email = "grace.hopper@mail.example"
    first = Visitor(
        web,
        site.website_id,
        ip="203.0.113.60",
        user_agent="Mozilla/5.0 GraceBrowser/3",
        page_url="https://shop.example/cobol",
        locale="en-US",
        timezone="America/New_York",
    )
    started = clock.now()
    assert (
        first.profile(
            nickname="Grace", email=email, phone="+1 555 0100", data={"plan": "navy"}
        ).status_code
        == 200
    )
    assert first.say("first words").status_code == 201
    operator_says(web, site, first.session_id, "operator answer")
    operator_says(web, site, first.session_id, "a private note", "note")
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=first.session_id
    )
    clock.advance(timedelta(seconds=1))
    bulk = bulk_messages(harness, conversation_id, site.operator_ids["agent"], 1100, clock.now())
    expected = [
        ("text", "first words"),
        ("text", "operator answer"),
        ("note", "a private note"),
        *bulk,
    ]
    clock.advance(timedelta(hours=1))
    second = Visitor(web, site.website_id, ip="203.0.113.61")
    assert second.profile(email=email.upper()).status_code == 200
    assert second.say("back again").status_code == 201
    other_site = Visitor(web, site.other_website_id, ip="198.51.100.1", origin=OTHER_ORIGIN)
    assert other_site.profile(email=email).status_code == 200

    # The operators' export: every session of the person on the admin's websites.
    response = privacy(web, site, "admin", "export", email=email)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["format"] == EXPORT_FORMAT
    assert document["query"] == {"email": email}
    assert document["generated_at"] == iso(clock.now())
    sessions = document["sessions"]
    assert [s["id"] for s in sessions] == [first.session_id, second.session_id]
    one = sessions[0]
    assert one["website"] == {"id": site.website_id, "name": "Shop"}
    assert one["state"] == "permanent"
    assert one["created_at"] == iso(started)
    assert one["ip"] == {"address": "203.0.113.60", "recorded_at": iso(started)}
    assert one["user_agent"] == "Mozilla/5.0 GraceBrowser/3"
    assert one["page"]["url"] == "https://shop.example/cobol"
    assert (one["locale"], one["timezone"]) == ("en-US", "America/New_York")
    assert one["profile"] == {
        "nickname": "Grace",
        "email": email,
        "phone": "+1 555 0100",
        "data": {"plan": "navy"},
    }
    assert one["consent"] is None
    messages = one["conversation"]["messages"]
    assert one["conversation"]["id"] == conversation_id
    assert len(messages) == len(expected) > 1000
    assert [(m["type"], m["body"]) for m in messages] == expected
    assert len({m["id"] for m in messages}) == len(messages)
    assert sessions[1]["ip"]["address"] == "203.0.113.61"
    assert [m["body"] for m in sessions[1]["conversation"]["messages"]] == ["back again"]

    exports = audit_rows(harness, "privacy.export")
    assert sorted(e[5] for e in exports) == sorted([first.session_id, second.session_id])
    for entry in exports:
        assert entry[:5] == (
            "operator",
            site.operator_ids["admin"],
            "privacy.export",
            site.website_id,
            "session",
        )
    assert_audit_holds_no(harness, [email, email.upper(), "Grace", "203.0.113.60", "navy"])

    # The visitor's own export: their token alone (no Origin needed), never the notes.
    own = web.get(
        "/api/widget/v1/session/export", headers={"Authorization": f"Bearer {first.token}"}
    )
    assert own.status_code == 200, own.text
    assert own.headers["content-disposition"].startswith("attachment")
    assert own.headers["cache-control"] == "no-store"
    mine = own.json()
    assert mine["format"] == EXPORT_FORMAT
    assert [s["id"] for s in mine["sessions"]] == [first.session_id]
    visible = [m for m in expected if m[0] != "note"]
    got = mine["sessions"][0]["conversation"]["messages"]
    assert [(m["type"], m["body"]) for m in got] == visible
    assert mine["sessions"][0]["ip"]["address"] == "203.0.113.60"
    assert "a private note" not in own.text
    assert (
        error_of(
            web.get("/api/widget/v1/session/export", headers={"Authorization": "Bearer nope"}), 401
        )["code"]
        == "invalid_session"
    )
    # An operator's credentials are not a visitor's.
    assert web.get("/api/widget/v1/session/export", headers=auth(site, "owner")).status_code == 401


def test_p9_p7_found_by_session_id_and_rectification_shows_in_a_later_export(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    visitor = Visitor(web, site.website_id, ip="203.0.113.70")
    assert visitor.profile(nickname="Linus", email="linus@old.example").status_code == 200
    assert visitor.say("hello there").status_code == 201

    found = privacy(web, site, "owner", "search", session_id=visitor.session_id)
    assert found.status_code == 200, found.text
    [entry] = found.json()["sessions"]
    assert entry["session"]["id"] == visitor.session_id
    assert entry["session"]["profile"]["email"] == "linus@old.example"
    assert entry["messages"] == 1
    assert entry["conversation_id"] == harness.scalar("SELECT id FROM conversations")
    assert "ip" not in entry["session"]  # agents' view of a session never shows the address

    rectified = web.patch(
        f"/api/v1/sessions/{visitor.session_id}/profile",
        json={"nickname": "Linus T.", "email": "linus@new.example", "phone": "+358 40 123"},
        headers=auth(site, "agent"),
    )
    assert rectified.status_code == 200, rectified.text
    exported = privacy(web, site, "admin", "export", session_id=visitor.session_id).json()
    assert exported["query"] == {"session_id": visitor.session_id}
    assert exported["sessions"][0]["profile"] == {
        "nickname": "Linus T.",
        "email": "linus@new.example",
        "phone": "+358 40 123",
        "data": {},
    }
    assert privacy(web, site, "admin", "search", email="linus@old.example").json() == {
        "sessions": []
    }
    by_new = privacy(web, site, "admin", "search", email="linus@new.example").json()
    assert [s["session"]["id"] for s in by_new["sessions"]] == [visitor.session_id]
    # The visitor can correct it too (P7), and the export follows.
    assert visitor.profile(email="linus@mine.example").status_code == 200
    own = web.get("/api/widget/v1/session/export", headers=visitor.headers).json()
    assert own["sessions"][0]["profile"]["email"] == "linus@mine.example"
    assert sorted(e[2] for e in audit_rows(harness) if e[5] == visitor.session_id) == [
        "privacy.export",
        "visitor.profile",
    ]
    # Erased by session id too.
    erased = privacy(web, site, "owner", "erase", session_id=visitor.session_id)
    assert erased.json() == {"erased": {"sessions": 1, "messages": 1}}
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    gone = privacy(web, site, "owner", "search", session_id=visitor.session_id)
    assert error_of(gone, 404)["code"] == "session_not_found"


# -- who may ask --------------------------------------------------------------------------------


def test_p9_p4_data_subject_requests_are_scoped_to_the_callers_websites_and_roles(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    theirs = Visitor(web, site.other_website_id, ip="198.51.100.5", origin=OTHER_ORIGIN)
    assert theirs.profile(email="eve@mail.example").status_code == 200
    assert theirs.say("on the other website").status_code == 201
    ours = Visitor(web, site.website_id, ip="203.0.113.80")
    assert ours.profile(email="olga@mail.example").status_code == 200
    assert ours.say("on ours").status_code == 201

    # An admin of website A finds nothing of website B's visitors, by email or by session id.
    assert privacy(web, site, "admin", "search", email="eve@mail.example").json() == {
        "sessions": []
    }
    assert privacy(web, site, "admin", "export", email="eve@mail.example").json()["sessions"] == []
    assert privacy(web, site, "admin", "erase", email="eve@mail.example").json() == {
        "erased": {"sessions": 0, "messages": 0}
    }
    for op in ("search", "export", "erase"):
        response = privacy(web, site, "admin", op, session_id=theirs.session_id)
        assert error_of(response, 404)["code"] == "session_not_found", op
    response = privacy(web, site, "admin", "search", session_id="nosuchsession")
    assert error_of(response, 404)["code"] == "session_not_found"

    # An agent may not make data-subject requests at all.
    for op in ("search", "export", "erase"):
        for body in ({"email": "olga@mail.example"}, {"session_id": ours.session_id}):
            response = privacy(web, site, "agent", op, **body)
            assert error_of(response, 403)["code"] == "forbidden", (op, body)

    # A read-only token may look, never erase.
    from causerie.actions.operators import do_create_api_token

    _, read_only = harness.run(
        do_create_api_token(
            harness.rt, Actor.cli(), "owner@shop.example", name="r", scopes=frozenset({Scope.READ})
        )
    )
    ro = {"Authorization": f"Bearer {read_only}"}
    looked = web.post("/api/v1/privacy/search", json={"email": "olga@mail.example"}, headers=ro)
    assert len(looked.json()["sessions"]) == 1
    for body in ({"email": "olga@mail.example"}, {"session_id": ours.session_id}):
        response = web.post("/api/v1/privacy/erase", json=body, headers=ro)
        assert error_of(response, 403)["code"] == "insufficient_scope", body

    # Malformed requests and anonymous callers.
    both = {"email": "olga@mail.example", "session_id": ours.session_id}
    assert error_of(privacy(web, site, "owner", "search", **both), 422)["code"] == (
        "invalid_request"
    )
    assert error_of(privacy(web, site, "owner", "search"), 422)["code"] == "invalid_request"
    bad = privacy(web, site, "owner", "search", email="not an email")
    assert error_of(bad, 422)["code"] == "invalid_email"
    assert web.post("/api/v1/privacy/erase", json={"email": "olga@mail.example"}).status_code == (
        401
    )

    # Nothing was erased by any of it, and nothing was audited as an erasure.
    assert harness.scalar("SELECT count(*) FROM sessions") == 2
    assert messages_of(harness, [theirs.session_id, ours.session_id]) == 2
    assert audit_rows(harness, "privacy.erase") == []


# -- P9: the visitor's own erasure --------------------------------------------------------------


def test_p9_the_visitor_erases_their_own_session_from_the_chatbox(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    url = harness.settings.database_url
    visitor = Visitor(
        web, site.website_id, ip="203.0.113.99", user_agent="Mozilla/5.0 SelfEraser/1"
    )
    assert visitor.profile(nickname="Margaret H.", email="margaret@mail.example").is_success
    assert visitor.say("please forget me 9911").status_code == 201
    operator_says(web, site, visitor.session_id, "sure thing 9911")
    operator_says(web, site, visitor.session_id, "internal note 9911", "note")
    neighbour = Visitor(web, site.website_id, ip="192.0.2.44")
    assert neighbour.say("neighbour stays").status_code == 201

    # From an origin of another website: refused, nothing erased.
    foreign = web.delete(
        "/api/widget/v1/session", headers={**visitor.headers, "Origin": OTHER_ORIGIN}
    )
    assert error_of(foreign, 403)["code"] == "origin_not_allowed"
    assert harness.scalar("SELECT count(*) FROM sessions") == 2

    response = web.delete("/api/widget/v1/session", headers=visitor.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"erased": {"sessions": 1, "messages": 3}}
    assert harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=visitor.session_id) == 0
    for table in ("conversations", "events", "streams"):
        gone = harness.scalar(
            f"SELECT count(*) FROM {table} WHERE session_id = :s", s=visitor.session_id
        )
        assert gone == 0, table
    assert messages_of(harness, [neighbour.session_id]) == 1
    assert harness.scalar("SELECT count(*) FROM messages") == 1
    personal = [
        "203.0.113.99",
        "SelfEraser/1",
        "Margaret H.",
        "margaret@mail.example",
        "please forget me 9911",
        "sure thing 9911",
        "internal note 9911",
    ]
    assert_nowhere(url, personal)

    # Audited, without personal data: who (a visitor, no id), what, which session, how many.
    [entry] = audit_rows(harness, "privacy.erase_own")
    assert entry[:6] == (
        "visitor",
        None,
        "privacy.erase_own",
        site.website_id,
        "session",
        visitor.session_id,
    )
    assert details_of(entry) == {"messages": 3}

    # The token is dead; the next chatbox load starts a new temporary session.
    dead = web.get("/api/widget/v1/session/export", headers=visitor.headers)
    assert error_of(dead, 401)["code"] == "invalid_session"
    assert (
        error_of(web.delete("/api/widget/v1/session", headers=visitor.headers), 401)["code"]
        == "invalid_session"
    )
    reload = web.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/"}, "token": visitor.token},
        headers=visitor.base_headers,
    )
    assert reload.status_code == 201
    assert reload.json()["token"] != visitor.token
    assert reload.json()["session"]["id"] != visitor.session_id
    assert reload.json()["session"]["state"] == "temporary"
    assert reload.json()["messages"] == []


def test_p9_agents_hear_that_an_erased_conversation_is_gone(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    """Erased on request or by the visitor, the conversation leaves the agents' inbox at once
    (docs/realtime.md `conversation.deleted`)."""
    asked = Visitor(web, site.website_id, ip="203.0.113.101")
    assert asked.profile(email="gone@mail.example").status_code == 200
    assert asked.say("erase me").status_code == 201
    itself = Visitor(web, site.website_id, ip="203.0.113.102")
    assert itself.say("I erase myself").status_code == 201
    conversation_of = {
        session_id: conversation_id
        for conversation_id, session_id in harness.rows("SELECT id, session_id FROM conversations")
    }
    desk, _ = agent(str(web.base_url).rstrip("/"), site.tokens["agent"], site.website_id)
    try:
        erased = privacy(web, site, "admin", "erase", email="gone@mail.example")
        assert erased.json()["erased"]["sessions"] == 1
        desk.expect("conversation.deleted", conversation_id=conversation_of[asked.session_id])
        assert web.delete("/api/widget/v1/session", headers=itself.headers).status_code == 200
        desk.expect("conversation.deleted", conversation_id=conversation_of[itself.session_id])
    finally:
        desk.close()
