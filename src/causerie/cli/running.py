"""How a command runs: its settings, the runtime it acts through, its listening sockets, and a
long command's progress and Ctrl-C."""

from __future__ import annotations

import asyncio
import errno
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from causerie.cli.output import err, escape
from causerie.clock import SystemClock
from causerie.domain.errors import DomainError
from causerie.runtime import Runtime
from causerie.settings import Settings, SettingsError, load_settings
from causerie.wiring import CannotStart, running

if TYPE_CHECKING:
    from rich.progress import Progress as Bar

T = TypeVar("T")


def get_settings(*, warn: bool = True, **overrides: str) -> Settings:
    """The settings, or exit 2 with one line naming the bad one; with `warn`, one line on
    standard error for each `CAUSERIE_*` variable Causerie ignores (docs/settings.md)."""
    try:
        settings = load_settings(None, **overrides)
    except SettingsError as exc:
        err().print(f"[red]causerie: bad setting:[/red] {escape(str(exc))}")
        sys.exit(2)
    for name in settings.unknown_variables if warn else ():
        err().print(
            f"[yellow]causerie: warning:[/yellow] {escape(name)} (from the environment) is not "
            "a setting: Causerie ignores it (a plugin may read it)"
        )
    return settings


def cannot_start(exc: CannotStart) -> None:
    err().print(f"[red]causerie:[/red] {escape(str(exc))}")
    sys.exit(2)


def _progress_bar() -> Bar:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    return Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )


class Watch:
    """A long command's progress on standard error (standard output stays the command's result):
    a bar per part of the work on a terminal, else a plain line per part at most every
    `PLAIN_EVERY` seconds, and one when it ends. The first Ctrl-C asks the work to stop after the
    batch under way (`Stopped`); a second one abandons that batch (the database rolls it back).
    """

    PLAIN_EVERY = 1.0

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.stopping = False
        self.done: dict[str, int] = {}
        self._totals: dict[str, int | None] = {}
        self._said: dict[str, int] = {}
        self._last = 0.0
        self._bar = _progress_bar() if err().is_terminal else None
        self._tasks: dict[str, Any] = {}

    def begin(self, task: str, total: int | None) -> None:
        self._finish_lines()
        self.done[task] = 0
        self._totals[task] = total
        if self._bar is not None:
            self._tasks[task] = self._bar.add_task(f"{self.verb} {task}", total=total)
        elif total:
            self._line(task)  # what is ahead, when known

    def advance(self, task: str, steps: int) -> None:
        self.done[task] = self.done.get(task, 0) + steps
        if self._bar is not None:
            self._bar.update(self._tasks[task], completed=self.done[task])
        elif time.monotonic() - self._last >= self.PLAIN_EVERY:
            self._line(task)

    def stop_requested(self) -> bool:
        return self.stopping

    def _line(self, task: str) -> None:
        total = self._totals.get(task)
        of = "" if total is None else f" of {total}"
        err().print(f"{self.verb} {task}: {self.done[task]}{of}", markup=False, highlight=False)
        self._said[task] = self.done[task]
        self._last = time.monotonic()

    def _finish_lines(self) -> None:
        """The last count of each part, unless its last line said it already."""
        if self._bar is None:
            for task, count in self.done.items():
                if self._said.get(task) != count:
                    self._line(task)

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        err().print(
            "stopping after the batch under way (Ctrl-C again to abandon it)...",
            markup=False,
        )

    @contextmanager
    def watching(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, self._interrupt)
        try:
            if self._bar is not None:
                with self._bar:
                    yield
            else:
                yield
                self._finish_lines()
        finally:
            signal.signal(signal.SIGINT, previous)


def interrupted(summary: str) -> None:
    """A long command stopped on Ctrl-C: what it did, and status 130."""
    err().print(f"interrupted: {summary}", markup=False)
    sys.exit(130)


def run(settings: Settings, action: Callable[[Runtime], Awaitable[T]]) -> T:
    """Bring the schema up to date, then run `action` with the runtime the server would have:
    its events reach live inboxes through the broker (Redis when configured)."""

    async def main() -> T:
        async with running(settings, SystemClock()) as rt:
            return await action(rt)

    try:
        return asyncio.run(main())
    except CannotStart as exc:
        cannot_start(exc)
        raise  # unreachable: cannot_start exits
    except DomainError as exc:
        err().print(f"[red]causerie:[/red] {escape(exc.message)}")  # it may quote what was typed
        sys.exit(1)


def listen(host: str, port: int, option: str = "--port") -> socket.socket:
    """A socket listening on host:port, taken before anything is printed; a port in use (or an
    address this machine does not have) is one line and exit status 2."""
    from causerie.server import listen as bind

    try:
        return bind(host, port)
    except OSError as exc:
        err().print(
            f"[red]causerie:[/red] cannot listen on {escape(host)}:{port}: "
            f"{escape(exc.strerror or str(exc))}; {_advice(exc, option)}"
        )
        sys.exit(2)


def _advice(exc: OSError, option: str) -> str:
    """What to change: the port for a port taken or reserved, the host for a name that does not
    resolve or an address this machine does not have (it was told to free the port)."""
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return "check --host: it must be an address of this machine (or 0.0.0.0, ::)"
    if exc.errno == errno.EACCES:
        return f"a port under 1024 needs privileges: choose another {option}"
    return f"stop what uses it or choose another {option}"
