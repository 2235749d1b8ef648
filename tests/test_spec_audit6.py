"""Contracts of SPEC.md checked by small client programs written from it (sixth outside audit,
branch audit6, 2026-12-07).

Clients written from SPEC.md alone, over real servers' sockets (one node on SQLite; two nodes
on PostgreSQL and Redis), found these (each test fails before its fix): an operator's read mark
on a private note or an event line (the inbox marks the thread's last message read, often the
agent's own note) was told to the visitor as it was: the note's id reached the visitor's stream,
their chatbox load and its replays, and the chatbox, which never had that message, showed no
"Seen" at all; and the visitor's view of their conversation carried its `last_message_at` and
`updated_at`, which a note (or an assignment) moves: when agents wrote about them; each attempt
of a webhook delivery was a new job (attempts 0, no error) and a delivery given up left none, so
`causerie jobs list --state failed` never showed one, nor could `causerie jobs retry` send it.
Read marks, conversations and jobs are stored, so this runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs, get_jobs
from causerie.actions.webhooks import do_update_webhook, get_deliveries
from causerie.clock import ManualClock
from causerie.domain.webhooks import DeliveryState
from causerie.domain.wire import iso
from causerie.settings import Settings
from tests.conftest import Harness, ServerThread, Site
from tests.live import Live, agent, visitor
from tests.support import Ran, invoke_cli
from tests.test_session_endpoint import open_session, send
from tests.test_webhooks import CLI, make_webhook, visitor_writes
from tests.webhook_receiver import Receiver


@pytest.fixture
def clock() -> ManualClock:
    # `causerie jobs retry` sets a job due at the real time: the clock starts there.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(webhook_allow_private="true")


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _visitor_asks(http: httpx.Client, site: Site) -> tuple[str, str, str]:
    """A visitor's token, their conversation and their message."""
    token = open_session(http, site.website_id).json()["token"]
    sent = send(http, token, "Where is my order?", client_id="v1")
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    return token, message["conversation_id"], message["id"]


def _everything_the_visitor_is_told(
    http: httpx.Client, server: ServerThread, sockets: list[Live], site: Site, token: str
) -> str:
    """The visitor's chatbox load and the replay of their whole stream, as one text."""
    load = open_session(http, site.website_id, token=token).json()
    live, ready = visitor(server.url, token, after=0, website_id=site.website_id)
    sockets.append(live)
    frames = live.until_seq(ready["seq"])
    return json.dumps([load, ready, frames])


def test_an_operators_read_mark_on_a_note_names_the_last_message_the_visitor_sees(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live], harness: Harness
) -> None:
    """The inbox marks the thread's last message read: the agent's own note, after a reply."""
    token, conversation_id, asked = _visitor_asks(http, site)
    watching, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(watching)
    note = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=owner(site),
        json={"client_id": "n1", "type": "note", "body": "VIP customer, refund at once"},
    ).json()["message"]
    read = http.post(
        f"/api/v1/conversations/{conversation_id}/read",
        headers=owner(site),
        json={"up_to": note["id"]},
    )
    assert read.status_code == 200, read.text
    conversation = read.json()["conversation"]
    assert conversation["read_up_to"]["operator"] == asked
    assert conversation["unread"] == 0
    (told,) = [f for f in watching.until(lambda fs: any(f["type"] == "read" for f in fs), "read")
               if f["type"] == "read"]  # fmt: skip
    assert (told["by"], told["up_to"]) == ("operator", asked)
    seen = _everything_the_visitor_is_told(http, server, sockets, site, token)
    assert note["id"] not in seen
    assert json.loads(seen)[0]["read_up_to"] == {"visitor": None, "operator": asked}
    stored = harness.scalar(
        "SELECT operator_read_up_to FROM conversations WHERE id = :c", c=conversation_id
    )
    assert stored == asked


def test_an_agent_sockets_read_of_an_event_line_marks_the_message_before_it(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live]
) -> None:
    """A transfer's event line (agents only) ends the thread; the agent's socket reads it."""
    token, conversation_id, asked = _visitor_asks(http, site)
    reply = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=owner(site),
        json={"client_id": "r1", "body": "Let me check."},
    ).json()["message"]
    transferred = http.post(
        f"/api/v1/conversations/{conversation_id}/transfer",
        headers=owner(site),
        json={"operator_id": site.operator_ids["agent"]},
    )
    assert transferred.status_code == 200, transferred.text
    thread = http.get(f"/api/v1/conversations/{conversation_id}", headers=owner(site)).json()
    line = thread["messages"][-1]
    assert line["type"] == "event"
    live, _ = agent(server.url, site.tokens["agent"], site.website_id)
    sockets.append(live)
    live.send({"type": "read", "up_to": line["id"], "conversation_id": conversation_id})
    told = live.expect("read")
    assert (told["by"], told["up_to"]) == ("operator", reply["id"])
    assert told["up_to"] != asked
    seen = _everything_the_visitor_is_told(http, server, sockets, site, token)
    assert line["id"] not in seen
    assert json.loads(seen)[0]["read_up_to"]["operator"] == reply["id"]


