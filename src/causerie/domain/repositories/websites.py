"""Websites: their rows, and the chatbox load's one read."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.models import Session, Website


class Websites(Protocol):
    async def insert(self, website: Website) -> None: ...
    async def get(self, website_id: str) -> Website | None: ...
    async def lock(self, website_id: str) -> Website | None:
        """The website as stored now, its row locked until the transaction ends (on PostgreSQL;
        SQLite's writers take turns): a change read from it, or a count of its objects checked
        against a limit, is not undone by another request's meanwhile."""
        ...

    async def list_all(self) -> list[Website]:
        """Oldest first."""
        ...

    async def update(self, website: Website) -> None:
        """Its name, origins and settings."""
        ...

    async def delete(self, website_id: str) -> int:
        """Delete the website and everything of it; returns how many conversations went."""
        ...

    async def get_with_session(
        self, website_id: str, token_hash: str | None
    ) -> tuple[Website | None, Session | None]:
        """The website, and the session of `token_hash` if it belongs to that website: the one
        read of a chatbox load."""
        ...
