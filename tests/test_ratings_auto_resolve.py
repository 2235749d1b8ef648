"""Ratings and auto-resolve (docs/inbox.md), at the
action level on SQLite and PostgreSQL: what each action stores, and the events agents and
visitors hear (read back from the event log as a reconnecting client would get them).

Presence is the in-process one; the clock is the test's ManualClock, moved rather than waited
for; background jobs are run by the same function every node runs.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from causerie.actions.auto_resolve import do_auto_resolve
from causerie.actions.conversations import do_delete_conversation
from causerie.actions.inbox import do_set_state, get_thread
from causerie.actions.messages import do_send_session_message
from causerie.actions.privacy import do_erase_own_session, do_export_own_session
from causerie.actions.ratings import do_rate_conversation
from causerie.actions.reports import get_report
from causerie.actions.webhooks import do_create_webhook
from causerie.actions.websites import do_update_website
from causerie.domain.errors import Conflict, Invalid, NotFound
from causerie.domain.events import Stream
from causerie.domain.models import ConversationState, MessageType
from tests.conftest import ORIGIN, Harness, Site
from tests.teams_support import (
    CLI,
    SQLITE,
    frames_of,
    operator,
    start,
)


@SQLITE
def test_a_rating_per_resolution_replaced_when_rated_again(harness: Harness, site: Site) -> None:
    token, session_id, conversation = start(harness, site)

    def rate(value: object, comment: str | None = None) -> None:
        harness.run(
            do_rate_conversation(
                harness.rt,
                token=token,
                origin=ORIGIN,
                conversation_id=conversation,
                rating=value,
                comment=comment,
            )
        )

    with pytest.raises(Conflict):
        rate(5)  # still open
    agent = operator(site, "agent")
    harness.run(do_set_state(harness.rt, agent, conversation, ConversationState.RESOLVED))
    for wrong in (0, 6, "5", True, 4.5):
        with pytest.raises(Invalid):
            rate(wrong)
    with pytest.raises(Invalid):
        rate(3, "x" * 1001)
    webhook, _ = harness.run(
        do_create_webhook(
            harness.rt,
            CLI,
            site.website_id,
            url="https://hooks.invalid/causerie",
            events=["conversation.rated"],
        )
    )
    rate(2, "slow")
    body = json.loads(
        harness.scalar("SELECT body FROM webhook_deliveries WHERE webhook_id = :w", w=webhook.id)
    )
    assert body["type"] == "conversation.rated"
    assert {k: body["data"][k] for k in ("conversation_id", "rating", "comment")} == {
        "conversation_id": conversation,
        "rating": 2,
        "comment": "slow",
    }
    rate(4, "  fine after all ")  # replaces: one rating for this resolution
    thread = harness.run(get_thread(harness.rt, CLI, conversation))
    assert [(r.rating, r.comment) for r in thread.ratings] == [(4, "fine after all")]
    # Reports count it once, at its new value.
    day = harness.clock.now().date().isoformat()
    report = harness.run(
        get_report(harness.rt, CLI, site.website_id, first=day, last=day, tz="UTC")
    )
    assert (report["totals"]["ratings_count"], report["totals"]["ratings_average"]) == (1, 4.0)
    # Reopened and resolved again: a second resolution, a second rating.
    harness.clock.advance(timedelta(minutes=5))
    harness.run(do_set_state(harness.rt, agent, conversation, ConversationState.OPEN))
    with pytest.raises(Conflict):
        rate(5)
    harness.run(do_set_state(harness.rt, agent, conversation, ConversationState.RESOLVED))
    rate(5)
    thread = harness.run(get_thread(harness.rt, CLI, conversation))
    assert [r.rating for r in thread.ratings] == [4, 5]
    rated = [
        f
        for f in frames_of(harness, Stream.of_website(site.website_id))
        if f["type"] == "conversation.rated"
    ]
    assert len(rated) == 3 and rated[-1]["conversation_id"] == conversation
    assert {k: rated[-1][k] for k in ("rating", "comment")} == {"rating": 5, "comment": None}
    assert any(
        f["type"] == "conversation.rated" for f in frames_of(harness, Stream.of_session(session_id))
    )
    # Another visitor cannot rate this conversation.
    other_token = start(harness, site)[0]
    with pytest.raises(NotFound):
        harness.run(
            do_rate_conversation(
                harness.rt, token=other_token, origin=ORIGIN, conversation_id=conversation, rating=1
            )
        )


@SQLITE
def test_auto_resolve_after_the_website_period_and_reopen_on_a_visitor_message(
    harness: Harness, site: Site
) -> None:
    _, session_id, conversation = start(harness, site)
    harness.run(
        do_update_website(
            harness.rt,
            CLI,
            site.website_id,
            name=None,
            origins=None,
            settings={"auto_resolve_minutes": 30},
        )
    )

    def updates() -> list[str]:  # the visitor's stream, as a reconnecting chatbox reads it
        return [
            f["conversation"]["state"]
            for f in frames_of(harness, Stream.of_session(session_id))
            if f["type"] == "conversation.updated"
        ]

    webhook, _ = harness.run(
        do_create_webhook(
            harness.rt,
            CLI,
            site.website_id,
            url="https://hooks.invalid/causerie",
            events=["conversation.resolved"],
        )
    )
    before = len(updates())
    harness.clock.advance(timedelta(minutes=29))
    assert harness.run(do_auto_resolve(harness.rt)) == 0
    harness.clock.advance(timedelta(minutes=2))
    assert harness.run(do_auto_resolve(harness.rt)) == 1
    assert harness.run(do_auto_resolve(harness.rt)) == 0  # harmless when repeated
    assert updates()[before:] == ["resolved"]
    # Resolved as if by an agent: webhooks hear it and reports count it.
    sent = harness.rows(
        "SELECT event_type FROM webhook_deliveries WHERE webhook_id = :w", w=webhook.id
    )
    assert sent == [("conversation.resolved",)]
    day = harness.clock.now().date().isoformat()
    report = harness.run(
        get_report(harness.rt, CLI, site.website_id, first=day, last=day, tz="UTC")
    )
    assert report["totals"]["conversations_resolved"] == 1
    thread = harness.run(get_thread(harness.rt, CLI, conversation))
    assert thread.conversation.state is ConversationState.RESOLVED
    assert thread.messages[-1].type is MessageType.EVENT
    assert "30 minutes" in thread.messages[-1].body
    assert thread.messages[-1].event == {"kind": "auto_resolved", "minutes": 30}
    harness.run(
        do_send_session_message(harness.rt, session_id, client_id="again", body="Still there?")
    )
    assert len(updates()) == before + 2  # reopened: announced too
    thread = harness.run(get_thread(harness.rt, CLI, conversation))
    assert thread.conversation.state is ConversationState.OPEN
    with pytest.raises(Invalid):
        harness.run(
            do_update_website(
                harness.rt,
                CLI,
                site.website_id,
                name=None,
                origins=None,
                settings={"auto_resolve_minutes": 0},
            )
        )


@SQLITE
def test_p9_p20_ratings_are_exported_with_the_visitor_and_go_with_the_conversation(
    harness: Harness, site: Site
) -> None:
    token, _, conversation = start(harness, site)
    harness.run(do_set_state(harness.rt, CLI, conversation, ConversationState.RESOLVED))
    harness.run(
        do_rate_conversation(
            harness.rt,
            token=token,
            origin=ORIGIN,
            conversation_id=conversation,
            rating=2,
            comment="Too slow",
        )
    )
    exported = harness.run(do_export_own_session(harness.rt, token, ORIGIN))
    (session,) = exported["sessions"]
    assert [(r["rating"], r["comment"]) for r in session["conversation"]["ratings"]] == [
        (2, "Too slow")
    ]
    harness.run(do_erase_own_session(harness.rt, token, ORIGIN))
    assert harness.scalar("SELECT count(*) FROM ratings") == 0
    # Deleted by an admin (P20): the rating goes with the conversation too.
    token, _, conversation = start(harness, site)
    harness.run(do_set_state(harness.rt, CLI, conversation, ConversationState.RESOLVED))
    harness.run(
        do_rate_conversation(
            harness.rt, token=token, origin=ORIGIN, conversation_id=conversation, rating=5
        )
    )
    harness.run(do_delete_conversation(harness.rt, CLI, conversation))
    assert harness.scalar("SELECT count(*) FROM ratings") == 0
