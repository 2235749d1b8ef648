"""Acceptances of the data processing agreement, per website."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.models import DpaAcceptance


class DpaAcceptances(Protocol):
    async def insert(self, acceptance: DpaAcceptance) -> None: ...
    async def list_for_website(self, website_id: str) -> list[DpaAcceptance]:
        """Newest first, with the name of the operator who accepted when they still exist."""
        ...
