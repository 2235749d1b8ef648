"""Web Push subscriptions of operators' browsers, and each operator's choice of previews."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from causerie.domain.push import PushSubscription


class PushSubscriptions(Protocol):
    async def save(self, subscription: PushSubscription) -> None:
        """Store a subscription; one with the same endpoint (the same browser subscribing
        again, perhaps for another operator) is replaced."""
        ...

    async def get(self, subscription_id: str) -> PushSubscription | None: ...
    async def get_live(self, subscription_id: str, now: datetime) -> PushSubscription | None:
        """The subscription while the credential it was made with lasts: its login not expired
        at `now`, its API token not revoked (one made with neither lasts)."""
        ...

    async def list_for_operators(self, operator_ids: Collection[str]) -> list[PushSubscription]:
        """Oldest first."""
        ...

    async def delete(self, subscription_id: str, operator_id: str | None = None) -> bool:
        """Remove one (only if it is `operator_id`'s, when given); False if there was none."""
        ...

    async def delete_for_token(self, token_id: str) -> None:
        """Remove the subscriptions made with an API token (it was revoked)."""
        ...

    async def endpoints(self) -> list[str]:
        """Every stored endpoint: whom pushes go to (the processing register)."""
        ...

    async def previews(self, operator_id: str) -> bool:
        """Whether the operator chose to see message text in pushes (off unless chosen)."""
        ...

    async def set_previews(self, operator_id: str, on: bool) -> None: ...
