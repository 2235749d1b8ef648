"""Web Push subscriptions of operators' browsers, and each operator's choice of previews."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from causerie.domain.push import PushSubscription


class PushSubscriptions(Protocol):
    async def save(self, subscription: PushSubscription) -> None:
        """Store a subscription; one with the same endpoint (the same browser subscribing
        again, perhaps for another operator) is replaced."""
        ...

    async def get(self, subscription_id: str) -> PushSubscription | None: ...
    async def list_for_operators(self, operator_ids: Collection[str]) -> list[PushSubscription]:
        """Oldest first."""
        ...

    async def delete(self, subscription_id: str, operator_id: str | None = None) -> bool:
        """Remove one (only if it is `operator_id`'s, when given); False if there was none."""
        ...

    async def endpoints(self) -> list[str]:
        """Every stored endpoint: whom pushes go to (the processing register)."""
        ...

    async def previews(self, operator_id: str) -> bool:
        """Whether the operator chose to see message text in pushes (off unless chosen)."""
        ...

    async def set_previews(self, operator_id: str, on: bool) -> None: ...
