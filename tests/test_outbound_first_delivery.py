"""The first webhook delivery of a node builds its HTTP client (`HttpOutbound`): off the event
loop, and before the attempt's timeout starts. Built on the loop, its certificate authorities
(about 40 ms of CPU) blocked every request meanwhile and, on a loaded machine, took the time of a
receiver answering at once (tests/test_webhooks.py's retries failed so under load).

Measured in CPU time of the loop's own thread, which a loaded machine does not change."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from causerie.outbound.client import guarded_client
from causerie.outbound.http import HttpOutbound
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _build_cpu() -> float:
    """The loop thread's CPU time to build one client (the least of three)."""
    spent = []
    for _ in range(3):
        started = time.thread_time()
        guarded_client(True)
        spent.append(time.thread_time() - started)
    return min(spent)


def test_the_first_delivery_builds_its_client_off_the_loop(receiver: Receiver) -> None:
    build = _build_cpu()
    outbound = HttpOutbound(allow_private=True)

    async def first() -> tuple[int, float]:
        started = time.thread_time()
        answer = await outbound.post(receiver.url, {}, b'{"n": 1}', 10.0)
        spent = time.thread_time() - started
        await outbound.close()
        return answer.status_code, spent

    status, spent = asyncio.run(first())
    assert status == 200 and len(receiver.requests) == 1
    # The loop's thread did the request, not the build (its CPU time was at least `build`).
    assert spent < build / 2, (spent, build)
