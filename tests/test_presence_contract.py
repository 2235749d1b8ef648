"""One presence contract, run against every backend (STYLE.md, practice 6); then what only Redis
adds: nodes sharing presence, entries of a dead node expiring, outages."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from causerie.broker import BrokerUnavailable
from causerie.domain.ports import Presence, agent_connection_id
from causerie.presence import PresenceUnavailable
from causerie.presence.memory import MemoryPresence
from causerie.presence.redis import RedisPresence
from tests.redis_support import PrivateRedis, private_redis, shared_redis_url, unique
from tests.support import free_port


@pytest.fixture(scope="module")
def redis_url() -> str:
    return shared_redis_url()


@pytest.fixture
def private(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = private_redis(tmp_path)
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture(params=["memory", "redis"])
def make_presence(request: pytest.FixtureRequest) -> Callable[[], Presence]:
    if request.param == "memory":
        return MemoryPresence
    url: str = request.getfixturevalue("redis_url")
    return lambda: RedisPresence(url)


def by_id(infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(infos, key=lambda info: str(info["id"]))


# -- the contract ------------------------------------------------------------------------------


def test_an_online_agent_makes_the_website_online(make_presence: Callable[[], Presence]) -> None:
    async def scenario() -> None:
        website, other = unique("website"), unique("website")
        presence = make_presence()
        try:
            assert not await presence.website_online(website)
            await presence.set_agent(website, "c1", "online")
            assert await presence.website_online(website)
            assert not await presence.website_online(other)
            await presence.set_agent(website, "c1", None)
            assert not await presence.website_online(website)
        finally:
            await presence.close()

    asyncio.run(scenario())


def test_an_away_agent_does_not(make_presence: Callable[[], Presence]) -> None:
    async def scenario() -> None:
        website = unique("website")
        presence = make_presence()
        try:
            await presence.set_agent(website, "c1", "away")
            assert not await presence.website_online(website)
            await presence.set_agent(website, "c1", "online")
            assert await presence.website_online(website)
            await presence.set_agent(website, "c1", "away")
            assert not await presence.website_online(website)
        finally:
            await presence.close()

    asyncio.run(scenario())


def test_the_operators_online_are_those_with_an_online_connection(
    make_presence: Callable[[], Presence],
) -> None:
    """What automatic assignment reads (docs/inbox.md "Teams")."""

    async def scenario() -> None:
        website = unique("website")
        presence = make_presence()
        try:
            assert await presence.agents_online(website) == set()
            ada1, ada2 = agent_connection_id("ada", "1"), agent_connection_id("ada", "2")
            bob, cy = agent_connection_id("bob", "1"), agent_connection_id("cy", "1")
            await presence.set_agent(website, ada1, "online")
            await presence.set_agent(website, bob, "away")
            await presence.set_agent(website, cy, "online")
            await presence.set_agent(website, ada2, "online")  # a second tab
            assert await presence.agents_online(website) == {"ada", "cy"}
            await presence.set_agent(website, ada1, None)
            await presence.set_agent(website, cy, "away")
            assert await presence.agents_online(website) == {"ada"}
            assert await presence.website_online(website)
        finally:
            await presence.close()

    asyncio.run(scenario())


def test_the_website_is_online_while_any_connection_is(
    make_presence: Callable[[], Presence],
) -> None:
    async def scenario() -> None:
        website = unique("website")
        presence = make_presence()
        try:
            await presence.set_agent(website, "phone", "online")
            await presence.set_agent(website, "laptop", "online")
            await presence.set_agent(website, "tablet", "away")
            await presence.set_agent(website, "phone", None)
            assert await presence.website_online(website)
            await presence.set_agent(website, "laptop", None)
            assert not await presence.website_online(website)
            await presence.set_agent(website, "tablet", None)
            await presence.set_agent(website, "tablet", None)  # removing twice is harmless
            assert not await presence.website_online(website)
        finally:
            await presence.close()

    asyncio.run(scenario())


def test_an_agent_is_connected_while_any_of_their_sockets_is_whatever_its_status(
    make_presence: Callable[[], Presence],
) -> None:
    async def scenario() -> None:
        website, other = unique("website"), unique("website")
        presence = make_presence()
        ada, bob = unique("op"), unique("op")
        phone, laptop = agent_connection_id(ada, "phone"), agent_connection_id(ada, "laptop")
        try:
            assert not await presence.agent_connected(website, ada)
            await presence.set_agent(website, phone, "away")
            await presence.set_agent(website, laptop, "online")
            assert await presence.agent_connected(website, ada)
            assert not await presence.agent_connected(website, bob)
            assert not await presence.agent_connected(other, ada)
            await presence.set_agent(website, laptop, None)
            assert await presence.agent_connected(website, ada)  # still away on the phone
            await presence.set_agent(website, phone, None)
            assert not await presence.agent_connected(website, ada)
        finally:
            await presence.close()

    asyncio.run(scenario())


def test_visitors_online_lists_the_infos_set_and_not_removed(
    make_presence: Callable[[], Presence],
) -> None:
    async def scenario() -> None:
        website, other = unique("website"), unique("website")
        alice = {"id": "s1", "name": "Zoë «Ça va»", "page": "https://shop.example/é", "n": 1}
        bob = {"id": "s2", "name": None, "tags": ["a", "b"]}
        presence = make_presence()
        try:
            assert await presence.visitors_online(website) == []
            await presence.set_visitor(website, "c1", alice)
            await presence.set_visitor(website, "c2", bob)
            await presence.set_visitor(other, "c3", {"id": "s3"})
            assert by_id(await presence.visitors_online(website)) == [alice, bob]

            moved = {**alice, "page": "https://shop.example/cart"}
            await presence.set_visitor(website, "c1", moved)
            await presence.set_visitor(website, "c2", None)
            assert await presence.visitors_online(website) == [moved]
            assert await presence.visitors_online(other) == [{"id": "s3"}]
        finally:
            await presence.close()

    asyncio.run(scenario())


def test_refresh_keeps_what_is_there(make_presence: Callable[[], Presence]) -> None:
    async def scenario() -> None:
        website = unique("website")
        presence = make_presence()
        try:
            await presence.refresh()  # nothing to refresh
            await presence.set_agent(website, "c1", "online")
            await presence.set_visitor(website, "c2", {"id": "s1"})
            await presence.refresh()
            assert await presence.website_online(website)
            assert await presence.visitors_online(website) == [{"id": "s1"}]
        finally:
            await presence.close()

    asyncio.run(scenario())


# -- Redis: nodes share presence, and a dead node's entries expire ------------------------------


def test_two_nodes_share_presence(redis_url: str) -> None:
    async def scenario() -> None:
        website = unique("website")
        one, two = RedisPresence(redis_url), RedisPresence(redis_url)
        try:
            await one.set_agent(website, "c1", "online")
            await two.set_visitor(website, "c2", {"id": "s2"})
            assert await two.website_online(website)
            assert await one.visitors_online(website) == [{"id": "s2"}]
            await one.set_agent(website, "c1", None)
            assert not await two.website_online(website)
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())


def test_entries_not_refreshed_expire_after_ttl_and_refreshed_ones_stay(redis_url: str) -> None:
    """`dead` stands for a node that died: it never refreshes. Redis's own clock decides."""

    async def scenario() -> None:
        website = unique("website")
        agents, visitors = f"causerie:agents:{website}", f"causerie:visitors:{website}"
        dead, alive = RedisPresence(redis_url, ttl=1.5), RedisPresence(redis_url, ttl=1.5)
        raw = redis.asyncio.Redis.from_url(redis_url)
        try:
            await dead.set_agent(website, "dead-agent", "online")
            await dead.set_visitor(website, "dead-visitor", {"id": "gone"})
            await alive.set_agent(website, "live-agent", "away")
            await alive.set_visitor(website, "live-visitor", {"id": "here"})
            await asyncio.sleep(0.9)
            await alive.refresh()
            await asyncio.sleep(0.9)  # past the dead node's expiry, 0.6 s before the live one's
            assert not await alive.website_online(website)  # the online agent was the dead one
            assert await alive.visitors_online(website) == [{"id": "here"}]
            # Readers delete what expired; the key itself outlives none of its entries.
            assert await raw.hkeys(agents) == [b"live-agent"]
            assert await raw.hkeys(visitors) == [b"live-visitor"]
            assert 0 < await raw.pttl(agents) <= 1500
        finally:
            await dead.close()
            await alive.close()
            await raw.aclose()

    asyncio.run(scenario())


