"""uvicorn's server for the tests' server threads, which stops as soon as it is told to.

uvicorn's own `Server` notices `should_exit` on its next 0.1 s tick, then always waits 0.1 s for
the connections it asked to shut down, even when there are none: ~0.16 s of every test that
starts a server (0.18 s against 0.12 s per stop, median of 12 alternated pairs; ~750 servers a
run). `PromptServer.stop()` wakes the main loop at once; a shutdown with no connection and no
request task left goes straight to closing the listening sockets and the application's lifespan
shutdown (the runtime closes as before). With any connection open, uvicorn's own shutdown runs
unchanged (its waits, the close of each connection, the graceful timeout). The application and
`causerie serve` are untouched: this is the test harness's thread, not the product's server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import uvicorn


class PromptServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._told = asyncio.Event()

    async def main_loop(self) -> None:
        """uvicorn's ticks (its date header, `limit_max_requests`), each 0.1 s, until told."""
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._told.wait(), 0.1)

    def stop(self) -> None:
        """From any thread: `should_exit`, and the main loop woken now."""
        self.should_exit = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed meanwhile, the thread has ended.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._told.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connection from here on
        if self.server_state.connections or self.server_state.tasks or sockets:
            await super().shutdown(sockets)  # uvicorn's own, waits included
            return
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()
