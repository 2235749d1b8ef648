"""Conversations: one per session at most, with their state, assignee and read marks."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.models import Author, Conversation, ConversationState, ConversationSummary


class Conversations(Protocol):
    async def get(self, conversation_id: str) -> Conversation | None: ...
    async def get_by_session(self, session_id: str) -> Conversation | None: ...
    async def get_many(self, ids: list[str]) -> dict[str, Conversation]: ...
    async def insert(self, conversation: Conversation) -> bool:
        """False when the session already has one (a concurrent first message won)."""
        ...

    async def touch(
        self,
        conversation_id: str,
        at: datetime,
        *,
        reopen: bool,
        unread_for: Author | None,
        returning: bool = False,
    ) -> Conversation | None:
        """A message was added at `at`; with `returning`, the conversation as it is now. A
        conversation this transaction read with `Sessions.get_with_conversation` (its row locked
        since) may be written only at the commit, its touches merged: what the transaction
        reads of it meanwhile, and this returns, is already touched."""
        ...

    async def mark_read(self, conversation_id: str, reader: Author, up_to: str) -> str | None:
        """Move the reader's read mark forward to `up_to`: the id of the message the mark now
        names, or None if it was already there or past (or `up_to` is no message of it).

        A mark always names a message both sides see: `up_to` a private note or an event line
        sets it to the last visible message at or before it, since the visitor is told the
        operators' mark. The reader's unread count becomes the number of the other side's
        visible messages after the mark.
        """
        ...

    async def set_state(self, conversation_id: str, state: ConversationState, at: datetime) -> None:
        """Resolving also records `resolved_at` (the resolution a rating rates)."""
        ...

    async def idle(self, website_id: str, before: datetime, limit: int) -> list[Conversation]:
        """The website's open conversations whose last message is older than `before`, oldest
        first (auto-resolve), locked until the transaction ends. On PostgreSQL one that a
        transaction is writing to (a message arriving) is left for the next run, and one whose
        message committed since is seen as it is now, no longer idle."""
        ...

    async def set_assignee(
        self, conversation_id: str, operator_id: str | None, at: datetime
    ) -> None: ...
    async def unassign_all(self, website_id: str, operator_id: str, at: datetime) -> list[str]:
        """Unassign the operator from the website's conversations; returns their ids."""
        ...

    async def list_page(
        self,
        website_id: str,
        *,
        state: ConversationState | None,
        assignee: str | None,
        unassigned: bool,
        query: str | None,
        limit: int,
        after: tuple[datetime, str] | None,
        label: str | None = None,
        spam: bool = False,
    ) -> list[ConversationSummary]:
        """The inbox's list: newest activity first, after the cursor `after` (its last
        activity and id), matching `query` in the visitor's name or email or in a message,
        holding the label `label` if given. `spam`: only the conversations marked as spam,
        else only those not marked."""
        ...

    async def set_labels(
        self, conversation_id: str, labels: tuple[str, ...], at: datetime
    ) -> None: ...
    async def with_label(self, website_id: str, label_id: str) -> list[Conversation]:
        """The website's conversations that hold the label."""
        ...
