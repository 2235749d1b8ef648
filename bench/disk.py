"""The disk's own commit latency, the baseline of the relay's paced p99.

Every acked message waits for one SQLite commit, and at `synchronous=FULL` in WAL mode a commit
is the batch's pages appended to the WAL (`pwrite`, 4 KiB each) and one `fdatasync` of it
(strace of Python's sqlite3 on this machine). Appended: Causerie's WAL grows from 2 to 64 MB
between two restarts (store/database.py, `_Checkpointer`), so nearly every commit lengthens the
file, and its fdatasync writes the file's new size too (on ext4, a journal commit).
`commit_latencies` does the same on a file of its own in the data folder, so the bench can print
the disk's p50 and p99 beside the paced load's: while the disk's p99 alone is above the latency
target, the target cannot be met by the server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAGE = 4096
COMMITS = 300  # about a second on this machine's disk
PAGES = 16  # a paced batch's WAL frames, about (measured: docs/performance.md, "paced2")


def commit_latencies(folder: Path, commits: int = COMMITS, pages: int = PAGES) -> list[float]:
    """Seconds each of `commits` appends of `pages` pages plus an fdatasync took, on a file in
    `folder` (removed afterwards)."""
    path = folder / "bench-disk-commits"
    block = os.urandom(PAGE * pages)
    took: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        offset = 0
        for _ in range(commits):
            started = time.perf_counter()
            os.pwrite(fd, block, offset)
            os.fdatasync(fd)
            took.append(time.perf_counter() - started)
            offset += len(block)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return took
