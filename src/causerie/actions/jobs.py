"""Background work (docs/architecture.md, "Background work").

A job is written by `do_enqueue` in the transaction of the change that causes it, so it exists
exactly when the change does. Every node runs `do_run_due_jobs` from time to time: it claims one
due job at a time (the claim is a short transaction of its own), keeps the claim alive while the
job runs, and records the outcome. A job that raises runs again after an exponential backoff on
the runtime's clock, and is `failed` after `MAX_ATTEMPTS` (work with a schedule of its own raises
`RetryAt`, which says when, or that it gives up); one whose node died mid-run is claimed
again once its lease expires. A job therefore runs at least once: each kind's work is written to
be harmless when repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from causerie.domain.errors import Conflict, NotFound, shown
from causerie.domain.jobs import (
    SEARCH_REINDEX_DELAY,
    Job,
    JobKind,
    JobState,
    backoff,
    describe_error,
    gives_up,
)
from causerie.domain.ports import Tx
from causerie.domain.progress import QUIET, Progress, stop_if_requested
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.tokens import new_id

log = logging.getLogger("causerie.jobs")

Handler = Callable[[Runtime, Job], Awaitable[None]]
LIST_LIMIT = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JOBS_PER_PASS = 100  # a pass yields after this many jobs, so a backlog cannot hold it forever


class RetryAt(Exception):
    """Raised by a job's work that keeps a retry schedule of its own (a webhook delivery's 24
    hours): the attempt failed with `error`; run the job again at `at`, or, with None, mark it
    `failed` now. The job keeps its id, its attempts and this error, as `causerie jobs list`
    shows them."""

    def __init__(self, error: str, at: datetime | None) -> None:
        super().__init__(error)
        self.error = error
        self.at = at


@dataclass(frozen=True)
class Work:
    """What a kind of job does; `every`, for periodic work, the interval to its next run;
    `aligned`, runs at whole multiples of it since 1970 (on the hour for an hour), whenever the
    last one ran; `after_start`, also runs this soon after a node starts (then on its interval
    again): work that the time the server was down left undone, which would else wait for the
    next interval."""

    run: Handler
    every: Callable[[Settings], timedelta] | None = None
    aligned: bool = False
    after_start: timedelta | None = None

    def next_run(self, settings: Settings, now: datetime) -> datetime:
        assert self.every is not None, "only periodic work runs again"
        every = self.every(settings)
        if not self.aligned:
            return now + every
        since = now - EPOCH
        return now - since % every + every


async def do_enqueue(
    rt: Runtime,
    tx: Tx,
    kind: str,
    *,
    delay: timedelta = timedelta(0),
    key: str | None = None,
    session_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Add a job in the caller's transaction, due `delay` from now; the id of the job, or of
    the pending one with the same `key`. A job with a `session_id` goes with that session
    (erasure, deletion, purge: P9, P15, P20)."""
    now = rt.clock.now()
    job = Job(
        id=new_id(),
        kind=kind,
        run_at=now + delay,
        created_at=now,
        key=key,
        session_id=session_id,
        payload=payload or {},
    )
    return await tx.jobs.enqueue(job)


async def do_enqueue_search_reindex(rt: Runtime, tx: Tx) -> None:
    """Rows with text were deleted in `tx`: rebuild the search indexes once deletions settle
    (one pending job, whatever the number of deletions)."""
    await do_enqueue(
        rt, tx, JobKind.SEARCH_REINDEX, delay=SEARCH_REINDEX_DELAY, key=JobKind.SEARCH_REINDEX
    )


async def do_schedule_periodic(rt: Runtime, kinds: Mapping[str, Work]) -> None:
    """Make sure each periodic kind has its pending job, due one interval from now (`after_start`
    from now for a kind that has it) unless one is pending already (one across nodes, kept
    across restarts: keyed by its kind). A pending run due later than that, scheduled under a
    longer interval before a restart, is brought forward: a shorter interval takes effect when
    the node starts, and the catch-up after a start is claimed by one node as any run is."""
    async with rt.store.transaction() as tx:
        for kind, work in kinds.items():
            if work.every is not None:
                now = rt.clock.now()
                at = work.next_run(rt.settings, now)
                if work.after_start is not None:
                    at = min(at, now + work.after_start)
                await do_enqueue(rt, tx, kind, delay=at - now, key=kind)
                await tx.jobs.bring_forward(kind, at)


