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

    async def _opened(self) -> httpx.AsyncClient:
        """The client, built at the first delivery in a thread: loading the certificate
        authorities twice takes about 40 ms of CPU, which blocked the loop, and counted against
        the target's timeout (under load, a third of a 1 s one: the first attempt of a webhook
        answering at once was recorded as unanswered)."""
        if self._client is None:
            await import_off_loop("causerie.outbound.client")  # httpx: once, off the loop
            from causerie.outbound.client import guarded_client

            built = await asyncio.to_thread(guarded_client, self._allow_private)
            if self._client is None:
                self._client = built
            else:  # another delivery built one meanwhile
                await built.aclose()
        return self._client

    async def post(self, url: str, headers: dict[str, str], body: bytes, seconds: float) -> Answer:
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (scheme == "http" and self._allow_private):
            raise DeliveryRefused(
                f"{scheme or 'no'} scheme: webhooks go to https:// targets "
                "(http:// only with CAUSERIE_WEBHOOK_ALLOW_PRIVATE=true)"
            )
        client = await self._opened()  # before the timeout: it bounds the target's answer
        started = time.monotonic()
        headers = {**headers, "user-agent": "Causerie-Webhooks"}
        # httpx's timeout bounds each step; the contract bounds the whole answer.
        async with (
            asyncio.timeout(seconds),
            client.stream("POST", url, headers=headers, content=body, timeout=seconds) as response,
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
