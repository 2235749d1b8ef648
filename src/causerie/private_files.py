"""The data folder is its owner's only: folders 0700, files 0600 (docs/security.md).

The database (with its WAL and shared-memory files), the secret key and whatever else Causerie
keeps in the data folder hold personal data or secrets; another account on the machine must not
read them. What an older version left readable is tightened on every start.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

OWNER_ONLY = 0o700  # the permission bits kept: the owner's
PRIVATE_FILE = 0o600
# SQLite's own companions of a database file.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _tighten(path: Path) -> None:
    """Drop the group's and others' permissions; symbolic links are left alone."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return
    kept = stat.S_IMODE(mode) & OWNER_ONLY
    if stat.S_ISDIR(mode):
        kept |= stat.S_IRWXU
    if kept != stat.S_IMODE(mode):
        path.chmod(kept)


def make_private_dir(root: Path) -> None:
    """Create `root` if needed, and make it and everything in it its owner's only."""
    root.mkdir(mode=OWNER_ONLY, parents=True, exist_ok=True)
    _tighten(root)
    for folder, names, files in os.walk(root):
        for name in (*names, *files):
            _tighten(Path(folder, name))


def make_private_database(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would make it 0644; its WAL and
    shared-memory files copy the database's mode), and tighten the ones that exist.

    A file that exists is never opened here: POSIX locks belong to the process, and closing any
    descriptor of a file drops them all, SQLite's own of a store already open in this process
    included; another process closing its last connection would then delete the WAL and
    shared-memory files that store still uses (tests/test_private_files.py)."""
    path.parent.mkdir(mode=OWNER_ONLY, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_SIDE_FILES)):
        if candidate.exists():
            _tighten(candidate)
