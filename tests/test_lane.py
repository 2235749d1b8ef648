"""The shield gate's lane (web/lane.py): never more than its places inside, a free place taken
at once whoever waits, a waiter passed over once owed the next place, and every waiter through
in the end, cancelled ones passing their turn on."""

from __future__ import annotations

import asyncio

import pytest

from causerie.web.lane import Lane


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_never_more_than_its_places_inside_and_everyone_through() -> None:
    async def scenario() -> tuple[int, int]:
        lane = Lane(3)
        inside = most = done = 0

        async def request(turns: int) -> None:
            nonlocal inside, most, done
            async with lane:
                inside += 1
                most = max(most, inside)
                for _ in range(turns):
                    await asyncio.sleep(0)
                inside -= 1
            done += 1

        await asyncio.gather(*(request(n % 4) for n in range(40)))
        return most, done

    assert asyncio.run(scenario()) == (3, 40)


def test_a_free_place_is_taken_at_once_and_the_woken_waiter_is_next() -> None:
    async def scenario() -> list[str]:
        lane = Lane(1)
        order: list[str] = []

        async def request(name: str) -> None:
            async with lane:
                order.append(name)

        await lane.__aenter__()  # the one place, held here
        waiting = asyncio.create_task(request("waiting"))
        await _settle()
        assert order == []
        await lane.__aexit__(None, None, None)  # freed: the waiter is woken, not yet running
        entering = lane.__aenter__()
        with pytest.raises(StopIteration):  # the free place, taken without a wait
            entering.send(None)
        order.append("came later")
        await _settle()  # the woken waiter found the place taken: it is owed the next one
        assert order == ["came later"]
        # A newcomer, whose first step runs before the owed waiter's wake-up: the place is owed.
        last = asyncio.create_task(request("last"))
        await lane.__aexit__(None, None, None)  # freed again: the owed waiter is woken
        await asyncio.gather(waiting, last)
        return order

    assert asyncio.run(scenario()) == ["came later", "waiting", "last"]


def test_a_woken_waiter_cancelled_passes_the_place_on() -> None:
    async def scenario() -> list[str]:
        lane = Lane(1)
        order: list[str] = []

        async def request(name: str) -> None:
            async with lane:
                order.append(name)

        await lane.__aenter__()
        cancelled = asyncio.create_task(request("cancelled"))
        await _settle()
        second = asyncio.create_task(request("second"))
        await _settle()
        await lane.__aexit__(None, None, None)  # wakes `cancelled`, cancelled before it runs
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)
        await asyncio.wait_for(second, 5)
        return order

    assert asyncio.run(scenario()) == ["second"]
