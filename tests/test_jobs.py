"""Background work (docs/architecture.md, "Background work"), in process on SQLite and PostgreSQL
with the injected clock: idempotency, backoff, the lease, periodic work, retry, and jobs about a
person erased with them (P9). Across processes (SIGKILL, two nodes): tests/test_nodes.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import (
    Work,
    do_enqueue,
    do_retry_job,
    do_run_due_jobs,
    do_schedule_periodic,
    get_jobs,
)
from causerie.actions.privacy import do_erase_subject
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.errors import Conflict, NotFound
from causerie.domain.jobs import (
    MAX_ATTEMPTS,
    SEARCH_REINDEX_DELAY,
    Job,
    JobKind,
    JobState,
    backoff,
)
from causerie.domain.models import Actor, PageView
from causerie.runtime import Runtime
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, Site
from tests.support import open_sessions


class Recorder:
    """A kind of job for these tests: records each run, raising while `failures` remain."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.runs: list[Job] = []

    async def __call__(self, rt: Runtime, job: Job) -> None:
        self.runs.append(job)
        if self.failures:
            self.failures -= 1
            raise RuntimeError(f"attempt {job.attempts} broke")


def enqueue(harness: Harness, kind: str = "record", **options: Any) -> str:
    async def run() -> str:
        async with harness.rt.store.transaction() as tx:
            return await do_enqueue(harness.rt, tx, kind, **options)

    result: str = harness.run(run())
    return result


def jobs(harness: Harness, state: JobState | None = None) -> list[Job]:
    return harness.run(get_jobs(harness.rt, state))


def purge_jobs(harness: Harness) -> list[Job]:
    """The purge's jobs (the other periodic kinds, such as `files.sweep`, have their own)."""
    return [job for job in jobs(harness) if job.kind == JobKind.PURGE]


def run_due(harness: Harness, kinds: dict[str, Work]) -> int:
    return harness.run(do_run_due_jobs(harness.rt, kinds))


def test_a_job_runs_once_then_is_gone(harness: Harness) -> None:
    record = Recorder()
    job_id = enqueue(harness, payload={"conversation_id": "c1"})

    assert run_due(harness, {"record": Work(record)}) == 1
    assert [(j.id, j.payload, j.attempts) for j in record.runs] == [
        (job_id, {"conversation_id": "c1"}, 1)
    ]
    assert jobs(harness) == []
    assert run_due(harness, {"record": Work(record)}) == 0


def test_a_job_waits_for_its_time(harness: Harness, clock: ManualClock) -> None:
    record = Recorder()
    enqueue(harness, delay=timedelta(minutes=5))
    clock.advance(timedelta(minutes=4, seconds=59))
    assert run_due(harness, {"record": Work(record)}) == 0
    clock.advance(timedelta(seconds=1))
    assert run_due(harness, {"record": Work(record)}) == 1


def test_a_second_enqueue_with_the_same_key_is_one_job(harness: Harness) -> None:
    first = enqueue(harness, key="webhook:d1")
    assert enqueue(harness, key="webhook:d1") == first
    other = enqueue(harness, key="webhook:d2")
    assert other != first
    assert sorted(j.id for j in jobs(harness)) == sorted([first, other])

    # Once done, the key is free: the same work may be asked for again.
    record = Recorder()
    assert run_due(harness, {"record": Work(record)}) == 2
    assert enqueue(harness, key="webhook:d1") not in (first, other)


