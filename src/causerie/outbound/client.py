"""The httpx client `HttpOutbound` posts with: its connections made by the SSRF guard's network
backend (guard.py). Imported at the first delivery: httpx (with the command-line tools it loads
when they are installed) weighs about 20 MiB that a server sending no webhook does without."""

from __future__ import annotations

# anyio, whose backend httpcore's first connection would import on the event loop (about 35 ms
# of CPU, inside the first attempt's timeout), is imported here, off the loop, with httpx.
import anyio._backends._asyncio  # noqa: F401
import httpcore
import httpx

from causerie.outbound.guard import GuardedBackend


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx builds its pool with the default backend; the guard must be the one that
        # connects, so the pool is rebuilt around it with the same TLS settings.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(allow_private),
        )


def guarded_client(allow_private: bool) -> httpx.AsyncClient:
    """A client that follows no redirect and reads no proxy or setting from the environment."""
    return httpx.AsyncClient(
        transport=_GuardedTransport(allow_private), follow_redirects=False, trust_env=False
    )
