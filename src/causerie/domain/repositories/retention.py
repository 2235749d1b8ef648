"""What the purge finds and destroys (domain/retention.py says when), and its runs' record."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.retention import Rule


class Retention(Protocol):
    async def count_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        website_id: str | None = None,
        newer_than: datetime | None = None,
        *,
        copied_before: datetime | None = None,
    ) -> int:
        """What `rule` expires at `cutoff`; with `newer_than`, only rows past it (a website's
        stricter rule counts what the server's own cut-off does not already take). For
        `expired_blocks`, `copied_before` is the chat IP cut-off: the rules "block this visitor"
        made from an address recorded before it go too, whatever their own expiry (P18)."""
        ...

    async def list_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        limit: int,
        website_id: str | None = None,
        newer_than: datetime | None = None,
        *,
        copied_before: datetime | None = None,
    ) -> list[str]:
        """Ids of up to `limit` rows that `rule` removes (or clears) at `cutoff`."""
        ...

    async def purge_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        ids: list[str],
        website_id: str | None = None,
        newer_than: datetime | None = None,
        *,
        copied_before: datetime | None = None,
    ) -> int:
        """Remove (or clear) those of `ids` that `rule` still expires; returns how many."""
        ...

    async def record_run(self, at: datetime, dry_run: bool, counts: dict[str, int]) -> None: ...
