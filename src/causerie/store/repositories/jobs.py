"""`SqlJobs`: the domain's `Jobs` repository (domain/repositories/jobs.py) on both databases.

A claim reads the due jobs `FOR UPDATE SKIP LOCKED` and marks them running in the same
transaction: on PostgreSQL, nodes claiming at once each skip the rows another holds, so no job is
taken twice; SQLite has one writer (the process), and SQLAlchemy leaves the clause out there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, or_, select, update

from causerie.domain.jobs import Job, JobState
from causerie.store.db import Prepared, SqlRepository, dialect_insert
from causerie.store.schema.upkeep import jobs


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        state=JobState(row.state),
        key=row.key,
        session_id=row.session_id,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        run_at=row.run_at,
        lease_until=row.lease_until,
        last_error=row.last_error,
        created_at=row.created_at,
    )


@cache
def _enqueue(dialect: str) -> Prepared:
    """A job's insert, built once: a change that queues one (a message's webhook delivery) does
    not flush the writes its transaction holds back (store/pending.py)."""
    insert = dialect_insert(dialect)(jobs).values({c.name: bindparam(c.name) for c in jobs.c})
    return Prepared(insert.on_conflict_do_nothing(index_elements=[jobs.c.key]))


def _claimed(job_id: str, attempts: int) -> Any:
    """The job as this node claimed it: not claimed again by another since."""
    return and_(
        jobs.c.id == job_id, jobs.c.attempts == attempts, jobs.c.state == JobState.RUNNING.value
    )


class SqlJobs(SqlRepository):
    __slots__ = ()

    async def enqueue(self, job: Job) -> str:
        inserted = await self._db.write(
            _enqueue(self._db.dialect),
            {
                "id": job.id,
                "kind": job.kind,
                "state": job.state.value,
                "key": job.key,
                "session_id": job.session_id,
                "payload": job.payload,
                "attempts": job.attempts,
                "run_at": job.run_at,
                "lease_until": job.lease_until,
                "last_error": job.last_error,
                "created_at": job.created_at,
            },
        )
        if inserted or job.key is None:
            return job.id
        pending = await self._db.execute(select(jobs.c.id).where(jobs.c.key == job.key))
        return str(pending.scalar_one())

    async def bring_forward(self, key: str, run_at: datetime) -> bool:
        moved = await self._db.execute(
            update(jobs)
            .where(
                jobs.c.key == key,
                jobs.c.state == JobState.QUEUED.value,
                jobs.c.run_at > run_at,
            )
            .values(run_at=run_at)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        due = await self._db.execute(
            select(jobs)
            .where(
                or_(
                    and_(jobs.c.state == JobState.QUEUED.value, jobs.c.run_at <= now),
                    and_(jobs.c.state == JobState.RUNNING.value, jobs.c.lease_until <= now),
                )
            )
            .order_by(jobs.c.run_at, jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = [
            replace(
                _job(row),
                state=JobState.RUNNING,
                attempts=row.attempts + 1,
                lease_until=lease_until,
            )
            for row in due
        ]
        if claimed:
            await self._db.execute(
                update(jobs)
                .where(jobs.c.id.in_([job.id for job in claimed]))
                .values(
                    state=JobState.RUNNING.value,
                    attempts=jobs.c.attempts + 1,
                    lease_until=lease_until,
                )
            )
        return claimed

    async def extend(self, job_id: str, attempts: int, lease_until: datetime) -> bool:
        extended = await self._db.execute(
            update(jobs).where(_claimed(job_id, attempts)).values(lease_until=lease_until)
        )
        return bool(extended.rowcount)  # type: ignore[attr-defined]

    async def finish(self, job_id: str, attempts: int) -> None:
        await self._db.execute(delete(jobs).where(_claimed(job_id, attempts)))

    async def requeue(
        self, job_id: str, attempts: int, run_at: datetime, *, error: str | None, reset: bool
    ) -> None:
        values: dict[str, Any] = {
            "state": JobState.QUEUED.value,
            "run_at": run_at,
            "lease_until": None,
            "last_error": error,
        }
        if reset:
            values["attempts"] = 0
        await self._db.execute(update(jobs).where(_claimed(job_id, attempts)).values(**values))

    async def fail(self, job_id: str, attempts: int, error: str) -> None:
        await self._db.execute(
            update(jobs)
            .where(_claimed(job_id, attempts))
            .values(state=JobState.FAILED.value, key=None, lease_until=None, last_error=error)
        )

    async def get(self, job_id: str) -> Job | None:
        row = (await self._db.execute(select(jobs).where(jobs.c.id == job_id))).first()
        return None if row is None else _job(row)

    async def list(self, state: JobState | None, limit: int) -> list[Job]:
        query = select(jobs).order_by(jobs.c.run_at, jobs.c.id).limit(limit)
        if state is not None:
            query = query.where(jobs.c.state == state.value)
        return [_job(row) for row in await self._db.execute(query)]

    async def of_payload(
        self, kind: str, name: str, value: str, *, session_id: str | None = None
    ) -> Sequence[Job]:
        """The jobs of `kind` whose payload's `name` is `value`, oldest first. Given the person
        they are about (`session_id`, as every job about a person carries it), only that
        person's jobs are read, through the index on `session_id`; else the kind's every job
        (bench/jobs_lookup.py: 100,000 jobs are read in ~0.1-0.2 s)."""
        where = [jobs.c.kind == kind, jobs.c.payload[name].as_string() == value]
        if session_id is not None:
            where.append(jobs.c.session_id == session_id)
        query = select(jobs).where(*where).order_by(jobs.c.created_at, jobs.c.id)
        return [_job(row) for row in await self._db.execute(query)]

    async def run_now(
        self, job_id: str, now: datetime, payload: dict[str, Any] | None = None
    ) -> bool:
        values: dict[str, Any] = {
            "state": JobState.QUEUED.value,
            "run_at": now,
            "attempts": 0,
            "lease_until": None,
        }
        if payload is not None:
            values["payload"] = payload
        queued = await self._db.execute(
            update(jobs)
            .where(
                jobs.c.id == job_id,
                # A running job whose lease ran out lost its node: any node may claim it.
                or_(jobs.c.state != JobState.RUNNING.value, jobs.c.lease_until <= now),
            )
            .values(**values)
        )
        return bool(queued.rowcount)  # type: ignore[attr-defined]