async def do_run_due_jobs(
    rt: Runtime, kinds: Mapping[str, Work], progress: Progress = QUIET
) -> int:
    """Run the jobs due now, one claim at a time; how many ran (successfully or not).
    `Stopped` when `progress` asked to stop between two jobs (`causerie jobs run`)."""
    ran = 0
    progress.begin("jobs", None)
    while ran < JOBS_PER_PASS:
        stop_if_requested(progress, {"jobs": ran})
        now = rt.clock.now()
        async with rt.store.transaction() as tx:
            claimed = await tx.jobs.claim(now, now + rt.settings.job_lease, 1)
        if not claimed:
            break
        await _run(rt, claimed[0], kinds)
        ran += 1
        progress.advance("jobs", 1)
    return ran


async def _run(rt: Runtime, job: Job, kinds: Mapping[str, Work]) -> None:
    work = kinds.get(job.kind)
    try:
        if work is None:
            raise LookupError(f"no such kind of job: {job.kind!r}")
        async with _lease_kept(rt, job):
            await work.run(rt, job)
    except asyncio.CancelledError:
        # The node is stopping: hand the job back at once rather than when its lease expires.
        with contextlib.suppress(Exception):
            async with rt.store.transaction() as tx:
                await tx.jobs.requeue(
                    job.id, job.attempts, rt.clock.now(), error=job.last_error, reset=False
                )
        raise
    except Exception as exc:
        await _failed(rt, job, work, exc)
        return
    now = rt.clock.now()
    async with rt.store.transaction() as tx:
        if work.every is None:
            await tx.jobs.finish(job.id, job.attempts)
        else:
            await tx.jobs.requeue(
                job.id, job.attempts, work.next_run(rt.settings, now), error=None, reset=True
            )


async def _failed(rt: Runtime, job: Job, work: Work | None, exc: Exception) -> None:
    now = rt.clock.now()
    if isinstance(exc, RetryAt):  # the work keeps its own schedule
        error, retry_at = exc.error, exc.at
    else:
        error = describe_error(exc)
        retry_at = None if gives_up(job.attempts) else now + backoff(job.attempts)
    async with rt.store.transaction() as tx:
        if retry_at is not None:
            await tx.jobs.requeue(job.id, job.attempts, retry_at, error=error, reset=False)
            if not isinstance(exc, RetryAt):  # work with a schedule of its own logs its attempts
                log.warning(
                    "job %s (%s) failed, retried at %s: %s", job.id, job.kind, retry_at, error
                )
            return
        await tx.jobs.fail(job.id, job.attempts, error)
        if work is not None and work.every is not None:
            # Periodic work goes on: the failed run stays for an operator to see.
            await do_enqueue(rt, tx, job.kind, delay=work.every(rt.settings), key=job.kind)
    log.error("job %s (%s) failed %d times, given up: %s", job.id, job.kind, job.attempts, error)


@contextlib.asynccontextmanager
async def _lease_kept(rt: Runtime, job: Job) -> AsyncIterator[None]:
    """Renew the job's lease every third of it while it runs, so that only a node that stopped
    (killed, frozen, cut off from the database) lets its job go to another."""
    lease = rt.settings.job_lease

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                async with rt.store.transaction() as tx:
                    await tx.jobs.extend(job.id, job.attempts, rt.clock.now() + lease)
            except Exception as exc:
                log.warning("job %s: lease not renewed: %s", job.id, exc)

    renewing = asyncio.create_task(renew(), name=f"causerie-lease-{job.id}")
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing


# the `causerie jobs` commands


async def get_jobs(rt: Runtime, state: JobState | None = None) -> list[Job]:
    """Jobs (of one state or all), soonest first."""
    async with rt.store.read() as tx:
        return await tx.jobs.list(state, LIST_LIMIT)


async def do_retry_job(rt: Runtime, job_id: str) -> Job:
    """Queue a queued or failed job to run now, its attempts afresh; a running one too when
    its lease ran out (its node died: nobody runs it)."""
    async with rt.store.transaction() as tx:
        job = await tx.jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {shown(job_id)}", "job_not_found")
        now = rt.clock.now()
        if not await tx.jobs.run_now(job_id, now):
            raise Conflict(f"job {shown(job_id)} is running now", "job_running")
    return replace(job, state=JobState.QUEUED, run_at=now, attempts=0, lease_until=None)
