"""Sessions: a visitor's binding to a website (P13-P17), found by id or by its token's hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from causerie.domain.models import Conversation, PageView, Session


class Sessions(Protocol):
    async def get(self, session_id: str) -> Session | None: ...
    async def lock(self, session_id: str) -> Session | None:
        """The session as stored now, its row locked until the transaction ends (PostgreSQL),
        so that a profile change merged into it loses no other one made meanwhile."""
        ...

    async def get_by_token(
        self, token_hash: str, website_id: str | None = None
    ) -> Session | None: ...
    async def get_many(self, ids: list[str]) -> dict[str, Session]: ...
    async def get_with_conversation(
        self, session_id: str
    ) -> tuple[Session | None, Conversation | None]:
        """The session and its conversation (None until it has one), in one read. The
        conversation is as it is now, and stays so until the transaction ends: no other
        transaction changes it meanwhile (its row is locked)."""
        ...

    async def read_ahead(self, ids: list[str]) -> None:
        """Read these sessions and their conversations now, together (a batch of messages, one
        per part): `get_with_conversation` of one of them later in the transaction answers
        from this read, as the row is then (this transaction's own writes since included)."""
        ...

    async def find_by_email(self, email: str, website_ids: list[str] | None) -> list[Session]:
        """Sessions whose email is `email` whatever its case, on those websites (all if None)."""
        ...

    async def insert(self, session: Session, token_hash: str) -> None: ...
    async def record_visit(
        self,
        session_id: str,
        *,
        last_access_at: datetime,
        ip: str | None,
        page: PageView | None,
    ) -> None:
        """A chatbox load: the last access, and the address and page when they changed."""
        ...

    async def make_permanent(self, session_id: str, at: datetime) -> None:
        """A temporary session becomes permanent (P15); a permanent one is left as it is."""
        ...

    async def update_profile(
        self,
        session_id: str,
        *,
        nickname: str | None,
        email: str | None,
        phone: str | None,
        data: dict[str, Any],
    ) -> None: ...
    async def set_consent(
        self, session_id: str, version: int | None, at: datetime | None
    ) -> None: ...
    async def delete(self, session_id: str) -> bool:
        """Delete the session with its conversation and messages."""
        ...
