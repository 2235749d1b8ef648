"""Several real nodes (`causerie serve` subprocesses) on one PostgreSQL database and one Redis:
the "Several nodes" and "Exactly once, in order" promises of docs/realtime.md, with nodes killed
(SIGKILL) and Redis restarted under live traffic.

Skipped when PostgreSQL or Redis is unreachable, except under CI (`CI` set), where they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import ORIGIN
from tests.live import PATIENCE, STORED, Live, agent, visitor
from tests.nodes_support import Cluster, Deployment, open_visitor_session
from tests.nodes_support import deployment as make_deployment
from tests.redis_support import private_redis, shared_redis_url

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    redis_url = shared_redis_url()
    yield from make_deployment(tmp_path_factory.mktemp("nodes"), redis_url)


@pytest.fixture
def cluster(deployment: Deployment) -> Iterator[Cluster]:
    started = Cluster(deployment)
    try:
        yield started
    finally:
        started.close()


# -- helpers ------------------------------------------------------------------------------------


def send(live: Live, body: str, client_id: str, timeout: float = PATIENCE, **extra: Any) -> Any:
    """Send a message and return the message of its ack."""
    live.send({"type": "message.send", "client_id": client_id, "body": body, **extra})
    return live.expect("message.ack", timeout=timeout, client_id=client_id)["message"]


def created_ids(frames: list[dict[str, Any]]) -> list[str]:
    return [f["message"]["id"] for f in frames if f.get("type") == "message.created"]


def stored_seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [f["seq"] for f in frames if f.get("type") in STORED]


def wait_for_messages(live: Live, ids: set[str], timeout: float = PATIENCE) -> None:
    """Read until `live` has seen message.created for every id in `ids`."""
    live.until(
        lambda _: ids <= set(created_ids(live.seen)),
        f"message.created of {len(ids)} messages",
        timeout,
    )


def settle(live: Live, stream_position: int) -> None:
    """Read until `live` has the stored frame at `stream_position` (so every one before it), then
    up to a ping's pong: a frame sent twice and queued by then is in `live.seen` too."""
    live.until_seq(stream_position)
    live.barrier()


def poll(done: Callable[[], bool], timeout: float = PATIENCE) -> bool:
    """Whether `done()` came to hold within `timeout` (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def contiguous(seqs: list[int], first: int, last: int) -> None:
    """`seqs` is exactly first..last: no gap, no duplicate, in order."""
    dupes = [s for s, n in Counter(seqs).items() if n > 1]
    assert not dupes, f"duplicate seqs {dupes[:10]}"
    expected = list(range(first, last + 1))
    missing = sorted(set(expected) - set(seqs))
    assert seqs == expected, f"expected seqs {first}..{last}; missing {missing[:10]}, got {seqs}"


def session_messages(deployment: Deployment, session_id: str) -> dict[str, tuple[str, int]]:
    """client_id -> (message id, how many messages carry it) for one session's conversation."""
    rows = deployment.query(
        "SELECT m.client_id, min(m.id), count(*) FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE c.session_id = ? "
        "GROUP BY m.client_id",
        session_id,
    )
    return {client_id: (message_id, count) for client_id, message_id, count in rows}


def website_message_ids(deployment: Deployment, website_id: str) -> set[str]:
    rows = deployment.query(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.website_id = ?",
        website_id,
    )
    return {row[0] for row in rows}


# -- 1. chat across nodes -----------------------------------------------------------------------


def test_cross_node_chat(cluster: Cluster, deployment: Deployment) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    token, session_id = open_visitor_session(a.url, site.website_id)
    desk, desk_ready = agent(b.url, site.api_token, site.website_id)
    cluster.track(desk)
    chat, ready = visitor(a.url, token)
    cluster.track(chat)
    assert ready["seq"] == 0

    order: list[str] = []
    for i in range(3):
        asked = send(chat, f"question {i}", f"v{i}")
        # The ack means stored: the message is in the database when the visitor hears of it.
        assert deployment.scalar("SELECT body FROM messages WHERE id = ?", asked["id"]) == (
            f"question {i}"
        )
        wait_for_messages(desk, {asked["id"]})
        answer = send(desk, f"answer {i}", f"a{i}", conversation_id=asked["conversation_id"])
        wait_for_messages(chat, {answer["id"]})
        order += [asked["id"], answer["id"]]

    for live, first, stream in (
        (chat, ready["seq"] + 1, f"session:{session_id}"),
        (desk, desk_ready["seq"] + 1, f"website:{site.website_id}"),
    ):
        position = deployment.stream_position(stream)
        settle(live, position)
        contiguous(stored_seqs(live.seen), first, position)
        assert created_ids(live.seen) == order, stream


