"""Running a transaction again when PostgreSQL ended it to break a deadlock (docs/architecture.md).

A deletion of sessions (an erasure, a conversation's deletion, a purge batch) can meet a job
about one of them (a webhook's delivery) that holds its own row while it writes another row
naming the session: the deletion waits for the job's row, the job for the session's, and
PostgreSQL ends one of the two. When it ends the deletion, nothing of it committed
(`TransactionRaced`), the job went its way, and the same transaction run afresh succeeds.

`body` opens its own transaction each time, so each attempt reads again what it acts on. Message
batches keep a loop of their own (`actions/batches.py`): their last attempt hands the race to
each waiting part instead of raising it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from causerie.domain.ports import TransactionRaced

T = TypeVar("T")

log = logging.getLogger("causerie.store")

# Runs after the first when the database ended it: a loser rolls back whole and the winner goes
# on, so the next run waits behind it and two or more lost races in a row are rare.
RUNS_AGAIN_WHEN_RACED = 3


async def run_again_when_raced(
    body: Callable[[], Awaitable[T]], *, again: int = RUNS_AGAIN_WHEN_RACED
) -> T:
    """`await body()`, run up to `again` more times while it raises `TransactionRaced`; the last
    race is raised (the client gets 503 `storage_unavailable` and may try again)."""
    lost = 0
    while True:
        try:
            return await body()
        except TransactionRaced:
            lost += 1
            if lost > again:
                raise
            log.info("a transaction lost a race; running it again (%d of %d)", lost, again)
