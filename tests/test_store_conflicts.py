"""A unique key taken by another writer between a check and a write is a `Conflict` (409), not a
failure (500): nothing is changed and the store keeps working (docs/api.md, "Errors")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from causerie.domain.errors import Conflict
from causerie.domain.jobs import Job
from tests.conftest import Harness, Site


def test_a_unique_clash_is_a_conflict_that_changes_nothing(harness: Harness, site: Site) -> None:
    store = harness.rt.store

    async def insert_again() -> None:
        async with store.transaction() as tx:
            website = await tx.websites.get(site.website_id)
            assert website is not None
            await tx.websites.update(replace(website, name="Renamed"))
            await tx.websites.insert(website)  # its id is taken: the clash

    with pytest.raises(Conflict) as raised:
        harness.run(insert_again())
    assert raised.value.code == "conflict"
    # The whole transaction was undone, and the next one works.
    assert harness.scalar("SELECT name FROM websites WHERE id = :id", id=site.website_id) == "Shop"
    harness.execute("UPDATE websites SET name = 'Shop 2' WHERE id = :id", id=site.website_id)
    assert (
        harness.scalar("SELECT name FROM websites WHERE id = :id", id=site.website_id) == "Shop 2"
    )


def test_other_integrity_errors_stay_failures(harness: Harness, site: Site) -> None:
    """A NOT NULL or foreign-key error is a bug, not a race: it is not disguised as a conflict."""
    with pytest.raises(Exception) as raised:
        harness.execute("INSERT INTO labels (id) VALUES ('x')")
    assert not isinstance(raised.value, Conflict)


def test_a_clash_in_a_statement_sent_to_the_driver_itself_is_a_conflict_too(
    harness: Harness, site: Site
) -> None:
    """A prepared write goes to the driver without SQLAlchemy on both databases (store/db.py,
    store/postgres.py): its errors are read as SQLAlchemy's are. A job's id taken twice in one
    transaction (its first statement begun through SQLAlchemy, the second through the driver)."""
    store = harness.rt.store
    now = harness.rt.clock.now()
    job = Job(id="job_twice", kind="test.kind", run_at=now, created_at=now)

    async def enqueue_twice() -> None:
        async with store.transaction() as tx:
            await tx.websites.get(site.website_id)
            await tx.jobs.enqueue(job)
            await tx.jobs.enqueue(job)

    with pytest.raises(Conflict):
        harness.run(enqueue_twice())
    assert harness.scalar("SELECT count(*) FROM jobs WHERE id = 'job_twice'") == 0

    async def refused_in_a_part() -> None:
        async with store.transaction() as tx:
            await tx.websites.get(site.website_id)
            await tx.jobs.enqueue(job)
            with pytest.raises(Conflict):
                async with tx.savepoint():
                    await tx.jobs.enqueue(job)
            await tx.jobs.enqueue(replace(job, id="job_after"))

    harness.run(refused_in_a_part())
    assert harness.scalar("SELECT count(*) FROM jobs WHERE id IN ('job_twice', 'job_after')") == 2
