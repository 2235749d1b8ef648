"""What commands print: through rich, on standard output (the result) or standard error."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


# rich (about 2 MiB resident) is imported by the commands that print through it, not by
# `causerie serve`, whose few lines are plain (docs/performance.md, "Lighter at rest, again").
@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def out() -> Console:
    """Standard output, through rich."""
    return _console(False)


def err() -> Console:
    """Standard error, through rich."""
    return _console(True)


def escape(text: str) -> str:
    """`text` with rich's markup escaped."""
    from rich.markup import escape

    return escape(text)


def new_table(title: str | None = None) -> Table:
    from rich.table import Table

    return Table(title=title)


def add_id_column(table: Table, header: str = "id") -> None:
    """A column of ids, never cut nor wrapped whatever the width: a reader copies them into the
    next command (`causerie jobs retry ID`), and rich, fitting a table to 80 columns (a pipe, a
    narrow terminal), cut them to `j2dn6ac233d…`. The other columns give way."""
    table.add_column(header, no_wrap=True, min_width=ID_WIDTH)


def add_columns(table: Table, *headers: str) -> None:
    """Columns whose text folds onto more lines when the table is too wide, every character
    kept (rich's default cuts it with an ellipsis: an email, a time, an error)."""
    for header in headers:
        table.add_column(header, overflow="fold")


def add_row(table: Table, *cells: str) -> None:
    """A row of data, shown as it is: a cell that holds rich's markup (`[/b]` in a website's
    name, a push service's answer in a job's error) is neither styled nor refused (rich raised
    MarkupError, and the command ended in a traceback)."""
    from rich.text import Text

    table.add_row(*(Text(cell) for cell in cells))


ID_WIDTH = 24  # tokens.new_id()'s length


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def reset() -> None:
    """Forget the consoles: the next print makes them again, on the streams of that moment (a
    command run in process by a test, whose streams are its own)."""
    _console.cache_clear()