# -- 2. resume on another node ------------------------------------------------------------------


def test_resume_on_another_node(cluster: Cluster, deployment: Deployment) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    token, session_id = open_visitor_session(a.url, site.website_id)
    chat, _ = visitor(a.url, token)
    cluster.track(chat)
    first = send(chat, "first", "v1")
    chat.until_seq(deployment.stream_position(f"session:{session_id}"))
    last = max(stored_seqs(chat.seen))
    chat.close()

    desk, _ = agent(b.url, site.api_token, site.website_id)
    cluster.track(desk)
    away = [
        send(desk, f"while away {i}", f"a{i}", conversation_id=first["conversation_id"])["id"]
        for i in range(5)
    ]

    back, ready = visitor(b.url, token, after=last)
    cluster.track(back)
    assert ready["seq"] == deployment.stream_position(f"session:{session_id}")
    replayed = back.stored(back.until_seq(ready["seq"]))
    contiguous([f["seq"] for f in replayed], last + 1, ready["seq"])
    assert created_ids(replayed) == away

    # The live event is also the barrier for the replay: an event sent twice comes before it.
    live = send(desk, "live again", "a-live", conversation_id=first["conversation_id"])
    wait_for_messages(back, {live["id"]})
    settle(back, deployment.stream_position(f"session:{session_id}"))
    after_ready = back.stored(back.seen)
    contiguous(
        [f["seq"] for f in after_ready],
        last + 1,
        deployment.stream_position(f"session:{session_id}"),
    )
    assert created_ids(after_ready) == [*away, live["id"]]


# -- 3. SIGKILL a node under traffic --------------------------------------------------------------


class Sender(threading.Thread):
    """One visitor sending as fast as its acks come back (up to `window` unacknowledged)."""

    def __init__(self, name: str, live: Live, prefix: str, window: int = 4) -> None:
        super().__init__(name=f"sender-{name}", daemon=True)
        self.live = live
        self.prefix = prefix
        self.window = window
        self.sent: list[str] = []  # client ids, in the order sent
        self.acked: dict[str, str] = {}  # client id -> message id
        self.ended_by: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 15
        in_flight: set[str] = set()
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                while len(in_flight) < self.window:
                    client_id = f"{self.prefix}-{len(self.sent)}"
                    self.sent.append(client_id)
                    in_flight.add(client_id)
                    self.live.send(
                        {"type": "message.send", "client_id": client_id, "body": client_id}
                    )
                frame = self.live.recv(5)
                if frame["type"] == "message.ack":
                    self.acked[frame["client_id"]] = frame["message"]["id"]
                    in_flight.discard(frame["client_id"])
                elif frame["type"] == "error":
                    raise AssertionError(f"error frame {frame}")
        except (ConnectionClosed, OSError) as exc:  # the node went away (TimeoutError included)
            self.ended_by = exc
        except BaseException as exc:  # reported by the test, never raised in the thread
            self.ended_by = exc


class Reader(threading.Thread):
    """Keeps reading a socket (so its server-side queue never fills) until stopped."""

    def __init__(self, live: Live) -> None:
        super().__init__(name="reader", daemon=True)
        self.live = live
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.live.recv(0.2)
            except TimeoutError:
                continue
            except BaseException as exc:
                self.error = exc
                return