def test_a_failing_job_backs_off_exponentially_on_the_clock_then_fails(
    harness: Harness, clock: ManualClock
) -> None:
    record = Recorder(failures=MAX_ATTEMPTS)
    kinds = {"record": Work(record)}
    job_id = enqueue(harness, key="k")

    for attempt in range(1, MAX_ATTEMPTS):
        assert run_due(harness, kinds) == 1
        (job,) = jobs(harness)
        wait = backoff(attempt)
        assert (job.state, job.attempts) == (JobState.QUEUED, attempt)
        assert job.run_at == clock.now() + wait
        assert job.last_error == f"RuntimeError: attempt {attempt} broke"
        clock.advance(wait - timedelta(seconds=1))
        assert run_due(harness, kinds) == 0, f"ran before its backoff after attempt {attempt}"
        clock.advance(timedelta(seconds=1))
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30) == timedelta(hours=1)

    assert run_due(harness, kinds) == 1
    (job,) = jobs(harness, JobState.FAILED)
    assert (job.id, job.attempts, job.key) == (job_id, MAX_ATTEMPTS, None)
    clock.advance(timedelta(days=30))
    assert run_due(harness, kinds) == 0
    assert len(record.runs) == MAX_ATTEMPTS
    # Its key is free again while the failed job stays on record.
    assert enqueue(harness, key="k") != job_id


def test_retry_runs_a_failed_job_now_with_fresh_attempts(
    harness: Harness, clock: ManualClock
) -> None:
    record = Recorder(failures=MAX_ATTEMPTS)
    kinds = {"record": Work(record)}
    job_id = enqueue(harness)
    for _ in range(MAX_ATTEMPTS):
        run_due(harness, kinds)
        clock.advance(timedelta(hours=1))
    assert [j.state for j in jobs(harness)] == [JobState.FAILED]

    retried = harness.run(do_retry_job(harness.rt, job_id))
    assert (retried.state, retried.attempts, retried.run_at) == (JobState.QUEUED, 0, clock.now())
    assert run_due(harness, kinds) == 1
    assert record.runs[-1].attempts == 1
    assert jobs(harness) == []


def test_jobs_are_found_by_a_payload_field_and_run_now_with_a_new_payload(
    harness: Harness, clock: ManualClock
) -> None:
    """The repository's `of_payload` (a webhook delivery's job, by its delivery) and
    `run_now` with a payload (the redelivery's retry window), on both databases."""
    wanted = enqueue(harness, payload={"delivery_id": "msg_a", "n": 1}, delay=timedelta(hours=1))
    enqueue(harness, payload={"delivery_id": "msg_b"})
    enqueue(harness, "other", payload={"delivery_id": "msg_a"})

    async def find_and_run() -> tuple[list[str], bool]:
        async with harness.rt.store.transaction() as tx:
            found = [j.id for j in await tx.jobs.of_payload("record", "delivery_id", "msg_a")]
            ran = await tx.jobs.run_now(wanted, clock.now(), {"delivery_id": "msg_a", "n": 2})
            return found, ran

    assert harness.run(find_and_run()) == ([wanted], True)
    (job,) = [j for j in jobs(harness) if j.id == wanted]
    assert (job.payload, job.run_at, job.state) == (
        {"delivery_id": "msg_a", "n": 2}, clock.now(), JobState.QUEUED,
    )  # fmt: skip


def test_jobs_found_by_payload_and_person_are_that_persons_only(
    harness: Harness, site: Site
) -> None:
    """Given the session a job is about, `of_payload` reads that person's jobs (the index on
    `session_id`), not every job of the kind: a redelivery no longer reads the whole table.
    A same payload about someone else, or no one, is not theirs."""
    ada, bob = open_sessions(harness, site.website_id, 2)
    first = enqueue(harness, payload={"delivery_id": "d1"}, session_id=ada)
    again = enqueue(harness, payload={"delivery_id": "d1"}, session_id=ada)
    enqueue(harness, payload={"delivery_id": "d1"}, session_id=bob)
    nobodys = enqueue(harness, payload={"delivery_id": "d1"})

    async def found(session_id: str | None) -> list[str]:
        async with harness.rt.store.read() as tx:
            kept = await tx.jobs.of_payload("record", "delivery_id", "d1", session_id=session_id)
            return [job.id for job in kept]

    assert sorted(harness.run(found(ada))) == sorted([first, again])  # created at one instant
    assert len(harness.run(found(bob))) == 1
    assert nobodys in harness.run(found(None)) and len(harness.run(found(None))) == 4


