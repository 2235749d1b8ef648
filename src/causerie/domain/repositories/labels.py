"""Labels: a website's names and colours for conversations (domain/labels.py).

Which labels a conversation has is the conversation's (`Conversations.set_labels`)."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.labels import Label


class Labels(Protocol):
    async def list_for_website(self, website_id: str) -> list[Label]:
        """The website's labels by name."""
        ...

    async def get(self, website_id: str, label_id: str) -> Label | None:
        """The label if it is this website's."""
        ...

    async def get_to_delete(self, website_id: str, label_id: str) -> Label | None:
        """The label if it is this website's, locked until the transaction ends: a conversation
        being given it waits, then finds it gone (PostgreSQL; SQLite's one writer already
        serialises them)."""
        ...

    async def keep(self, website_id: str, label_ids: tuple[str, ...]) -> set[str]:
        """Which of these labels are this website's, kept from deletion until the transaction
        ends (so that a conversation is never given a label deleted meanwhile)."""
        ...

    async def insert(self, label: Label) -> bool:
        """False (and nothing stored) when the website has a label of that name."""
        ...

    async def update(self, label: Label) -> bool:
        """Store the label's name and colour; False (and nothing changed) when another label
        of the website has that name."""
        ...

    async def delete(self, website_id: str, label_id: str) -> bool: ...
    async def count(self, website_id: str) -> int: ...
