"""Mail's storage (docs/notifications.md): operators' preferences, reply addresses, refused
addresses, visitors' unsubscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from causerie.domain.mail import MailFailure, ReplyAddress


class MailState(Protocol):
    async def get_preferences(self, operator_id: str) -> dict[str, Any]:
        """What the operator stored (empty when nothing): `mail.preferences_of` adds defaults."""
        ...

    async def get_preferences_of(self, operator_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Stored preferences of each of these operators that stored some."""
        ...

    async def set_preferences(
        self, operator_id: str, values: dict[str, Any], now: datetime
    ) -> None:
        """Replace what the operator stored."""
        ...

    async def insert_reply_address(self, address: ReplyAddress) -> None: ...
    async def get_reply_address(self, token_hash: str, now: datetime) -> ReplyAddress | None:
        """The address of this token's hash, unless it expired by `now`."""
        ...

    async def insert_failure(self, failure: MailFailure) -> None: ...
    async def has_failed(self, website_id: str, address: str) -> bool:
        """Whether the server refused `address` (compared without case) for this website."""
        ...

    async def list_failures(self, website_id: str, limit: int) -> list[MailFailure]:
        """Newest first."""
        ...

    async def opt_out(self, session_id: str, now: datetime) -> None:
        """The visitor unsubscribed (again: no change)."""
        ...

    async def opted_out(self, session_id: str) -> bool: ...
    async def opted_out_at(self, session_id: str) -> datetime | None: ...
    async def failures_of_session(self, session_id: str) -> list[MailFailure]:
        """The visitor's refused addresses (their data-subject export)."""
        ...
