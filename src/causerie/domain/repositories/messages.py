"""Messages of a conversation, in order (`seq`), idempotent by their `client_id`."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.models import Message


class Messages(Protocol):
    async def insert(self, message: Message) -> bool:
        """False when the conversation already holds a message with that client_id."""
        ...

    async def get(self, conversation_id: str, message_id: str) -> Message | None: ...
    async def get_by_client_id(self, conversation_id: str, client_id: str) -> Message | None: ...
    async def get_many(self, ids: list[str]) -> dict[str, Message]: ...
    async def count(self, conversation_id: str) -> int: ...
    async def list_page(
        self,
        conversation_id: str,
        *,
        limit: int,
        before: str | None = None,
        include_notes: bool,
    ) -> list[Message]:
        """The `limit` messages before `before` (or the latest), oldest first."""
        ...
