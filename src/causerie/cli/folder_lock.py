"""One server per data folder when the broker lives in the process (no `CAUSERIE_REDIS_URL`).

Two such servers on one folder would share the database but not the broker: a visitor on one and
an agent on the other would never see each other's messages, and each would print its own setup
link. The lock is the kernel's (`flock`), so it goes with the process, however that ends. The
lock file names the server's pid and public URL: without `CAUSERIE_PUBLIC_URL`, a server is
reached where it listens, which the commands printing a snippet or a link then use.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from causerie.cli.output import err, escape
from causerie.settings import Settings

LOCK_NAME = "serve.lock"


@contextmanager
def data_folder_held(settings: Settings, option: str) -> Iterator[None]:
    """Hold the data folder while serving (nothing to hold with Redis: several nodes then share
    one broker); exit 2 with one line naming `option` if another server holds it."""
    if settings.redis_url is not None:
        yield
        return
    # The owner's only, as everything in the data folder (docs/security.md).
    descriptor = os.open(settings.data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "r+", encoding="utf-8") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.seek(0)
            pid = held.readline().strip()
            who = f"another causerie (pid {pid})" if pid.isdigit() else "another causerie"
            err().print(
                f"[red]causerie:[/red] {who} already serves the data folder "
                f"{escape(str(settings.data_dir))}; stop it, or choose another {option}"
            )
            sys.exit(2)
        held.seek(0)
        held.truncate()
        held.write(f"{os.getpid()}\n{settings.public_url}\n")
        held.flush()
        yield


def public_url(settings: Settings) -> str:
    """The address browsers reach this install at: `CAUSERIE_PUBLIC_URL` if set, else that of
    the server holding the data folder (`serve --port P` is at port P), else the default."""
    path = settings.data_dir / LOCK_NAME
    if settings.sources.get("public_url") != "the default" or not path.exists():
        return settings.public_url
    with path.open(encoding="utf-8") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # a server holds it: where it is reached
            served = held.read().splitlines()[1:2]
            return served[0] if served else settings.public_url
        return settings.public_url  # nobody serves: the lock is released with the file
