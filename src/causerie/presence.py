"""Who is online on this node: agents with a socket open and not away.

The real-time layer (docs/realtime.md, to come) registers agent sockets here; the chatbox load
reads it to show the website's availability.
"""

from __future__ import annotations

from collections import Counter


class Presence:
    def __init__(self) -> None:
        self._agents: Counter[str] = Counter()

    def agent_connected(self, website_id: str) -> None:
        self._agents[website_id] += 1

    def agent_disconnected(self, website_id: str) -> None:
        self._agents[website_id] -= 1
        if self._agents[website_id] <= 0:
            del self._agents[website_id]

    def agents_online(self, website_id: str) -> int:
        return self._agents.get(website_id, 0)
