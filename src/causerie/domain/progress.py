"""Long work told as it goes, and stopped cleanly between two of its batches (docs/cli.md,
"Long commands").

An action that works in batches (the purge, an erasure, an export, the migrations) tells a
`Progress` of each batch once it is committed, and asks it, between batches and never inside a
batch's transaction, whether to stop. If so it raises `Stopped` with what it has done: every
batch counted there is committed, and no other was begun.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Progress(Protocol):
    def begin(self, task: str, total: int | None) -> None:
        """A part of the work starts: `total` steps, when known."""

    def advance(self, task: str, steps: int) -> None:
        """`steps` more steps of `task` are done (committed)."""

    def stop_requested(self) -> bool:
        """Whether the work should stop before its next batch."""


class Stopped(Exception):
    """The work stopped between two batches, as asked: `done` counts what it did, by task."""

    def __init__(self, done: Mapping[str, int]) -> None:
        super().__init__("stopped on request")
        self.done = dict(done)


class Quiet:
    """No one is watching and nobody stops the work (the server's jobs, the API)."""

    def begin(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, steps: int) -> None:
        pass

    def stop_requested(self) -> bool:
        return False


QUIET: Progress = Quiet()


def stop_if_requested(progress: Progress, done: Mapping[str, int]) -> None:
    """Between two batches: `Stopped(done)` when the watcher asked to stop."""
    if progress.stop_requested():
        raise Stopped(done)