def test_close_removes_the_entries_of_this_node(redis_url: str) -> None:
    async def scenario() -> None:
        website = unique("website")
        leaving, staying = RedisPresence(redis_url), RedisPresence(redis_url)
        try:
            await leaving.set_agent(website, "c1", "online")
            await leaving.set_visitor(website, "c2", {"id": "s2"})
            await leaving.close()
            assert not await staying.website_online(website)
            assert await staying.visitors_online(website) == []
        finally:
            await staying.close()

    asyncio.run(scenario())


def test_values_in_redis_are_an_expiry_and_the_payload(redis_url: str) -> None:
    async def scenario() -> None:
        website = unique("website")
        presence = RedisPresence(redis_url, ttl=60)
        raw = redis.asyncio.Redis.from_url(redis_url)
        try:
            await presence.set_agent(website, "c1", "online")
            await presence.set_visitor(website, "c2", {"id": "s2", "name": "Zoë"})
            now_s, now_us = await raw.time()
            now_ms = now_s * 1000 + now_us // 1000
            agent = await raw.hget(f"causerie:agents:{website}", "c1")
            visitor = await raw.hget(f"causerie:visitors:{website}", "c2")
            assert isinstance(agent, bytes) and isinstance(visitor, bytes)
            expiry, _, status = agent.partition(b"|")
            assert status == b"online"
            assert now_ms + 59_000 < int(expiry) <= now_ms + 60_000
            expiry, _, info = visitor.partition(b"|")
            assert json.loads(info) == {"id": "s2", "name": "Zoë"}
        finally:
            await presence.close()
            await raw.aclose()

    asyncio.run(scenario())


