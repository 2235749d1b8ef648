"""How `causerie serve` runs uvicorn; benchmarks and tests use the same options.

WebSockets use uvicorn's `websockets-sansio` implementation (faster and lighter per socket than
its default; messages over the limit dropped and reported, causerie.ws_protocol) without
per-message compression (chat frames are small; compression costs two to four times the memory
per socket). Protocol pings every 20 s drop peers that vanished.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from causerie.logs import logging_config

if TYPE_CHECKING:  # the benches' bare servers use these options without the settings' libraries
    from uvicorn import Config, Server

    from causerie.settings import Settings

# Young collections between two of the middle generation (Python's default: 10). A middle
# collection walks the survivors of that many young ones: at 5 its pause is 0.6-0.8 of the
# default's, for the same CPU in all (docs/performance.md, "paced2").
MIDDLE_COLLECTION_AFTER = 5
# Collections of the collector's middle generation between two full ones (Python's default: 10);
# with MIDDLE_COLLECTION_AFTER, one full collection per 1,000 young ones, as at 10 and 100.
FULL_COLLECTION_AFTER = 200

# Bytes per character at most in UTF-8: a message of CAUSERIE_MAX_BODY characters fits in this many
# times as many bytes. Up to that the protocol hands a message on whole (and Causerie counts its
# characters); past it the message is dropped as it arrives, never held.
UTF8_MAX_BYTES = 4


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return options_for(settings.log_level, settings.max_body)


def options_for(log_level: str, max_body: int) -> dict[str, Any]:
    """uvicorn's options for a server whose log level and body limit are these."""
    return {
        "log_config": logging_config(log_level),
        "access_log": False,  # uvicorn's own access log prints client addresses (P17)
        "proxy_headers": False,  # X-Forwarded-For is read by Causerie, from trusted proxies only
        "server_header": False,
        "ws": "causerie.ws_protocol:LimitedWebSocketProtocol",  # websockets-sansio, see there
        "ws_per_message_deflate": False,
        "ws_max_size": UTF8_MAX_BYTES * max_body,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
    }


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, as uvicorn would bind it, for `Server.serve(sockets=...)`.
    Taken before anything is printed or started, so a port in use fails first (`OSError`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@contextmanager
def imports_uncollected() -> Iterator[None]:
    """Python's cyclic garbage collector paused while modules are imported, and what they made
    frozen afterwards (`gc.freeze`), its thresholds unchanged: what an import makes lives as
    long as the process, and the collections of that time would only walk it again and again;
    unfrozen, the first collection after the pause would walk it all at once (40 ms for the
    command line's modules)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the server imports its modules and builds
    its app. Those objects (classes, functions, schemas, routes) live as long as the process, and
    the 250 collections of that time walk them again and again for nothing: 7-8% of the CPU of a
    start (docs/performance.md, "Lighter at rest"). Afterwards they are frozen (`gc.freeze`: set
    apart from the collector's generations): else the first collections after start walk them
    all, about 100 ms of CPU each at a load average of 15, an event loop stopped as long ("Lighter
    at rest, again"). The few cycles the imports left unreachable (about 1,300 objects) stay
    allocated. Collections resume afterwards, as usual, over what is made later, except that a
    middle collection comes after `MIDDLE_COLLECTION_AFTER` young ones, not 10 (shorter pauses),
    and a full collection after `FULL_COLLECTION_AFTER` collections of the middle generation, not
    10: Python also waits until the old generation has grown by a quarter since the last one, and
    after the freeze it counts from nearly nothing, so a loaded server ran one every few seconds,
    each stopping the event loop for 14-22 ms of CPU, longer than the messages' p99 target
    (docs/performance.md, "Acks and events before the next batch")."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        young, _, _ = gc.get_threshold()
        gc.set_threshold(young, MIDDLE_COLLECTION_AFTER, FULL_COLLECTION_AFTER)
        if was_enabled:
            gc.enable()


def started_server(config: Config) -> Server:
    """uvicorn's server for `config`, which once started (the app's lifespan has opened the
    store and built the runtime, and the sockets listen) sets what its start built apart from
    the collector (`freeze_what_start_built`). `causerie serve` and the benches' servers run it.
    uvicorn is imported here, not with this module: `causerie serve` imports it while the
    collector is paused (`collector_paused`)."""
    import uvicorn

    class _StartedServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:  # a start that failed exits; nothing to keep
                freeze_what_start_built()

    return _StartedServer(config)


def freeze_what_start_built() -> None:
    """What the server's start made after its app was built (the store's engines and
    connections, the runtime, the lifespan's tasks: some 4,000-9,000 objects) set apart from the
    collector, as `collector_paused` sets apart what the build made: else every full collection
    walks them again, for as long as the server runs (docs/performance.md, "paced2": a full
    collection's CPU under the paced load, 31 ms at p50 without, 20 ms with both freezes). The
    garbage of the start is collected first, so that no cycle is kept for good."""
    gc.collect()
    gc.freeze()
