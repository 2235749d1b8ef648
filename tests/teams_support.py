"""What the tests of teams, assignment, ratings and auto-resolve share (tests/test_teams.py,
tests/test_ratings_auto_resolve.py): operators with a role, a visitor's conversation, presence,
jobs run as a node runs them, and the event log read back."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from causerie.actions.inbox import get_thread
from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs
from causerie.actions.messages import do_send_session_message
from causerie.actions.presence import do_set_agent_status
from causerie.actions.sessions import do_open_session
from causerie.domain.events import Stream
from causerie.domain.models import Actor, PageView
from causerie.domain.ports import agent_connection_id
from causerie.runtime import Runtime
from tests.conftest import ORIGIN, Harness, Site

_ids = itertools.count(1)
# Behaviour on one database (CI time); the repositories' contract and the two nodes' race run on
# PostgreSQL too.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CLI = Actor.cli()


def operator(site: Site, role: str) -> Actor:
    return Actor("operator", operator_id=site.operator_ids[role])


def start(harness: Harness, site: Site, rt: Runtime | None = None) -> tuple[str, str, str]:
    """A visitor starts a conversation: (token, session id, conversation id)."""
    rt = rt or harness.rt
    opened = harness.run(
        do_open_session(
            rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url="https://shop.example/", title="Shop"),
            ip="203.0.113.9",
            origin=ORIGIN,
        )
    )
    sent = harness.run(
        do_send_session_message(rt, opened.session.id, client_id=f"c{next(_ids)}", body="Hello?")
    )
    return opened.token, opened.session.id, sent.message.conversation_id


def online(harness: Harness, site: Site, *roles: str, status: str | None = "online") -> None:
    for role in roles:
        harness.run(
            do_set_agent_status(
                harness.rt,
                site.website_id,
                agent_connection_id(site.operator_ids[role], "socket"),
                status,
            )
        )


def run_jobs(harness: Harness) -> None:
    harness.run(do_run_due_jobs(harness.rt, KINDS))


def assignee_of(harness: Harness, conversation_id: str) -> str | None:
    thread = harness.run(get_thread(harness.rt, CLI, conversation_id))
    return thread.conversation.assignee_id


def frames_of(harness: Harness, stream: Stream) -> list[dict[str, Any]]:
    from causerie.actions.events import get_replay

    replay = harness.run(get_replay(harness.rt, stream, 0))
    return [json.loads(text) for _, text in replay.frames]


def in_tx(harness: Harness, work: Any) -> None:
    async def run() -> None:
        async with harness.rt.store.transaction() as tx:
            await work(tx)

    harness.run(run())
