"""API tokens: an operator's credentials for scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.models import ApiToken


class ApiTokens(Protocol):
    async def insert(self, token: ApiToken, token_hash: str) -> None: ...
    async def get_by_token(self, token_hash: str) -> ApiToken | None:
        """The token of `token_hash` unless it was revoked."""
        ...

    async def list_for_operator(self, operator_id: str) -> list[ApiToken]:
        """The operator's tokens not revoked, oldest first."""
        ...

    async def revoke(self, operator_id: str, token_id: str, at: datetime) -> bool: ...
    async def touch(self, token_id: str, at: datetime) -> None: ...
