"""Jobs, as the domain needs them stored (SQL in store/repositories/jobs.py).

Every method that changes a claimed job names the attempt it claimed (`attempts`): a node whose
lease ran out, and whose job another node claimed again, changes nothing when it finishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from causerie.domain.jobs import Job, JobState


class Jobs(Protocol):
    async def enqueue(self, job: Job) -> str:
        """Store `job`; when a pending (queued or running) job has its `key`, store nothing and
        return that job's id."""
        ...

    async def bring_forward(self, key: str, run_at: datetime) -> bool:
        """The queued job with `key`, if due after `run_at`, is due at `run_at` instead."""
        ...

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        """Take up to `limit` jobs due at `now` (queued with `run_at` past, or running with an
        expired lease: their node died), oldest first, as `running` until `lease_until`, one
        more attempt each. Concurrent claims on other nodes never take the same job."""
        ...

    async def extend(self, job_id: str, attempts: int, lease_until: datetime) -> bool: ...
    async def finish(self, job_id: str, attempts: int) -> None:
        """The job succeeded: it is deleted."""
        ...

    async def requeue(
        self, job_id: str, attempts: int, run_at: datetime, *, error: str | None, reset: bool
    ) -> None:
        """Back to `queued` at `run_at`, keeping `error`; `reset` starts its attempts afresh (a
        periodic job's next run)."""
        ...

    async def fail(self, job_id: str, attempts: int, error: str) -> None:
        """Give up: `failed`, keeping `error`. Its key is freed, so the same work may be
        enqueued again."""
        ...

    async def get(self, job_id: str) -> Job | None: ...
    async def list(self, state: JobState | None, limit: int) -> list[Job]:
        """Jobs by `run_at`, of one state or all."""
        ...

    async def of_payload(
        self, kind: str, name: str, value: str, *, session_id: str | None = None
    ) -> Sequence[Job]:
        """The jobs of `kind` whose payload holds `value` under `name` (a webhook delivery's
        job, by its delivery's id), oldest first; given `session_id`, only those about that
        person (read through its index). The payload is not indexed: without a session, every
        job of the kind is read (a redelivery of a delivery about no one)."""
        ...

    async def run_now(
        self, job_id: str, now: datetime, payload: dict[str, Any] | None = None
    ) -> bool:
        """A queued or failed job queued to run at `now`, its attempts reset (and its payload
        replaced when given); False when the job is running."""
        ...
