"""The `causerie` command (docs/cli.md). Every command creates the data folder and brings the
schema up to date first, so any of them can be the first one run. None of them prompts, but
`privacy erase` on a terminal. A setting, database or Redis that cannot be used, or a port that
is taken, is one line on standard error and exit status 2; Ctrl-C ends any command quietly with
130.

The group is in group.py; each module beside it adds its commands to it: serving.py (`serve`,
`demo`, `migrate`), records.py (websites, operators, tokens, conversations), upkeep.py (`purge`,
`reports`, `jobs`), privacy.py (data-subject requests and the register).
"""

from causerie.cli import privacy, records, serving, upkeep
from causerie.cli.group import main

__all__ = ["main", "privacy", "records", "serving", "upkeep"]