def test_retry_refuses_an_unknown_or_running_job(harness: Harness, clock: ManualClock) -> None:
    with pytest.raises(NotFound, match="no job 'nope'"):
        harness.run(do_retry_job(harness.rt, "nope"))
    job_id = enqueue(harness)
    claim(harness, clock)
    with pytest.raises(Conflict):
        harness.run(do_retry_job(harness.rt, job_id))


def test_retry_takes_a_running_job_whose_lease_ran_out(
    harness: Harness, clock: ManualClock
) -> None:
    """Its node died: nobody runs it, and `jobs retry` queues it as a failed one (audit5)."""
    job_id = enqueue(harness)
    claim(harness, clock)
    clock.advance(harness.rt.settings.job_lease - timedelta(seconds=1))
    with pytest.raises(Conflict):
        harness.run(do_retry_job(harness.rt, job_id))
    clock.advance(timedelta(seconds=1))
    retried = harness.run(do_retry_job(harness.rt, job_id))
    assert (retried.state, retried.attempts, retried.run_at) == (JobState.QUEUED, 0, clock.now())
    (job,) = jobs(harness)
    assert (job.id, job.state, job.attempts) == (job_id, JobState.QUEUED, 0)


def claim(harness: Harness, clock: ManualClock) -> list[Job]:
    """Claim due jobs as a node would, and never finish them: a node that died mid-run."""
    rt = harness.rt

    async def run() -> list[Job]:
        async with rt.store.transaction() as tx:
            return await tx.jobs.claim(clock.now(), clock.now() + rt.settings.job_lease, 10)

    return harness.run(run())


def test_a_job_whose_node_died_runs_again_once_its_lease_expires(
    harness: Harness, clock: ManualClock
) -> None:
    record = Recorder()
    kinds = {"record": Work(record)}
    job_id = enqueue(harness)
    (dead,) = claim(harness, clock)
    assert (dead.id, dead.state, dead.attempts) == (job_id, JobState.RUNNING, 1)
    assert claim(harness, clock) == [], "a claimed job was claimed twice"

    clock.advance(harness.rt.settings.job_lease - timedelta(seconds=1))
    assert run_due(harness, kinds) == 0
    clock.advance(timedelta(seconds=1))
    assert run_due(harness, kinds) == 1
    assert [(j.id, j.attempts) for j in record.runs] == [(job_id, 2)]

    # The first node, back from the dead, finishing its attempt changes nothing.
    async def late_finish() -> None:
        async with harness.rt.store.transaction() as tx:
            await tx.jobs.finish(dead.id, dead.attempts)

    enqueue(harness, key="other")
    harness.run(late_finish())
    assert len(jobs(harness)) == 1


def test_the_purge_is_one_periodic_job_that_reschedules_itself(
    harness: Harness, clock: ManualClock
) -> None:
    interval = harness.rt.settings.purge_interval
    purge = {JobKind.PURGE: KINDS[JobKind.PURGE]}  # the other periodic kinds aside
    harness.run(do_schedule_periodic(harness.rt, purge))
    harness.run(do_schedule_periodic(harness.rt, purge))  # a second node starting
    (job,) = purge_jobs(harness)
    assert (job.kind, job.key, job.run_at) == (JobKind.PURGE, "purge", clock.now() + interval)

    clock.advance(interval)
    assert run_due(harness, purge) == 1
    assert harness.scalar("SELECT count(*) FROM purge_runs") == 1
    (job,) = purge_jobs(harness)
    assert (job.state, job.attempts, job.run_at) == (
        JobState.QUEUED,
        0,
        clock.now() + interval,
    )


def test_a_shorter_interval_brings_a_pending_periodic_run_forward_at_start(
    harness: Harness, clock: ManualClock, make_settings: Callable[..., Settings]
) -> None:
    harness.run(do_schedule_periodic(harness.rt, KINDS))  # under the harness's long interval
    shorter = replace(harness.rt, settings=make_settings(purge_interval="1s"))
    harness.run(do_schedule_periodic(shorter, KINDS))  # a node restarted with a 1 s interval
    (job,) = purge_jobs(harness)
    assert job.run_at == clock.now() + timedelta(seconds=1)
    harness.run(do_schedule_periodic(harness.rt, KINDS))  # a longer one never pushes it back
    (job,) = purge_jobs(harness)
    assert job.run_at == clock.now() + timedelta(seconds=1)


