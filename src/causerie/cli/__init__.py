"""The `causerie` command (docs/cli.md). Every command creates the data folder and brings the
schema up to date first, so any of them can be the first one run. None of them prompts, but
`privacy erase` on a terminal. A setting, database or Redis that cannot be used, or a port that
is taken, is one line on standard error and exit status 2; Ctrl-C ends any command quietly with
130.

The group is in group.py; each module beside it adds its commands to it: serving.py (`serve`,
`demo`, `migrate`), records.py (websites, operators, tokens, conversations), upkeep.py (`purge`,
`reports`, `jobs`), privacy.py (data-subject requests and the register).

The command modules import most of Causerie (about 180 modules) with Python's cyclic collector
paused, as `causerie serve` then builds its app (`server.collector_paused`): those objects live
as long as the command, and the 170 collections of that time walked them again and again for
nothing, about a tenth of the import's CPU (docs/performance.md, "lighter4").
"""

from causerie.server import imports_uncollected

with imports_uncollected():
    from causerie.cli import privacy, records, serving, upkeep
    from causerie.cli.group import main

__all__ = ["main", "privacy", "records", "serving", "upkeep"]
