"""A rule "block this visitor" made copies the session's address: it goes when the chat IP
retention, as it is at the purge, erases that address (P18, P20), on SQLite and PostgreSQL with
the injected clock; and migration 0028 marks the copies an upgraded install made before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from causerie.actions.blocks import do_add_block_rule, do_block_visitor
from causerie.actions.retention import do_purge
from causerie.actions.websites import do_update_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.runtime import Runtime
from tests import test_privacy_audit_retention
from tests.conftest import ORIGIN, Harness, Site
from tests.privacy_support import assert_nowhere
from tests.support import empty_database, in_one_transaction, migrate_on
from tests.test_privacy_audit_retention import chat

# Runtimes over the harness's store, with other settings (a fixture of that module's)
engine = test_privacy_audit_retention.engine


def _block(harness: Harness, rt: Runtime, session_id: str, **extra: object) -> str:
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=session_id
    )
    rule = harness.run(
        do_block_visitor(rt, Actor.cli(), conversation_id, reason="insults", **extra)  # type: ignore[arg-type]
    )
    return rule.id


def _rule_ids(harness: Harness) -> set[str]:
    return {row[0] for row in harness.rows("SELECT id FROM block_rules")}


def test_p18_p20_a_visitor_block_goes_when_the_website_shortens_its_chat_ip_retention(
    engine: Callable[..., Runtime], harness: Harness, site: Site, clock: ManualClock
) -> None:
    """The rule got its end from the retention of the day it was made (a year): a website
    that then keeps chat IPs 30 days erased the address, and the copy stayed 11 months more."""
    rt = engine()
    started = clock.now()
    session_id = chat(harness, rt, site.website_id, ORIGIN, "198.51.100.41")
    copied = _block(harness, rt, session_id, kind="network")
    typed = harness.run(
        do_add_block_rule(
            rt, Actor.cli(), site.website_id, kind="address", value="192.0.2.9", reason="typed"
        )
    ).id
    assert harness.scalar("SELECT ip_seen_at FROM block_rules WHERE id = :i", i=copied) is not None
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
    clock.advance(timedelta(days=29))
    assert harness.run(do_purge(rt))["expired_blocks"] == 0
    assert _rule_ids(harness) == {copied, typed}

    clock.advance(timedelta(days=2))
    assert clock.now() < started + timedelta(days=365)  # the rule's own expiry is far off
    dry = harness.run(do_purge(rt, dry_run=True))
    counts = harness.run(do_purge(rt))
    assert dry["expired_blocks"] == counts["expired_blocks"] == 1, (dry, counts)
    assert counts["chat_ips"] == 1, counts
    assert _rule_ids(harness) == {typed}  # the rule typed by hand stays
    assert_nowhere(harness.settings.database_url, ["198.51.100.41", "198.51.100."])


def test_p18_p20_a_visitor_block_goes_when_the_server_shortens_its_chat_ip_retention(
    engine: Callable[..., Runtime], harness: Harness, site: Site, clock: ManualClock
) -> None:
    """CAUSERIE_CHAT_IP_RETENTION shortened (a restart with 60 days) ends the copies made under
    the year, as it erases their addresses; so does it a copy left without an end (an upgraded
    install's, as migration 0028 marks them)."""
    yearly = engine()
    session_id = chat(harness, yearly, site.website_id, ORIGIN, "198.51.100.42")
    copied = _block(harness, yearly, session_id)
    other = chat(harness, yearly, site.website_id, ORIGIN, "198.51.100.43")
    unended = _block(harness, yearly, other)
    harness.rows("UPDATE block_rules SET expires_at = NULL WHERE id = :i RETURNING id", i=unended)
    clock.advance(timedelta(days=61))
    assert harness.run(do_purge(yearly))["expired_blocks"] == 0
    assert _rule_ids(harness) == {copied, unended}

    shorter = engine(chat_ip_retention="60d")
    dry = harness.run(do_purge(shorter, dry_run=True))
    counts = harness.run(do_purge(shorter))
    assert dry["expired_blocks"] == counts["expired_blocks"] == 2, (dry, counts)
    assert counts["chat_ips"] == 2, counts
    assert _rule_ids(harness) == set()
    assert_nowhere(harness.settings.database_url, ["198.51.100.42", "198.51.100.43"])


def test_p18_p20_forever_keeps_a_visitor_block_until_its_own_expiry(
    engine: Callable[..., Runtime], harness: Harness, site: Site, clock: ManualClock
) -> None:
    """With chat IPs kept forever, a copy ends by its own expiry only (none: it stays)."""
    rt = engine(chat_ip_retention="forever")
    session_id = chat(harness, rt, site.website_id, ORIGIN, "198.51.100.44")
    kept = _block(harness, rt, session_id)
    clock.advance(timedelta(days=3000))
    assert harness.run(do_purge(rt))["expired_blocks"] == 0
    assert _rule_ids(harness) == {kept}


# -- migration 0028 -----------------------------------------------------------------------------

_AT = "'2026-01-01 00:00:00'"


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(database_url, tmp_path) as url:
        yield url


def test_p18_0028_marks_the_visitor_blocks_an_upgraded_install_made_and_downgrades(
    empty_url: str,
) -> None:
    """Before 0028 a rule did not say it was a copy; the audit log's `block.added` does (`from`).
    Marked: website address or network rules made from a conversation, and those whose entry
    the audit retention purged (nothing tells how they were made: a copy, to be safe). Not
    marked: rules typed by hand, email rules, server-wide rules."""
    found: dict[str, list[tuple[object, ...]]] = {}

    def step(conn: Connection) -> None:
        migrate_on(conn, "upgrade", "0027")
        for sql in (
            f"INSERT INTO websites (id, name, origins, settings, created_at)"
            f" VALUES ('wa', 'A', '[]', '{{}}', {_AT})",
            "INSERT INTO block_rules (id, website_id, kind, value, reason, created_at,"
            " created_by, expires_at) VALUES"
            f" ('visitor', 'wa', 'address', '198.51.100.7', 'r', {_AT}, NULL, NULL),"
            f" ('typed', 'wa', 'address', '192.0.2.8', 'r', {_AT}, NULL, NULL),"
            f" ('unknown', 'wa', 'network', '198.51.100.0/24', 'r', {_AT}, NULL, NULL),"
            f" ('email', 'wa', 'email', 'm@mail.example', 'r', {_AT}, NULL, NULL),"
            f" ('server', NULL, 'address', '192.0.2.9', 'r', {_AT}, NULL, NULL)",
            "INSERT INTO audit_log (id, at, actor_type, actor_id, action, website_id,"
            " target_type, target_id, details) VALUES"
            f" ('a1', {_AT}, 'operator', 'o', 'block.added', 'wa', 'block_rule', 'visitor',"
            ' \'{"kind": "address", "from": "conversation"}\'),'
            f" ('a2', {_AT}, 'operator', 'o', 'block.added', 'wa', 'block_rule', 'typed',"
            ' \'{"kind": "address", "from": "rule"}\')',
        ):
            conn.execute(text(sql))
        migrate_on(conn, "upgrade", "0028")
        found["marked"] = sorted(
            tuple(row)
            for row in conn.execute(
                text("SELECT id FROM block_rules WHERE ip_seen_at = created_at")
            )
        )
        found["unmarked"] = sorted(
            tuple(row)
            for row in conn.execute(text("SELECT id FROM block_rules WHERE ip_seen_at IS NULL"))
        )
        migrate_on(conn, "downgrade", "0027")
        found["after_downgrade"] = sorted(
            tuple(row) for row in conn.execute(text("SELECT id, expires_at FROM block_rules"))
        )
        migrate_on(conn, "upgrade", "head")

    in_one_transaction(empty_url, step)
    assert found["marked"] == [("unknown",), ("visitor",)]
    assert found["unmarked"] == [("email",), ("server",), ("typed",)]
    # Every rule stays through a downgrade, ending by its own expiry (none here).
    assert found["after_downgrade"] == [
        (rule_id, None) for rule_id in ("email", "server", "typed", "unknown", "visitor")
    ]
