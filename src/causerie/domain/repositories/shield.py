"""The shield's storage: block rules, and per-network counts when Redis holds none (P18)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from causerie.domain.shield import BlockRule


class ShieldStore(Protocol):
    async def insert_rule(self, rule: BlockRule) -> None: ...

    async def get_rule(self, rule_id: str) -> BlockRule | None: ...

    async def list_rules(self, website_id: str | None) -> list[BlockRule]:
        """A website's own rules, or (None) the server-wide ones, newest first."""
        ...

    async def rules_for(self, website_id: str, now: datetime) -> list[BlockRule]:
        """The rules that hold on `website_id` now: its own and the server-wide ones."""
        ...

    async def delete_rule(self, rule_id: str) -> bool: ...

    async def mark_spam(self, conversation_id: str, spam: bool) -> bool:
        """The conversation marked as spam (or not); True when that changed it."""
        ...

    async def add_counts(self, rows: Sequence[tuple[datetime, str, str, int]]) -> None:
        """Add each (window start, network, metric, n) to its count."""
        ...

    async def read_counts(self, since: datetime) -> list[tuple[datetime, str, str, int]]: ...

    async def purge_counts(self, before: datetime) -> int: ...
