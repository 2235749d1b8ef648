"""Memberships: which operator holds which role on which website."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.models import Member, Role, Website


class Members(Protocol):
    async def set_role(self, website_id: str, operator_id: str, role: Role, at: datetime) -> None:
        """Make the operator a member with `role`, or change the role they have."""
        ...

    async def get_role(self, operator_id: str, website_id: str) -> Role | None: ...
    async def list_for_operator(self, operator_id: str) -> list[tuple[Website, Role]]:
        """The operator's websites with their role, by name."""
        ...

    async def list_for_website(self, website_id: str) -> list[Member]:
        """The website's members, by name."""
        ...

    async def delete(self, website_id: str, operator_id: str) -> bool: ...
    async def count_owners(self, website_id: str) -> int: ...
