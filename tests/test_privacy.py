"""The privacy tools, end to end over a real socket on SQLite and PostgreSQL: data-subject search,
export, rectification and erasure (P7, P9), the visitor's own controls and consent (P9), the
notice page (P8), the register (P2, P11), the DPA (P10), legal export (P12), the audit log (P4)
and the retention engine (P6).

"Nothing is left" is checked the hard way: every row of every table of the database, and on
SQLite the bytes of the database files (main file and write-ahead log).
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
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
from causerie.domain.models import Actor, Author, Message, MessageType, PageView, Role, Scope
from causerie.domain.personal_data import PERSONAL
from causerie.domain.privacy import DPA_VERSION, EXPORT_FORMAT, LEGAL_FORMAT
from causerie.domain.retention import Rule
from causerie.domain.shield import network_key
from causerie.domain.wire import iso
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.tokens import new_id
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, ServerThread, Site
from tests.live import agent
from tests.support import cli_env, is_sqlite, query, run_cli, sqlite_path, table_names
from tests.test_accounts import login
from tests.test_errors import error_of

RULES = {rule.value for rule in Rule}


# -- a server behind a trusted proxy, and the people who use it ------------------------------


@pytest.fixture
def web(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
) -> Iterator[httpx.Client]:
    """A client of a server that trusts 127.0.0.1 to set X-Forwarded-For: each visitor below
    comes from the address it names."""
    server = start_server(make_settings(trusted_proxies="127.0.0.1"))
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def server_log() -> Iterator[list[str]]:
    """Every line Causerie logs during the test (access log included), as formatted."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.name}: {record.getMessage()}")

    logger = logging.getLogger("causerie")
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def auth(site: Site, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens[who]}"}


class Visitor:
    """One chatbox session on one website, from one address and browser."""

    def __init__(
        self,
        http: httpx.Client,
        website_id: str,
        *,
        ip: str,
        origin: str = ORIGIN,
        user_agent: str = "Mozilla/5.0 (X11; Linux) Firefox/140.0",
        page_url: str = "https://shop.example/",
        locale: str = "en-GB",
        timezone: str = "Europe/London",
    ) -> None:
        self.http, self.ip, self.origin, self.user_agent = http, ip, origin, user_agent
        response = http.post(
            f"/api/widget/v1/websites/{website_id}/session",
            json={
                "page": {"url": page_url, "title": "A page", "referrer": ""},
                "locale": locale,
                "timezone": timezone,
            },
            headers=self.base_headers,
        )
        assert response.status_code == 201, response.text
        data = response.json()
        self.token: str = data["token"]
        self.session_id: str = data["session"]["id"]
        self.website: dict[str, Any] = data["website"]

    @property
    def base_headers(self) -> dict[str, str]:
        return {"Origin": self.origin, "X-Forwarded-For": self.ip, "User-Agent": self.user_agent}

    @property
    def headers(self) -> dict[str, str]:
        return {**self.base_headers, "Authorization": f"Bearer {self.token}"}

    def say(self, body: str) -> httpx.Response:
        return self.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(6), "type": "text", "body": body},
            headers=self.headers,
        )

    def profile(self, **fields: Any) -> httpx.Response:
        return self.http.patch("/api/widget/v1/session/profile", json=fields, headers=self.headers)

    def consent(self, version: int) -> httpx.Response:
        return self.http.post(
            "/api/widget/v1/session/consent", json={"version": version}, headers=self.headers
        )


def operator_says(
    http: httpx.Client, site: Site, session_id: str, body: str, type_: str = "text"
) -> None:
    response = http.post(
        f"/api/v1/sessions/{session_id}/messages",
        json={"client_id": secrets.token_hex(6), "type": type_, "body": body},
        headers=auth(site, "agent"),
    )
    assert response.status_code == 201, response.text


def privacy(http: httpx.Client, site: Site, who: str, op: str, **body: str) -> httpx.Response:
    return http.post(f"/api/v1/privacy/{op}", json=body, headers=auth(site, who))


def patch_website(
    http: httpx.Client, site: Site, who: str, website_id: str, **body: Any
) -> httpx.Response:
    return http.patch(f"/api/v1/websites/{website_id}", json=body, headers=auth(site, who))