def test_a_periodic_job_that_gives_up_is_kept_and_scheduled_again(
    harness: Harness, clock: ManualClock
) -> None:
    record = Recorder(failures=MAX_ATTEMPTS)
    every = timedelta(hours=2)
    kinds = {"record": Work(record, every=lambda _: every)}
    enqueue(harness, key="record")
    for _ in range(MAX_ATTEMPTS):
        assert run_due(harness, kinds) == 1
        clock.advance(timedelta(hours=1))
    clock.advance(-timedelta(hours=1))
    (failed,) = jobs(harness, JobState.FAILED)
    (next_run,) = jobs(harness, JobState.QUEUED)
    assert (next_run.key, next_run.run_at, next_run.attempts) == (
        "record",
        clock.now() + every,
        0,
    )
    assert failed.last_error == f"RuntimeError: attempt {MAX_ATTEMPTS} broke"


def test_an_unknown_kind_fails_like_any_error(harness: Harness) -> None:
    enqueue(harness, kind="gone.in.this.version")
    assert run_due(harness, {}) == 1
    (job,) = jobs(harness)
    assert job.last_error == "LookupError: no such kind of job: 'gone.in.this.version'"


def test_erasure_enqueues_the_search_index_rebuild_in_its_transaction(
    harness: Harness, site: Site, clock: ManualClock
) -> None:
    visitor_with_email(harness, site, "ada@example.org")
    visitor_with_email(harness, site, "bob@example.org")
    harness.run(do_erase_subject(harness.rt, Actor.cli(), email="ada@example.org"))
    harness.run(do_erase_subject(harness.rt, Actor.cli(), email="bob@example.org"))
    (job,) = jobs(harness)  # a burst of erasures is one rebuild
    assert (job.kind, job.run_at) == (JobKind.SEARCH_REINDEX, clock.now() + SEARCH_REINDEX_DELAY)
    clock.advance(SEARCH_REINDEX_DELAY)
    assert run_due(harness, KINDS) == 1
    assert jobs(harness) == []


def visitor_with_email(harness: Harness, site: Site, email: str) -> str:
    """A visitor session that gave `email`; its id."""
    rt = harness.rt

    async def run() -> str:
        opened = await do_open_session(
            rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7",
            origin=ORIGIN,
        )
        await do_update_visitor_profile(rt, token=opened.token, origin=ORIGIN, email=email)
        return opened.session.id

    result: str = harness.run(run())
    return result


def test_p9_jobs_about_a_person_are_dropped_in_their_erasure(harness: Harness, site: Site) -> None:
    ada = visitor_with_email(harness, site, "ada@example.org")
    bob = visitor_with_email(harness, site, "bob@example.org")
    about_ada = enqueue(harness, kind="mail.visitor", session_id=ada, key=f"mail:{ada}")
    about_bob = enqueue(harness, kind="mail.visitor", session_id=bob)

    harness.run(do_erase_subject(harness.rt, Actor.cli(), email="ada@example.org"))

    left = {j.id: j for j in jobs(harness)}
    assert about_ada not in left and about_bob in left
    assert harness.scalar("SELECT count(*) FROM jobs WHERE session_id = :s", s=ada) == 0
    assert harness.scalar("SELECT count(*) FROM jobs WHERE key = :k", k=f"mail:{ada}") == 0


def test_p15_jobs_about_an_expired_session_go_with_the_purge(
    harness: Harness, site: Site, clock: ManualClock
) -> None:
    temporary = visitor_with_email(harness, site, "ada@example.org")
    enqueue(harness, kind="mail.visitor", session_id=temporary)
    clock.advance(harness.rt.settings.temporary_session_ttl + timedelta(minutes=1))
    harness.run(do_purge(harness.rt))
    assert [j.kind for j in jobs(harness)] == [JobKind.SEARCH_REINDEX]
