"""Presence held in this process's memory: exact, and gone with the process."""

from __future__ import annotations

from typing import Any

from causerie.domain.ports import operator_of_connection


class MemoryPresence:
    def __init__(self) -> None:
        self._agents: dict[str, dict[str, str]] = {}
        self._visitors: dict[str, dict[str, dict[str, Any]]] = {}

    async def set_agent(self, website_id: str, connection_id: str, status: str | None) -> None:
        agents = self._agents.setdefault(website_id, {})
        if status is None:
            agents.pop(connection_id, None)
        else:
            agents[connection_id] = status
        if not agents:
            del self._agents[website_id]

    async def website_online(self, website_id: str) -> bool:
        agents = self._agents.get(website_id)
        return agents is not None and "online" in agents.values()

    async def agents_online(self, website_id: str) -> set[str]:
        agents = self._agents.get(website_id, {})
        return {operator_of_connection(key) for key, status in agents.items() if status == "online"}

    async def agent_connected(self, website_id: str, operator_id: str) -> bool:
        prefix = operator_id + "."
        return any(key.startswith(prefix) for key in self._agents.get(website_id, {}))

    async def set_visitor(
        self, website_id: str, connection_id: str, info: dict[str, Any] | None
    ) -> None:
        visitors = self._visitors.setdefault(website_id, {})
        if info is None:
            visitors.pop(connection_id, None)
        else:
            visitors[connection_id] = info
        if not visitors:
            del self._visitors[website_id]

    async def visitors_online(self, website_id: str) -> list[dict[str, Any]]:
        return list(self._visitors.get(website_id, {}).values())

    async def refresh(self) -> None:
        return None

    async def close(self) -> None:
        self._agents.clear()
        self._visitors.clear()
