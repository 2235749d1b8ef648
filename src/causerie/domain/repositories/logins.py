"""Logins: an operator's sessions in the inbox (never called "sessions": that word is taken)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.models import Login


class Logins(Protocol):
    async def insert(self, login: Login, token_hash: str) -> None: ...
    async def get_by_token(self, token_hash: str) -> Login | None: ...
    async def extend(self, login_id: str, seen_at: datetime, expires_at: datetime) -> None: ...
    async def delete(self, login_id: str) -> None: ...
    async def delete_others(self, operator_id: str, keep_login_id: str | None) -> list[str]:
        """Every login of the operator but `keep_login_id` (all when None); the ids deleted."""
        ...
