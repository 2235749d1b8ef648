"""Deleting the bytes of files once their rows are gone (P9, P20, docs/privacy.md "Files").

A file's row goes in the transaction that deletes its conversation, its session or its person
(the message goes, the row's `message_id` becomes NULL, and `do_release_orphan_files` deletes the
row and queues its keys), or that expires it (`retention.files`). Its bytes go after that
transaction commits, through a `files.delete` job written in it: a crash between the commit and
the deletion leaves a job to run, never bytes without a way to find them. The job deletes only
keys no row holds, so it may run any number of times. The bytes of an upload whose message
never committed (the process died between the two) are found by the sweep (`do_sweep_files`),
which compares the store with the database.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta

from causerie.actions.jobs import do_enqueue
from causerie.domain.jobs import Job, JobKind
from causerie.domain.ports import Tx
from causerie.runtime import Runtime

log = logging.getLogger("causerie.files")

BATCH = 1000
# A file put in the store becomes a row when its message commits, a moment later: the sweep
# leaves unknown bytes this long before it deletes them (no upload takes that long).
SWEEP_GRACE = timedelta(hours=1)
# The sweep lists the whole store (one request per 1000 keys on S3): once a day is enough for
# what only a crash leaves.
SWEEP_EVERY = timedelta(days=1)


async def do_forget_keys(rt: Runtime, keys: Collection[str]) -> int:
    """Delete from the store the bytes under `keys` that no row holds; how many were asked."""
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        async with rt.store.read() as tx:
            held = await tx.files.known_keys(batch)
        gone = [key for key in batch if key not in held]
        if gone:
            await rt.files.delete(gone)
    return len(wanted)


async def do_queue_deletion(rt: Runtime, tx: Tx, keys: list[str], *, delay: timedelta) -> None:
    """A `files.delete` job for `keys`, in `tx`: it runs once `tx` committed."""
    for start in range(0, len(keys), BATCH):
        await do_enqueue(
            rt, tx, JobKind.FILES_DELETE, delay=delay, payload={"keys": keys[start : start + BATCH]}
        )


async def do_release_orphan_files(rt: Runtime, tx: Tx) -> int:
    """Delete, in `tx`, the rows of files whose message was deleted in it (or before), and queue
    the deletion of their bytes; how many keys were queued. Every deletion of sessions or
    conversations calls it; the purge calls it too, so no path can leave a row behind."""
    queued = 0
    while keys := await tx.files.take_orphans(BATCH):
        await do_queue_deletion(rt, tx, keys, delay=timedelta(0))
        queued += len(keys)
    return queued


async def run_files_delete(rt: Runtime, job: Job) -> None:
    keys = job.payload.get("keys") or []
    await do_forget_keys(rt, [str(key) for key in keys])


async def do_sweep_files(rt: Runtime) -> int:
    """Queue, for deletion after `SWEEP_GRACE`, the stored files no row holds (left by a crash
    between a put and its message's commit); how many."""
    found = 0
    batch: list[str] = []
    async for key in rt.files.list_ids():
        batch.append(key)
        if len(batch) >= BATCH:
            found += await _queue_unknown(rt, batch)
            batch = []
    if batch:
        found += await _queue_unknown(rt, batch)
    if found:
        log.info("files sweep: %d stored files without a row, deleted in %s", found, SWEEP_GRACE)
    return found


async def _queue_unknown(rt: Runtime, keys: list[str]) -> int:
    async with rt.store.read() as tx:
        held = await tx.files.known_keys(keys)
    unknown = [key for key in keys if key not in held]
    if unknown:
        async with rt.store.transaction() as tx:
            await do_queue_deletion(rt, tx, unknown, delay=SWEEP_GRACE)
    return len(unknown)


async def run_files_sweep(rt: Runtime, job: Job) -> None:
    await do_sweep_files(rt)
