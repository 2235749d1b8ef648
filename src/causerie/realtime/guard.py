"""An agent socket's watch over its access: the socket ends when its credential or membership does.

See docs/realtime.md "When access ends". Three ways in:

- a revocation heard on the hub (`access.ended`, from any node's commit): `revoke`, at once;
- the login's end: a timer at `expires_at`, and on each frame a comparison with the clock, which
  checks the login again (HTTP use of the inbox may have pushed it forward) rather than trusting
  the timer alone (the clock is injected; tests move it);
- a check from the database before the first replay and before catching up after the broker
  reconnected (`check`, awaited by the socket's `StreamFollower`), since a revocation published
  meanwhile may have been lost.

Once ended, `ended` is set before anything else happens, so a frame read after it is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from causerie.actions.agent_access import AgentAccess, check_agent_access
from causerie.domain.access import ended
from causerie.domain.errors import AccessEnded
from causerie.runtime import Runtime

log = logging.getLogger("causerie.realtime")

OnEnd = Callable[[AccessEnded], None]


class AccessGuard:
    __slots__ = ("_on_end", "_task", "_timer", "access", "ended", "rt")

    def __init__(self, rt: Runtime, access: AgentAccess) -> None:
        self.rt = rt
        self.access = access
        self.ended: AccessEnded | None = None
        self._on_end: OnEnd | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return self.access.keys

    def start(self, on_end: OnEnd) -> None:
        """Watch from now on; `on_end(error)` is called once, when the access ends."""
        self._on_end = on_end
        self._schedule()

    def stop(self) -> None:
        """The socket closed: no more timer, no more callback."""
        self._on_end = None
        self._cancel_timer()
        if self._task is not None:
            self._task.cancel()

    def revoke(self, code: str) -> None:
        self._end(ended(code))

    def expired(self) -> bool:
        """Whether the login's end, as last read, has come (cheap: no read)."""
        expires_at = self.access.expires_at
        return expires_at is not None and expires_at <= self.rt.clock.now()

    async def check(self) -> None:
        """Read the access again; raises `AccessEnded` (having ended the socket) when it ended."""
        if self.ended is not None:
            raise self.ended
        try:
            access = await check_agent_access(self.rt, self.access)
        except AccessEnded as error:
            self._end(error)
            raise
        if self.ended is not None:  # revoked while the read was under way
            raise self.ended
        self.access = access
        self._schedule()

    def _end(self, error: AccessEnded) -> None:
        if self.ended is not None:
            return
        self.ended = error
        self._cancel_timer()
        if self._on_end is not None:
            self._on_end(error)

    def _schedule(self) -> None:
        self._cancel_timer()
        expires_at = self.access.expires_at
        if expires_at is None or self.ended is not None or self._on_end is None:
            return
        delay = max((expires_at - self.rt.clock.now()).total_seconds(), 0.0)
        self._timer = asyncio.get_running_loop().call_later(delay, self._at_expiry)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _at_expiry(self) -> None:
        self._timer = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._check_at_expiry())

    async def _check_at_expiry(self) -> None:
        try:
            await self.check()
        except AccessEnded:
            pass  # the socket is being closed
        except Exception:
            # The database did not answer: try again shortly rather than let the login outlive
            # its end unchecked.
            log.warning("checking an expiring login failed; retrying", exc_info=True)
            if self.ended is None and self._on_end is not None:
                self._timer = asyncio.get_running_loop().call_later(1.0, self._at_expiry)
