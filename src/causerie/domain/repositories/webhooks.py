"""Webhooks and their delivery log, as the domain needs them stored (SQL in
store/repositories/webhooks.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from causerie.domain.webhooks import Delivery, Webhook


class Webhooks(Protocol):
    async def insert(self, webhook: Webhook) -> None: ...
    async def get(self, webhook_id: str) -> Webhook | None: ...
    async def list_for_website(self, website_id: str) -> list[Webhook]:
        """Every webhook of the website, enabled or not, oldest first."""
        ...

    async def save(self, webhook: Webhook) -> None:
        """Write every field of `webhook` but its id, website and creation time."""
        ...

    async def delete(self, webhook_id: str) -> bool: ...
    async def insert_deliveries(self, deliveries: list[Delivery]) -> None: ...
    async def get_delivery(self, delivery_id: str) -> Delivery | None: ...
    async def list_deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        """The webhook's latest deliveries, newest first."""
        ...

    async def save_delivery(self, delivery: Delivery) -> None:
        """Write the attempt fields of `delivery` (state, attempts, times, answer)."""
        ...

    async def fail_pending(self, webhook_id: str, error: str) -> int:
        """Every pending delivery of the webhook given up with `error` (it was disabled)."""
        ...

    async def delete_deliveries_before(self, cutoff: datetime) -> int:
        """The delivery log's entries created before `cutoff` are deleted; how many."""
        ...