# -- Redis: outages ----------------------------------------------------------------------------


def test_presence_fails_promptly_when_redis_is_unreachable() -> None:
    async def scenario() -> None:
        presence = RedisPresence(f"redis://127.0.0.1:{free_port()}/0")
        website = unique("website")
        started = time.monotonic()
        try:
            calls = [
                presence.set_agent(website, "c1", "online"),
                presence.website_online(website),
                presence.set_visitor(website, "c2", {"id": "s2"}),
                presence.visitors_online(website),
                presence.refresh(),
            ]
            for call in calls:
                with pytest.raises(PresenceUnavailable):
                    await call
        finally:
            await presence.close()  # does not raise: it removes its entries on a best-effort basis
        assert time.monotonic() - started < 2
        assert issubclass(PresenceUnavailable, BrokerUnavailable)

    asyncio.run(scenario())


def test_refresh_restores_presence_after_redis_restarts_empty(private: PrivateRedis) -> None:
    async def scenario() -> None:
        website = unique("website")
        presence = RedisPresence(private.url)
        try:
            await presence.set_agent(website, "c1", "online")
            private.stop(signal.SIGKILL)
            with pytest.raises(PresenceUnavailable):
                await presence.set_visitor(website, "c2", {"id": "s2"})  # kept for the refresh
            private.start()
            assert not await presence.website_online(website)  # Redis kept nothing

            await presence.refresh()
            assert await presence.website_online(website)
            assert await presence.visitors_online(website) == [{"id": "s2"}]
        finally:
            await presence.close()

    asyncio.run(scenario())
