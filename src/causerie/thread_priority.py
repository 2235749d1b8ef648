"""Background threads run at a lower CPU priority than the event loop.

A long read (a search through every message, an export, a year of statistics) runs in a thread of
its own, mostly in SQLite's C code without the GIL: on a busy core it competes with the event
loop's thread for the CPU, and every socket of the process waits while the loop waits for its
turn. Each such thread lowers its own priority as it starts (`lower_this_thread`, given as a
`ThreadPoolExecutor`'s `initializer`), so that when the loop wakes it takes the core at once and
the long read goes on in the time the loop leaves.

On Linux a thread's nice value is its own (`setpriority(PRIO_PROCESS, tid)` acts on one thread,
not on the process). Elsewhere nothing is changed: there the call would renice the whole
process, loop included. A process may raise its nice value but, without privileges, never lower
it again, so only threads that do nothing but background work are lowered, never a shared pool
(the default executor also commits messages and hashes passwords for people who wait).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

# Added to the thread's nice value: weight ~9 times below a nice-0 thread's under Linux's
# scheduler, so the loop wins the core when it has work, while the read still gets the rest.
BACKGROUND_NICE = 10
MAX_NICE = 19

SUPPORTED = sys.platform.startswith("linux") and hasattr(os, "setpriority")


def lower_this_thread(by: int = BACKGROUND_NICE) -> None:
    """Raise the calling thread's nice value by `by` (at most 19); a no-op off Linux.

    Never raises: a thread that cannot be reniced (a sandbox forbidding it) runs as before.
    """
    if not SUPPORTED:
        return
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(MAX_NICE, current + by))
    except OSError as exc:
        log.debug("thread %s keeps its priority: %s", tid, exc)