# -- looking for what must not be there --------------------------------------------------------


def database_text(url: str) -> dict[str, str]:
    """Every row of every table the database holds (not only Causerie's), as text."""
    found = {}
    for table in sorted(table_names(url)):
        if is_sqlite(url):
            rows = query(url, f'SELECT * FROM "{table}"')
        else:
            rows = query(url, f'SELECT row_to_json(t)::text FROM "{table}" t')
        found[table] = repr(rows)
    return found


def sqlite_files(url: str) -> dict[str, bytes]:
    """The bytes of the SQLite database and its companions (-wal, -shm); {} on PostgreSQL."""
    if not is_sqlite(url):
        return {}
    path = sqlite_path(url)
    files = {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}
    assert files
    return files


def assert_nowhere(url: str, markers: list[str]) -> None:
    for table, text in database_text(url).items():
        for marker in markers:
            assert marker not in text, f"{marker!r} survives in table {table}"
    for name, content in sqlite_files(url).items():
        for marker in markers:
            assert marker.encode() not in content, f"{marker!r} survives in the file {name}"


def audit_rows(harness: Harness, action: str | None = None) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT actor_type, actor_id, action, website_id, target_type, target_id, details "
        "FROM audit_log"
    )
    if action is not None:
        return harness.rows(sql + " WHERE action = :a ORDER BY at, id", a=action)
    return harness.rows(sql + " ORDER BY at, id")


def details_of(row: tuple[Any, ...]) -> dict[str, Any]:
    details = row[6]
    return json.loads(details) if isinstance(details, str) else dict(details)


def assert_audit_holds_no(harness: Harness, markers: list[str]) -> None:
    text = json.dumps([[str(v) for v in row] for row in audit_rows(harness)])
    for marker in markers:
        assert marker not in text, f"{marker!r} is in the audit log"


def messages_of(harness: Harness, session_ids: list[str]) -> int:
    total = 0
    for session_id in session_ids:
        total += harness.scalar(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.session_id = :s",
            s=session_id,
        )
    return total


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


# -- P9: consent --------------------------------------------------------------------------------


