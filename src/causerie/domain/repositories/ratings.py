"""Visitors' ratings of resolved conversations (domain/ratings.py)."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.ratings import Rating


class Ratings(Protocol):
    async def put(self, rating: Rating) -> Rating:
        """Store the rating of its conversation's resolution, replacing an earlier rating of the
        same resolution (its id is kept); the rating as stored."""
        ...

    async def get_many(self, ids: list[str]) -> dict[str, Rating]: ...
    async def list_for_conversation(self, conversation_id: str) -> list[Rating]:
        """Oldest resolution first."""
        ...
