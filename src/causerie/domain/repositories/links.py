"""One-time links: invitations and password resets."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.models import AccountLink, Member, Role


class Links(Protocol):
    async def insert(self, link: AccountLink, token_hash: str) -> None: ...
    async def get_by_token(self, token_hash: str) -> AccountLink | None: ...
    async def delete(self, link_id: str) -> bool: ...
    async def delete_all(self, purpose: str, operator_id: str | None = None) -> None:
        """Every link of `purpose` (of one operator's, when given)."""
        ...

    async def get_invitation(
        self, website_id: str, operator_id: str, now: datetime
    ) -> AccountLink | None:
        """The website's unexpired invitation of the operator, if any."""
        ...

    async def list_invitations(self, website_id: str, now: datetime) -> list[Member]:
        """The people invited to the website whose link is unused and unexpired (pending)."""
        ...

    async def set_role(self, link_id: str, role: Role) -> None:
        """The role an invitation grants."""
        ...