def test_p9_consent_is_asked_recorded_with_its_version_and_can_be_withdrawn(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    changed = patch_website(
        web,
        site,
        "admin",
        site.website_id,
        settings={"consent_required": True, "consent_notice": "We keep your chat for a year."},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["website"]["settings"]["consent_version"] == 1

    visitor = Visitor(web, site.website_id, ip="203.0.113.120")
    settings = visitor.website["settings"]
    assert (settings["consent_required"], settings["consent_version"]) == (True, 1)
    assert settings["consent_notice"] == "We keep your chat for a year."

    # Without consent nothing is collected: no message, no conversation, no profile.
    assert error_of(visitor.say("hello without consent"), 403)["code"] == "consent_required"
    refused = visitor.profile(email="nope@mail.example")
    assert error_of(refused, 403)["code"] == "consent_required"
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.scalar("SELECT count(*) FROM conversations") == 0
    assert harness.rows("SELECT email, consent_version, consent_at, state FROM sessions") == [
        (None, None, None, "temporary")
    ]

    assert error_of(visitor.consent(2), 422)["code"] == "stale_notice"
    clock.advance(timedelta(minutes=3))
    accepted_at = clock.now()
    given = visitor.consent(1)
    assert given.status_code == 200, given.text
    assert given.json()["session"]["consent"] == {"version": 1, "accepted_at": iso(accepted_at)}
    assert visitor.say("hello with consent").status_code == 201
    assert visitor.profile(email="yes@mail.example").status_code == 200

    seen = web.get(f"/api/v1/sessions/{visitor.session_id}", headers=auth(site, "agent")).json()
    assert seen["session"]["consent"] == {"version": 1, "accepted_at": iso(accepted_at)}
    exported = privacy(web, site, "admin", "export", session_id=visitor.session_id).json()
    assert exported["sessions"][0]["consent"] == {"version": 1, "accepted_at": iso(accepted_at)}

    # A new notice is a new version: the earlier consent no longer suffices.
    clock.advance(timedelta(days=1))
    renewed = patch_website(
        web, site, "admin", site.website_id, settings={"consent_notice": "New terms."}
    )
    assert renewed.json()["website"]["settings"]["consent_version"] == 2
    assert error_of(visitor.say("still there?"), 403)["code"] == "consent_required"
    assert error_of(visitor.consent(1), 422)["code"] == "stale_notice"
    assert visitor.consent(2).json()["session"]["consent"]["version"] == 2
    assert visitor.say("accepted the new terms").status_code == 201

    # Withdrawn: messages refused again, the consent gone from the session, and audited.
    withdrawn = web.delete("/api/widget/v1/session/consent", headers=visitor.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["session"]["consent"] is None
    assert harness.rows(
        "SELECT consent_version, consent_at FROM sessions WHERE id = :s", s=visitor.session_id
    ) == [(None, None)]
    assert error_of(visitor.say("after withdrawal"), 403)["code"] == "consent_required"
    assert harness.scalar("SELECT count(*) FROM messages") == 2
    [entry] = audit_rows(harness, "consent.withdraw")
    assert entry[:6] == (
        "visitor",
        None,
        "consent.withdraw",
        site.website_id,
        "session",
        visitor.session_id,
    )
    assert details_of(entry) == {}
    assert_audit_holds_no(harness, ["203.0.113.120", "yes@mail.example", "hello with consent"])

    # Withdrawing consent does not take the visitor's rights away: export and erasure work.
    own = web.get("/api/widget/v1/session/export", headers=visitor.headers)
    assert own.status_code == 200, own.text
    assert own.json()["sessions"][0]["consent"] is None
    assert web.delete("/api/widget/v1/session", headers=visitor.headers).json() == {
        "erased": {"sessions": 1, "messages": 2}
    }

    # A website that asks for nothing takes no consent.
    other = Visitor(web, site.other_website_id, ip="198.51.100.9", origin=OTHER_ORIGIN)
    assert error_of(other.consent(1), 422)["code"] == "consent_not_asked"
    assert other.say("no consent needed here").status_code == 201


# -- P8: the notice page, and P6: a website may shorten, never lengthen -------------------------


def test_p8_p6_notice_page_reads_the_live_settings_in_english_and_french(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
) -> None:
    server = start_server(make_settings(chat_ip_retention="200d", cookie_max_age="90d"))
    with httpx.Client(base_url=server.url, timeout=10) as http:

        def fetch(website_id: str, lang: str) -> httpx.Response:
            response = http.get(f"/privacy/{website_id}", params={"lang": lang})
            assert response.status_code == 200, response.text
            return response

        def page(website_id: str, lang: str) -> str:
            """The page as a reader sees it (entities decoded)."""
            return html.unescape(fetch(website_id, lang).text)

        en = fetch(site.website_id, "en")
        assert en.headers["content-type"].startswith("text/html")
        csp = en.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp  # nothing may run
        assert en.headers["x-content-type-options"] == "nosniff"
        assert '<html lang="en">' in en.text
        assert "<script" not in en.text
        english = html.unescape(en.text)
        assert "the IP address is kept 200 days" in english
        assert "destroyed 30 minutes after your last visit" in english
        assert "expires after 90 days" in english
        assert "kept until it is deleted once resolved" in english
        french = page(site.website_id, "fr")
        assert '<html lang="fr">' in french
        assert "l'adresse IP est conservée 200 jours" in french
        assert "détruites 30 minutes" in french
        assert "expire après 90 jours" in french

        # The website shortens its own retention: the page follows at once, for it alone.
        shorter = patch_website(
            http,
            site,
            "admin",
            site.website_id,
            settings={"retention": {"chat_ips": 30, "resolved_conversations": 60}},
        )
        assert shorter.status_code == 200, shorter.text
        assert shorter.json()["website"]["settings"]["retention"] == {
            "chat_ips": 30,
            "resolved_conversations": 60,
        }
        assert "the IP address is kept 30 days" in page(site.website_id, "en")
        assert "kept 60 days once resolved" in page(site.website_id, "en")
        assert "l'adresse IP est conservée 30 jours" in page(site.website_id, "fr")
        assert "the IP address is kept 200 days" in page(site.other_website_id, "en")

        # Never longer than the server's setting.
        longer = patch_website(
            http, site, "admin", site.website_id, settings={"retention": {"chat_ips": 201}}
        )
        assert error_of(longer, 422)["code"] == "invalid_settings"
        assert "the IP address is kept 30 days" in page(site.website_id, "en")

        # Consent, when asked, is explained; a website's name is text, never markup.
        renamed = patch_website(
            http,
            site,
            "admin",
            site.website_id,
            name="<script>alert('x')</script> & <b>Co</b>",
            settings={"consent_required": True},
        )
        assert renamed.status_code == 200, renamed.text
        marked = fetch(site.website_id, "en").text
        assert "<script>" not in marked
        assert "<b>" not in marked
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in (
            marked
        )
        assert "asks you to accept this notice" in html.unescape(marked)
        assert "vous demande d'accepter" in page(site.website_id, "fr")

        # Without ?lang=, the browser's language.
        browser = http.get(f"/privacy/{site.website_id}", headers={"Accept-Language": "fr-CA,fr"})
        assert '<html lang="fr">' in browser.text

        missing = http.get("/privacy/nosuchwebsite000000000000", params={"lang": "en"})
        assert error_of(missing, 404)["code"] == "website_not_found"


def test_p6_a_websites_retention_overrides_merge_rule_by_rule(
    web: httpx.Client, site: Site
) -> None:
    first = patch_website(
        web, site, "admin", site.website_id, settings={"retention": {"chat_ips": 30}}
    )
    assert first.json()["website"]["settings"]["retention"] == {"chat_ips": 30}
    second = patch_website(
        web, site, "admin", site.website_id, settings={"retention": {"resolved_conversations": 60}}
    )
    assert second.status_code == 200, second.text
    assert second.json()["website"]["settings"]["retention"] == {
        "chat_ips": 30,
        "resolved_conversations": 60,
    }
    # null gives a rule back to the server's setting.
    third = patch_website(
        web, site, "admin", site.website_id, settings={"retention": {"chat_ips": None}}
    )
    assert third.json()["website"]["settings"]["retention"] == {"resolved_conversations": 60}


# -- P10 DPA, P2 and P11 register ---------------------------------------------------------------


def test_p10_p2_p11_dpa_acceptance_and_the_processing_register(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock, tmp_path: Path
) -> None:
    path = f"/api/v1/websites/{site.website_id}/dpa"
    offered = web.get(path, headers=auth(site, "admin"))
    assert offered.json() == {"current_version": DPA_VERSION, "acceptances": []}
    harness.execute(
        "UPDATE operators SET name = 'Olivia Owner' WHERE id = :i", i=site.operator_ids["owner"]
    )

    refused = web.post(path, json={"version": DPA_VERSION}, headers=auth(site, "admin"))
    assert error_of(refused, 403)["code"] == "forbidden"
    unknown = web.post(path, json={"version": "1999-01"}, headers=auth(site, "owner"))
    assert error_of(unknown, 422)["code"] == "unknown_dpa_version"
    outsider = web.post(path, json={"version": DPA_VERSION}, headers=auth(site, "other_owner"))
    assert error_of(outsider, 404)["code"] == "website_not_found"
    assert harness.scalar("SELECT count(*) FROM dpa_acceptances") == 0

    accepted = web.post(path, json={"version": DPA_VERSION}, headers=auth(site, "owner"))
    assert accepted.status_code == 201, accepted.text
    expected = {
        "current_version": DPA_VERSION,
        "acceptances": [
            {
                "version": DPA_VERSION,
                "operator": {"id": site.operator_ids["owner"], "name": "Olivia Owner"},
                "accepted_at": iso(clock.now()),
            }
        ],
    }
    assert accepted.json() == expected
    assert web.get(path, headers=auth(site, "admin")).json() == expected
    assert error_of(web.get(path, headers=auth(site, "agent")), 403)["code"] == "forbidden"
    [entry] = audit_rows(harness, "dpa.accept")
    assert entry[:6] == (
        "operator",
        site.operator_ids["owner"],
        "dpa.accept",
        site.website_id,
        "website",
        site.website_id,
    )
    assert details_of(entry) == {"version": DPA_VERSION}

    # The register over the API: the caller's websites only.
    mine = web.get("/api/v1/privacy/register", headers=auth(site, "admin"))
    assert mine.status_code == 200, mine.text
    markdown = mine.json()["markdown"]
    assert f"### Shop (`{site.website_id}`)" in markdown
    assert site.other_website_id not in markdown
    assert (
        f"- Data-processing agreement: version {DPA_VERSION} accepted on "
        f"{clock.now().date().isoformat()} by Olivia Owner"
    ) in markdown
    theirs = web.get("/api/v1/privacy/register", headers=auth(site, "other_owner")).json()
    assert f"### Other (`{site.other_website_id}`)" in theirs["markdown"]
    assert site.website_id not in theirs["markdown"]
    assert f"version {DPA_VERSION} not accepted yet" in theirs["markdown"]
    agent = web.get("/api/v1/privacy/register", headers=auth(site, "agent"))
    assert error_of(agent, 403)["code"] == "forbidden"

    # The register follows the website's own choices: consent asked, a shorter retention.
    chosen = patch_website(
        web,
        site,
        "admin",
        site.website_id,
        settings={"consent_required": True, "retention": {"chat_ips": 30}},
    )
    assert chosen.status_code == 200, chosen.text
    markdown = web.get("/api/v1/privacy/register", headers=auth(site, "owner")).json()["markdown"]
    assert "- Consent before chatting: required (notice version 1)" in markdown
    assert "- Shorter retention chosen by the website: `chat_ips` 30 days" in markdown

    # The register from the shell: every website, every declared field, the settings in force,
    # the SMTP relay's host and never its credentials.
    env = cli_env(
        harness.settings.data_dir,
        harness.settings.database_url,
        CAUSERIE_SMTP_URL="smtp://mailer-user:Hunter2-Secret@relay.mail.example:587",
        CAUSERIE_CHAT_IP_RETENTION="200d",
        CAUSERIE_AUDIT_RETENTION="400d",
    )
    result = run_cli("privacy", "register", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    register = result.stdout
    assert register.startswith("# Record of processing activities")
    for field in PERSONAL:
        assert f"`{field.key}`" in register, field.key
    for line in (
        "| `CAUSERIE_CHAT_IP_RETENTION` | 200 days |",
        "| `CAUSERIE_TEMPORARY_SESSION_TTL` | 30 minutes |",
        "| `CAUSERIE_CONVERSATION_RETENTION` | forever |",
        "| `CAUSERIE_COOKIE_MAX_AGE` | 182 days |",
        "| `CAUSERIE_LOGIN_TTL` | 14 days |",
        "| `CAUSERIE_AUDIT_RETENTION` | 400 days |",
        "- SMTP relay: relay.mail.example:587: mail to operators",
        f"### Shop (`{site.website_id}`)",
        f"### Other (`{site.other_website_id}`)",
        f"version {DPA_VERSION} not accepted yet",
        f"version {DPA_VERSION} accepted on",
    ):
        assert line in register, line
    assert "Hunter2-Secret" not in register
    assert "mailer-user" not in register
    assert "Hunter2-Secret" not in result.stderr


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

    exported = run_cli("privacy", "export", "--email", email, env=env, cwd=tmp_path)
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
    dry = run_cli("purge", "--dry-run", "--json", env=env, cwd=tmp_path)
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


def test_p5_a_visitor_chats_without_giving_a_name_an_email_or_a_phone(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    """Nothing is asked before chatting: a first message is stored and answered with no profile,
    and what is held of the visitor names no one."""
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/", "title": "Shop"}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["website"]["settings"]["email_prompt"] is True  # asked after, optional
    token = opened.json()["token"]
    sent = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "p5", "body": "Just a question"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    assert sent.status_code == 201, sent.text
    profile = harness.rows("SELECT state, nickname, email, phone FROM sessions")
    assert profile == [("permanent", None, None, None)]
    document = http.get(
        "/api/widget/v1/session/export",
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    ).json()
    assert document["sessions"][0]["profile"] == {
        "nickname": None,
        "email": None,
        "phone": None,
        "data": {},
    }