def test_a_read_mark_already_past_a_note_does_not_move_nor_tell_again(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live]
) -> None:
    token, conversation_id, asked = _visitor_asks(http, site)
    path = f"/api/v1/conversations/{conversation_id}"
    assert http.post(f"{path}/read", headers=owner(site), json={"up_to": asked}).is_success
    note = http.post(
        f"{path}/messages", headers=owner(site), json={"client_id": "n1", "type": "note",
                                                       "body": "noted"},
    ).json()["message"]  # fmt: skip
    watching, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(watching)
    again = http.post(f"{path}/read", headers=owner(site), json={"up_to": note["id"]})
    assert again.json()["conversation"]["read_up_to"]["operator"] == asked
    # A message after it: the visitor's stream shows nothing between (no second `read`).
    reply = http.post(f"{path}/messages", headers=owner(site), json={"client_id": "r1",
                                                                     "body": "Hi"})  # fmt: skip
    created = watching.expect("message.created")
    assert created["message"]["id"] == reply.json()["message"]["id"]
    assert [f for f in watching.seen if f["type"] == "read"] == []


def test_the_visitors_view_of_the_conversation_holds_no_time_a_note_moved(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live], clock: ManualClock
) -> None:
    """A note (or an assignment) moved `last_message_at` and `updated_at`, which the visitor's
    `conversation.updated` carried, live and replayed: when agents wrote about them."""
    token, conversation_id, _ = _visitor_asks(http, site)
    clock.advance(timedelta(minutes=7))
    note = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=owner(site),
        json={"client_id": "n1", "type": "note", "body": "check the refund"},
    ).json()["message"]
    watching, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(watching)
    resolved = http.post(f"/api/v1/conversations/{conversation_id}/resolve", headers=owner(site))
    assert resolved.json()["conversation"]["last_message_at"] == note["created_at"]  # agents'
    live = watching.expect("conversation.updated")["conversation"]
    seen = _everything_the_visitor_is_told(http, server, sockets, site, token)
    assert note["created_at"] not in seen
    assert set(live) == {"id", "state", "unread", "read_up_to"}
    assert live["state"] == "resolved"


# -- a webhook delivery is one job: `causerie jobs` shows its attempts, its failure, its retry ---


def _jobs(harness: Harness, *args: str) -> Ran:
    """`causerie jobs *args` on the harness's database, in this process (tests/support.py
    invoke_cli: the environment a subprocess would get, stdin empty; a process each cost ~1-3 s,
    four a test)."""
    env = {**os.environ, "CAUSERIE_DATA_DIR": str(harness.settings.data_dir),
           "CAUSERIE_DATABASE_URL": harness.settings.database_url}  # fmt: skip
    return invoke_cli("jobs", *args, env=env, cwd=Path.cwd())


def _deliveries(harness: Harness) -> list[dict[str, Any]]:
    listed = _jobs(harness, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [job for job in json.loads(listed.stdout) if job["kind"] == "webhook.deliver"]


def _run_jobs(harness: Harness) -> int:
    return harness.run(do_run_due_jobs(harness.rt, KINDS))


def test_a_failing_webhook_delivery_shows_in_jobs_list_failed_and_jobs_retry_sends_it(
    site: Site, harness: Harness, clock: ManualClock
) -> None:
    """Each attempt was a new job (attempts 0, no error), and a delivery given up after 24 hours
    left no job: `causerie jobs list --state failed` never showed one, nor could `causerie jobs
    retry` send it again, though SPEC.md names webhook deliveries among the jobs they show. The
    node here is the test's runtime: its job passes run when the clock reaches each attempt."""
    receiver = Receiver()
    try:
        receiver.script = [(500, 0.0)] * 100
        webhook, _ = make_webhook(harness, site, receiver.url, ["message.created"])
        visitor_writes(harness, site, "Where is my order?")
        _run_jobs(harness)
        (listed,) = _deliveries(harness)
        assert (listed["state"], listed["attempts"], listed["last_error"]) == (
            "queued", 1, "answered 500",
        )  # fmt: skip

        attempts, job = 1, listed
        while job["state"] == "queued":  # the webhook's 24 hours, each attempt at its time
            assert attempts < 40
            due = datetime.fromisoformat(job["run_at"].replace("Z", "+00:00"))
            clock.advance(max(due - clock.now(), timedelta(0)))
            _run_jobs(harness)
            attempts += 1
            (job,) = [j for j in harness.run(get_jobs(harness.rt)) if j.kind == "webhook.deliver"]
            job = {"id": job.id, "state": job.state.value, "run_at": iso(job.run_at)}
            assert job["id"] == listed["id"]  # one job throughout
        assert len(receiver.requests) == attempts
        failed = _jobs(harness, "list", "--state", "failed", "--json")
        assert failed.returncode == 0, failed.stderr
        (shown,) = [j for j in json.loads(failed.stdout) if j["kind"] == "webhook.deliver"]
        assert (shown["id"], shown["state"]) == (listed["id"], "failed")
        assert (shown["attempts"], shown["last_error"]) == (attempts, "answered 500")
        ids = {headers["webhook-id"] for headers, _ in receiver.requests}
        assert len(ids) == 1

        # A day of failures disabled the webhook: enabled again, the failed job sends it again.
        harness.run(do_update_webhook(harness.rt, CLI, webhook.id, enabled=True))
        receiver.script = []
        clock.advance(timedelta(minutes=1))  # past the real time `jobs retry` sets it due at
        retried = _jobs(harness, "retry", shown["id"])
        assert retried.returncode == 0, retried.stderr
        assert _run_jobs(harness) == 1
        assert len(receiver.requests) == attempts + 1
        assert receiver.requests[-1][0]["webhook-id"] in ids
        assert _deliveries(harness) == []  # delivered: a job that succeeded is gone
        (delivery,) = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
        assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, attempts + 1)
    finally:
        receiver.close()


