"""`HttpOutbound`: the `Outbound` port over httpx (client.py), through the SSRF guard (guard.py).

One POST per call, no redirect followed (a 3xx is an answer like any other: not a success),
no proxy from the environment, certificates verified against the name in the URL (the
connection goes to the checked address, the TLS handshake still names the host).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from causerie.domain.webhooks import ANSWER_HEAD, Answer, DeliveryRefused
from causerie.lazy_imports import import_off_loop

if TYPE_CHECKING:
    import httpx


class HttpOutbound:
    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._client: httpx.AsyncClient | None = None

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            from causerie.outbound.client import guarded_client  # httpx: at first use

            self._client = guarded_client(self._allow_private)
        return self._client

    async def post(self, url: str, headers: dict[str, str], body: bytes, seconds: float) -> Answer:
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (scheme == "http" and self._allow_private):
            raise DeliveryRefused(
                f"{scheme or 'no'} scheme: webhooks go to https:// targets "
                "(http:// only with CAUSERIE_WEBHOOK_ALLOW_PRIVATE=true)"
            )
        await import_off_loop("causerie.outbound.client")  # httpx: once, off the loop
        started = time.monotonic()
        headers = {**headers, "user-agent": "Causerie-Webhooks"}
        # httpx's timeout bounds each step; the contract bounds the whole answer.
        async with (
            asyncio.timeout(seconds),
            self._open().stream(
                "POST", url, headers=headers, content=body, timeout=seconds
            ) as response,
        ):
            head = b""
            async for chunk in response.aiter_raw():
                head += chunk
                if len(head) >= ANSWER_HEAD * 4:
                    break
        latency = int((time.monotonic() - started) * 1000)
        text = head.decode("utf-8", errors="replace")[:ANSWER_HEAD]
        return Answer(response.status_code, latency, text)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