def test_sigkill_node_loses_nothing_acked(cluster: Cluster, deployment: Deployment) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    desk, desk_ready = agent(b.url, site.api_token, site.website_id)
    cluster.track(desk)
    reader = Reader(desk)
    reader.start()

    run = uuid.uuid4().hex[:8]
    visitors = []
    for i in range(5):
        token, session_id = open_visitor_session(a.url, site.website_id)
        live, ready = visitor(a.url, token)
        cluster.track(live)
        assert ready["seq"] == 0
        visitors.append((token, session_id, Sender(str(i), live, f"{run}-{i}")))
    for _, _, sender in visitors:
        sender.start()
    time.sleep(0.5)  # traffic flows; a loaded machine may take longer for the first acks:
    poll(lambda: all(s.acked or not s.is_alive() for _, _, s in visitors))
    # A second agent joins on B mid-stream replaying from 0: its replay and the live events
    # committed meanwhile overlap, and it must get each event once all the same.
    late, _ = agent(b.url, site.api_token, site.website_id, after=0)
    cluster.track(late)
    late_reader = Reader(late)
    late_reader.start()
    time.sleep(0.5)
    a.kill()
    for _, _, sender in visitors:
        sender.join(timeout=20)
        assert not sender.is_alive(), "a sender never noticed its node died"
        assert isinstance(sender.ended_by, ConnectionClosed | OSError), repr(sender.ended_by)
        assert sender.acked, "nothing was acked before the kill: the test proves nothing"
    unacked = sum(len(s.sent) - len(s.acked) for _, _, s in visitors)
    print(f"sent {sum(len(s.sent) for _, _, s in visitors)}, unacked at the kill: {unacked}")

    for token, session_id, sender in visitors:
        # Every acked message is stored, with the id its ack gave.
        stored = session_messages(deployment, session_id)
        for client_id, message_id in sender.acked.items():
            assert stored.get(client_id, (None,))[0] == message_id, f"acked {client_id} lost"

        before = stored_seqs(sender.live.seen)
        last = before[-1] if before else 0
        contiguous(before, 1, last)

        back, ready = visitor(b.url, token, after=last)
        cluster.track(back)
        for client_id in sender.sent:
            if client_id not in sender.acked:
                resent = send(back, client_id, client_id)
                assert resent["client_id"] == client_id
        final = send(back, "after the kill", f"{run}-{sender.name}-final")
        stored = session_messages(deployment, session_id)
        expected = {*sender.sent, final["client_id"]}
        assert set(stored) == expected
        duplicated = {cid: n for cid, (_, n) in stored.items() if n != 1}
        assert not duplicated, f"stored more than once: {duplicated}"

        seen_before = set(created_ids(sender.live.seen))
        wait_for_messages(back, {mid for mid, _ in stored.values()} - seen_before)
        position = deployment.stream_position(f"session:{session_id}")
        settle(back, position)
        after = stored_seqs(back.seen)
        contiguous(after, last + 1, position)
        seen = Counter(created_ids(sender.live.seen) + created_ids(back.seen))
        assert set(seen) == {message_id for message_id, _ in stored.values()}
        assert max(seen.values()) == 1, "a message.created came twice"

    # The agents on B, up all along, got every message of the website exactly once.
    all_ids = website_message_ids(deployment, site.website_id)
    position = deployment.stream_position(f"website:{site.website_id}")
    for name, live, read, first in (
        ("agent", desk, reader, desk_ready["seq"] + 1),
        ("late agent", late, late_reader, 1),
    ):
        poll(lambda seen=live.seen: all_ids <= set(created_ids(seen)))  # `missing` says what not
        read.stop.set()
        read.join(timeout=5)
        assert read.error is None, f"{name}: {read.error!r}"
        settle(live, position)
        deliveries = Counter(created_ids(live.seen))
        missing = all_ids - set(deliveries)
        assert not missing, f"{name} missed {len(missing)} messages"
        assert {mid: n for mid, n in deliveries.items() if n != 1} == {}, name
        assert set(deliveries) == all_ids, name
        contiguous(stored_seqs(live.seen), first, position)


# -- 4. Redis restarts mid-chat -----------------------------------------------------------------


def test_redis_restart_mid_chat(cluster: Cluster, deployment: Deployment, tmp_path: Path) -> None:
    site = deployment.new_site()
    redis = private_redis(tmp_path)
    try:
        a, b = cluster.start("a", "b", redis_url=redis.url)
        token, session_id = open_visitor_session(a.url, site.website_id)
        desk, desk_ready = agent(b.url, site.api_token, site.website_id)
        cluster.track(desk)
        chat, ready = visitor(a.url, token)
        cluster.track(chat)

        hello = send(chat, "hello", "v-hello")
        wait_for_messages(desk, {hello["id"]})
        conversation_id = hello["conversation_id"]
        hi = send(desk, "hi", "a-hi", conversation_id=conversation_id)
        wait_for_messages(chat, {hi["id"]})

        redis.stop(signal.SIGKILL)
        # The ack depends on the database only.
        outage = [send(chat, f"while Redis is down {i}", f"v-down-{i}")["id"] for i in range(3)]
        stored = {row[0] for row in deployment.query("SELECT id FROM messages")}
        assert set(outage) <= stored
        time.sleep(0.5)
        redis.start()

        # B catches up from the event log once its subscription is back; A too, for its visitor.
        wait_for_messages(desk, set(outage))
        wait_for_messages(chat, set(outage))

        # And live again, both ways: the barrier for the catch-up (a duplicate comes before).
        again = send(chat, "back to normal?", "v-again")
        wait_for_messages(desk, {again["id"]})
        yes = send(desk, "yes", "a-yes", conversation_id=conversation_id)
        wait_for_messages(chat, {yes["id"]})
        for live, stream in ((chat, f"session:{session_id}"), (desk, f"website:{site.website_id}")):
            settle(live, deployment.stream_position(stream))
    finally:
        redis.stop()

    every = [hello["id"], hi["id"], *outage, again["id"], yes["id"]]
    assert {m for (m,) in deployment.query("SELECT id FROM messages")} >= set(every)
    for live, first, stream in (
        (chat, ready["seq"] + 1, f"session:{session_id}"),
        (desk, desk_ready["seq"] + 1, f"website:{site.website_id}"),
    ):
        assert created_ids(live.seen) == every, stream
        contiguous(stored_seqs(live.seen), first, deployment.stream_position(stream))