# -- a refused frame names its frame and field first -----------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the socket's own checks
def test_what_a_frame_may_not_name_or_must_name_is_told_with_its_frame_and_field(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live], harness: Harness
) -> None:
    """A visitor's `"note": true` was told "visitors send only to their own conversation", and
    an agent's frame without its conversation "conversation_id is required": neither named its
    frame (`typing.on: ...` and the other refused fields do, docs/realtime.md)."""
    token, conversation_id, _ = _visitor_asks(http, site)
    live, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(live)
    for extra, field in (
        ({"note": True}, "message.send.note: "),
        ({"session_id": "another"}, "message.send.session_id: "),
        ({"conversation_id": "another"}, "message.send.conversation_id: "),
    ):
        live.send({"type": "message.send", "client_id": "x1", "body": "hi", **extra})
        error = live.expect("error")
        assert (error["code"], error["client_id"]) == ("invalid_frame", "x1"), error
        assert error["message"].startswith(field), error
    operator, _ = agent(server.url, site.tokens["agent"], site.website_id)
    sockets.append(operator)
    for frame, field in (
        ({"type": "message.send", "client_id": "a1", "body": "hi"}, "message.send.conversation_id"),
        ({"type": "typing", "on": True}, "typing.conversation_id"),
        ({"type": "read", "up_to": "m"}, "read.conversation_id"),
    ):
        operator.send(frame)
        error = operator.expect("error")
        assert error["code"] == "invalid_frame", error
        assert error["message"].startswith(f"{field}: Field required"), error
    count = "SELECT count(*) FROM messages WHERE conversation_id = :c"
    assert harness.scalar(count, c=conversation_id) == 1


# -- the shell's deletions, on one node without Redis (docs/cli.md) ----------------------------


def test_a_shell_deletion_without_redis_reaches_a_chatbox_at_its_next_message(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live], harness: Harness
) -> None:
    """`causerie conversation delete` is a process of its own: without Redis it cannot tell the
    server's sockets, which learn it at their next frame that needs the session (docs/cli.md
    says so); the rows are gone at once. One node without Redis, on either database. It ran on
    PostgreSQL only at first: on SQLite, the server thread's store, opening the database file
    beside the harness's, dropped this process's locks on it, and the command's process,
    closing its last connection, deleted the `-wal` and `-shm` files still open here
    (tests/test_private_files.py has the fix's own test)."""
    token, conversation_id, _ = _visitor_asks(http, site)
    live, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(live)
    env = {**os.environ, "CAUSERIE_DATA_DIR": str(harness.settings.data_dir),
           "CAUSERIE_DATABASE_URL": harness.settings.database_url}  # fmt: skip
    deleted = subprocess.run(
        [sys.executable, "-m", "causerie", "conversation", "delete", conversation_id],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    gone = http.get(f"/api/v1/conversations/{conversation_id}", headers=owner(site))
    assert gone.status_code == 404
    live.send({"type": "message.send", "client_id": "after", "body": "still there?"})
    error = live.expect("error")
    assert error["code"] == "invalid_session", error
    with pytest.raises(ConnectionClosed) as closed:
        live.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004
    assert harness.scalar("SELECT count(*) FROM messages") == 0
