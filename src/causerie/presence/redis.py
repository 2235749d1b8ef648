"""Presence shared between nodes through Redis, with entries that expire (docs/realtime.md).

Per website, two hashes: `causerie:agents:<website>` (field: connection id, value: the status) and
`causerie:visitors:<website>` (field: connection id, value: the info dict as JSON). Each value is
stored as `<expiry in ms>|<payload>`. Expiry is measured on **the Redis server's clock** (`TIME`,
read inside Lua scripts), so nodes whose clocks disagree still agree on what has expired.

- `set_agent` / `set_visitor` write the entry with an expiry `ttl` seconds ahead and remember it in
  this process; `None` deletes it from both places.
- `refresh()` rewrites every entry this process remembers with a fresh expiry. The server calls it
  every `ttl / 3` seconds. It also restores the entries after Redis restarted empty.
- `website_online` / `visitors_online` return only entries that have not expired, and delete the
  expired ones: the entries of a node that died vanish within `ttl` seconds.
- Each hash also expires as a whole `ttl` seconds after its last write, so a website nobody reads
  leaves nothing behind.

When Redis is unreachable every method raises `PresenceUnavailable` promptly (at once when the
connection is refused, after `timeout` seconds otherwise). The entry is remembered all the same,
and the first `refresh()` that gets through writes it. Needs Redis 5 or later (scripts that write
after reading `TIME`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from causerie.broker.redis_client import KEY_PREFIX, REDIS_DOWN, open_client
from causerie.domain.ports import operator_of_connection
from causerie.presence import PresenceUnavailable

# KEYS[1]: a hash; ARGV[1]: ttl in ms; then field, payload pairs. Writes them expiring in ttl.
_PUT = """
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
    redis.call('HSET', KEYS[1], ARGV[i], string.format('%d', expiry) .. '|' .. ARGV[i + 1])
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
"""

# KEYS[1]: a hash. Deletes its expired (or unreadable) fields, returns the live ones: field,
# payload, field, payload...
_LIVE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #entries, 2 do
    local value = entries[i + 1]
    local bar = string.find(value, '|', 1, true)
    local expiry = bar and tonumber(string.sub(value, 1, bar - 1))
    if expiry and expiry > now_ms then
        live[#live + 1] = entries[i]
        live[#live + 1] = string.sub(value, bar + 1)
    else
        redis.call('HDEL', KEYS[1], entries[i])
    end
end
return live
"""

_Entry = tuple[str, str]  # (hash key, connection id)


class RedisPresence:
    def __init__(self, url: str, ttl: float = 60.0, *, timeout: float = 1.0) -> None:
        self._client = open_client(url, timeout)
        self._ttl_ms = max(1, math.ceil(ttl * 1000))
        self._put = self._client.register_script(_PUT)
        self._live = self._client.register_script(_LIVE)
        self._mine: dict[_Entry, str] = {}  # the entries this process set, with their payload

    async def set_agent(self, website_id: str, connection_id: str, status: str | None) -> None:
        await self._set(_agents_key(website_id), connection_id, status)

    async def website_online(self, website_id: str) -> bool:
        return "online" in (await self._read(_agents_key(website_id))).values()

    async def agents_online(self, website_id: str) -> set[str]:
        agents = await self._read(_agents_key(website_id))
        return {operator_of_connection(key) for key, status in agents.items() if status == "online"}

    async def agent_connected(self, website_id: str, operator_id: str) -> bool:
        prefix = operator_id + "."
        return any(key.startswith(prefix) for key in await self._read(_agents_key(website_id)))

    async def set_visitor(
        self, website_id: str, connection_id: str, info: dict[str, Any] | None
    ) -> None:
        payload = None if info is None else json.dumps(info, separators=(",", ":"))
        await self._set(_visitors_key(website_id), connection_id, payload)

    async def visitors_online(self, website_id: str) -> list[dict[str, Any]]:
        live = await self._read(_visitors_key(website_id))
        return [json.loads(payload) for payload in live.values()]

    async def refresh(self) -> None:
        """Rewrite every entry of this process with a new expiry, in one round trip."""
        by_key: dict[str, list[str]] = {}
        for (key, connection_id), payload in self._mine.items():
            by_key.setdefault(key, []).extend((connection_id, payload))
        if not by_key:
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, pairs in by_key.items():
                    await self._put(keys=[key], args=[self._ttl_ms, *pairs], client=pipe)
                await pipe.execute()
        except REDIS_DOWN as exc:
            raise _unavailable(exc) from exc

    async def close(self) -> None:
        """Remove this process's entries (best effort: they expire anyway) and disconnect."""
        entries, self._mine = list(self._mine), {}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, connection_id in entries:
                    pipe.hdel(key, connection_id)
                await pipe.execute()
        except REDIS_DOWN:
            pass
        await self._client.aclose()

    async def _set(self, key: str, connection_id: str, payload: str | None) -> None:
        # Remembered before writing: if Redis is down now, the next refresh writes it.
        try:
            if payload is None:
                self._mine.pop((key, connection_id), None)
                await self._client.hdel(key, connection_id)
            else:
                self._mine[key, connection_id] = payload
                await self._put(keys=[key], args=[self._ttl_ms, connection_id, payload])
        except REDIS_DOWN as exc:
            raise _unavailable(exc) from exc

    async def _read(self, key: str) -> dict[str, str]:
        """The live entries of a hash: connection id -> payload."""
        try:
            live: list[bytes] = await self._live(keys=[key])
        except REDIS_DOWN as exc:
            raise _unavailable(exc) from exc
        return {live[i].decode(): live[i + 1].decode() for i in range(0, len(live), 2)}


def _agents_key(website_id: str) -> str:
    return f"{KEY_PREFIX}agents:{website_id}"


def _visitors_key(website_id: str) -> str:
    return f"{KEY_PREFIX}visitors:{website_id}"


def _unavailable(exc: BaseException) -> PresenceUnavailable:
    return PresenceUnavailable(f"Redis unreachable: {exc or type(exc).__name__}")