# -- 5. background work runs once --------------------------------------------------------------


def test_purge_runs_once_across_nodes(cluster: Cluster, deployment: Deployment) -> None:
    """Two nodes, the purge due every second: it runs about once a second, never on both nodes
    at once. Judged by the runs' own times, up to three of them while both nodes claim the job,
    however slowly a loaded machine starts the nodes (a condition waited on, no fixed sleep)."""

    def runs() -> list[datetime]:
        """This test's runs: the deployment is the module's, and its earlier tests' nodes may
        have purged too."""
        found = [at for (at,) in deployment.query("SELECT at FROM purge_runs ORDER BY at")]
        return [at for at in found if at >= launched]

    launched = datetime.now(UTC)
    nodes = cluster.start("a", "b", CAUSERIE_PURGE_INTERVAL="1s")
    both_up = datetime.now(UTC)
    three = poll(lambda: sum(at >= both_up for at in runs()) >= 3, timeout=3 * PATIENCE)
    for node in nodes:
        node.kill()
    killed = datetime.now(UTC)

    seen = runs()
    assert three, f"not three purges in {3 * PATIENCE:.0f} s with both nodes up: {seen}"
    assert all(at <= killed for at in seen), f"purge runs after the nodes were killed: {seen}"
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(seen)]
    assert min(gaps) >= 0.5, f"two purges {min(gaps):.3f} s apart: {seen}"
    span = (killed - launched).total_seconds()  # each run is due a second after the last ended
    assert len(seen) <= span + 1, f"{len(seen)} purges in {span:.1f} s: {seen}"


# -- 6. presence across nodes -------------------------------------------------------------------


def presence_of(live: Live, timeout: float = PATIENCE, **match: Any) -> dict[str, Any]:
    """The next `presence` frame matching `match` (keys of the frame, or of its visitor)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        frame = live.expect("presence", timeout=max(left, 0.01))
        visitor_info = frame.get("visitor") or {}
        if all(frame.get(k, visitor_info.get(k)) == v for k, v in match.items()):
            return frame


def test_presence_across_nodes(cluster: Cluster, deployment: Deployment) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    first_token, first_session = open_visitor_session(a.url, site.website_id)
    chat, ready = visitor(a.url, first_token)
    cluster.track(chat)
    assert ready["availability"] == {"online": False}

    # An agent connecting on B: the visitor on A hears the website is online...
    desk, desk_ready = agent(b.url, site.api_token, site.website_id)
    cluster.track(desk)
    assert presence_of(chat, online=True)["online"] is True
    # ...and the agent sees the visitor connected on A.
    online = [v["session_id"] for v in desk_ready["visitors_online"]]
    assert online == [first_session]

    # A visitor arriving on A after the agent: online at once, and announced to the agent on B.
    second_token, second_session = open_visitor_session(a.url, site.website_id)
    other, other_ready = visitor(a.url, second_token)
    cluster.track(other)
    assert other_ready["availability"] == {"online": True}
    arrived = presence_of(desk, session_id=second_session, online=True)
    assert arrived["visitor"]["page_url"] == "https://shop.example/shoes"

    # Leaving is shared too: the visitor's departure reaches B, the agent's reaches A.
    other.close()
    presence_of(desk, session_id=second_session, online=False)
    desk.close()
    presence_of(chat, online=False)


# -- 7. commands run from the shell reach live inboxes ------------------------------------------


def _chatting_visitor(
    cluster: Cluster, node_url: str, website_id: str, email: str | None = None
) -> str:
    """A visitor who sent a message on `node_url` (and gave `email`); their conversation's id."""
    token, _ = open_visitor_session(node_url, website_id)
    if email is not None:
        with httpx.Client(base_url=node_url, timeout=10) as http:
            answered = http.patch(
                "/api/widget/v1/session/profile",
                json={"email": email},
                headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
            )
        assert answered.status_code == 200, answered.text
    chat, _ = visitor(node_url, token)
    cluster.track(chat)
    return str(send(chat, "hello", "v1")["conversation_id"])


