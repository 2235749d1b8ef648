"""Canned replies: a website's prepared answers, one per shortcut (domain/replies.py)."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.replies import CannedReply


class CannedReplies(Protocol):
    async def list_for_website(self, website_id: str) -> list[CannedReply]:
        """The website's replies by shortcut."""
        ...

    async def get(self, website_id: str, reply_id: str) -> CannedReply | None:
        """The reply if it is this website's."""
        ...

    async def insert(self, reply: CannedReply) -> bool:
        """False (and nothing stored) when the website has a reply with that shortcut."""
        ...

    async def update(self, reply: CannedReply) -> bool:
        """Store the reply's shortcut, title, body and `updated_at`; False (and nothing
        changed) when another reply of the website has that shortcut."""
        ...

    async def delete(self, website_id: str, reply_id: str) -> bool: ...
