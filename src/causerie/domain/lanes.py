"""Which of a batch lane's waiting messages go in its next transaction (actions/batches.py).

A lane commits its website's messages together. Under a flood, the bots' accepted messages
filled each batch: a person's message waited for the batch under way, full of them, then for
its own, as long (docs/performance.md). So a lane tells its senders apart by how fast each has
been sending messages to this node (`Pace`, keyed by the sender's network): a message of a
sender over `BUSY_RATE` waits as *busy*, and a batch takes at most `BUSY_PARTS` busy ones, in
their order, beside every other one waiting (up to the batch's limit). A person's message is
then in the next batch whatever a flood queued, and the batch under way is a short one.

Nothing is refused or dropped: a busy sender's messages go in later batches, a few at a time. A
sender's messages keep their order: once one of them waits as busy, the next ones do too until
it has gone. A message without a sender (an operator's, a reply by email) is never busy. It is
this node's view of the last seconds, in memory: a scheduling decision, not a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from causerie.domain.pace import Pace

# Messages a second from one network to this node past which they wait as busy: a person types
# one every few seconds at most; a bot's loop sends the next as soon as the last is answered.
BUSY_RATE = 0.5
# Busy messages in one batch at most: what a person's message may find ahead of it. Not fewer:
# each batch costs a commit, and the fewer a flood's messages go a batch, the slower its loops
# ask again, and the later the signs that find them come (docs/performance.md).
BUSY_PARTS = 16
# The pace's half-life: a person's burst of a few quick messages stays under the rate.
HALF_LIFE = 10.0


class Queued(Protocol):
    @property
    def sender(self) -> str | None: ...

    @property
    def busy(self) -> bool: ...


Q = TypeVar("Q", bound=Queued)


class SenderPace:
    """How fast each sender has been sending messages to this node's lanes."""

    def __init__(self, busy_rate: float = BUSY_RATE, half_life: float = HALF_LIFE) -> None:
        self.busy_rate = busy_rate
        self._pace = Pace(half_life)

    def busy(self, sender: str | None, now: float, waiting: Sequence[Queued]) -> bool:
        """Count a message of `sender` at `now` (seconds); whether it waits as busy in a lane
        where `waiting` wait: over the rate, or behind a busy one of the same sender."""
        if sender is None:
            return False
        if self._pace.hit(sender, now) > self.busy_rate:
            return True
        return any(queued.busy and queued.sender == sender for queued in waiting)


def next_batch(waiting: list[Q], limit: int, busy_parts: int = BUSY_PARTS) -> list[Q]:
    """Take the lane's next batch out of `waiting` (in arrival order): every part that is not
    busy and the first `busy_parts` busy ones, `limit` at most; the others stay, in order."""
    batch: list[Q] = []
    left: list[Q] = []
    busy = 0
    for queued in waiting:
        if len(batch) < limit and (not queued.busy or busy < busy_parts):
            batch.append(queued)
            busy += queued.busy
        else:
            left.append(queued)
    waiting[:] = left
    return batch