def test_cli_conversation_delete_reaches_an_agent_on_another_node(
    cluster: Cluster, deployment: Deployment
) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    conversation_id = _chatting_visitor(cluster, a.url, site.website_id)
    desk, _ = agent(b.url, site.api_token, site.website_id)
    cluster.track(desk)

    deployment.cli("conversation", "delete", conversation_id)

    desk.expect("conversation.deleted", conversation_id=conversation_id)


def test_cli_privacy_erase_reaches_an_agent_on_another_node(
    cluster: Cluster, deployment: Deployment
) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    email = f"ada-{uuid.uuid4().hex[:6]}@example.org"
    conversation_id = _chatting_visitor(cluster, a.url, site.website_id, email)
    desk, _ = agent(b.url, site.api_token, site.website_id)
    cluster.track(desk)

    deployment.cli("privacy", "erase", "--email", email, "--yes")

    desk.expect("conversation.deleted", conversation_id=conversation_id)


# -- 8. background jobs across nodes ------------------------------------------------------------


def _queue_purge_jobs(deployment: Deployment, count: int) -> list[str]:
    """`count` purge jobs due now, written straight into the queue; their ids."""
    ids = [secrets.token_hex(12) for _ in range(count)]
    for job_id in ids:
        deployment.query(
            "INSERT INTO jobs (id, kind, state, payload, attempts, run_at, created_at) "
            "VALUES (?, 'purge', 'queued', '{}', 0, now(), now())",
            job_id,
        )
    return ids


def _settled(deployment: Deployment, ids: list[str]) -> bool:
    """Every job of `ids` ran to success (a purge is periodic: queued again, attempts afresh)."""
    rows = deployment.query(
        "SELECT count(*) FROM jobs WHERE id = ANY(?::text[]) AND state = 'queued' "
        "AND attempts = 0 AND run_at > now() + interval '30 minutes'",
        ids,
    )
    return bool(rows[0][0] == len(ids))


def _purges_since(deployment: Deployment, since: datetime) -> int:
    return int(deployment.scalar("SELECT count(*) FROM purge_runs WHERE at >= ?", since))


def test_two_nodes_never_run_one_job_at_once(cluster: Cluster, deployment: Deployment) -> None:
    deployment.query("DELETE FROM jobs")
    launched = datetime.now(UTC)
    cluster.start("a", "b", CAUSERIE_PURGE_INTERVAL="1h")
    ids = _queue_purge_jobs(deployment, 40)

    assert poll(lambda: _settled(deployment, ids), timeout=60), deployment.query(
        "SELECT id, state, attempts, last_error FROM jobs"
    )
    # Each job ran exactly once: one purge run recorded per job, none twice.
    assert _purges_since(deployment, launched) == len(ids)


def test_a_job_whose_node_is_killed_mid_run_runs_again(
    cluster: Cluster, deployment: Deployment
) -> None:
    deployment.query("DELETE FROM jobs")
    launched = datetime.now(UTC)
    (job_id,) = _queue_purge_jobs(deployment, 1)
    lease = {"CAUSERIE_PURGE_INTERVAL": "1h", "CAUSERIE_JOB_LEASE": "2s"}
    # The purge records its run last: holding the table keeps node a's run going, mid-job.
    loop = asyncio.new_event_loop()
    holder = loop.run_until_complete(asyncpg.connect(deployment.database_url, timeout=5))
    try:
        loop.run_until_complete(holder.execute("BEGIN; LOCK TABLE purge_runs IN EXCLUSIVE MODE"))
        (a,) = cluster.start("a", **lease)
        running = "SELECT state, attempts FROM jobs WHERE id = ?"
        assert poll(lambda: deployment.query(running, job_id) == [("running", 1)])
        a.kill()
        loop.run_until_complete(holder.execute("ROLLBACK"))
    finally:
        loop.run_until_complete(holder.close())
        loop.close()
    assert _purges_since(deployment, launched) == 0

    cluster.start("b", **lease)
    assert poll(lambda: _settled(deployment, [job_id]), timeout=30), deployment.query(
        "SELECT state, attempts, last_error FROM jobs"
    )
    assert _purges_since(deployment, launched) == 1
