"""The audit log: who did what, when, to which object."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.models import AuditEntry


class Audit(Protocol):
    async def insert(self, entry: AuditEntry) -> None: ...
    async def list_page(
        self,
        website_id: str,
        *,
        action: str | None,
        actor_id: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[AuditEntry]:
        """The website's own entries, newest first, before the cursor `before` (its time and
        id)."""
        ...
