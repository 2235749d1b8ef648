"""The files of the chat (messages of type `file`): their rows; the bytes are in `rt.files`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from causerie.domain.files import FileRecord, PlacedFile


class Files(Protocol):
    async def insert(self, record: FileRecord) -> None: ...

    async def get_placed(self, file_id: str) -> PlacedFile | None:
        """The file with its conversation; None if unknown or its message is gone."""
        ...

    async def list_for_sessions(self, session_ids: Collection[str]) -> list[PlacedFile]:
        """The files of these sessions' conversations (an export), oldest first."""
        ...

    async def take_orphans(self, limit: int) -> list[str]:
        """Delete up to `limit` rows whose message is gone (deleted with its conversation or
        session) and return the store keys they held: the caller deletes those bytes."""
        ...

    async def count_expiring(
        self, cutoff: datetime, website_id: str | None, newer_than: datetime | None
    ) -> int: ...

    async def expire(
        self,
        cutoff: datetime,
        at: datetime,
        limit: int,
        website_id: str | None,
        newer_than: datetime | None,
    ) -> tuple[int, list[str]]:
        """Mark up to `limit` files stored before `cutoff` (after `newer_than`; of one website
        or all) expired at `at`, dropping their keys: how many, and the keys to delete."""
        ...

    async def known_keys(self, keys: Collection[str]) -> set[str]:
        """Which of `keys` a row still holds (as its file or its thumbnail)."""
        ...
