"""Teams, their members, and what assignment reads and writes (domain/teams.py)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from causerie.domain.models import Conversation
from causerie.domain.teams import Seat, Team, TeamMode


class Teams(Protocol):
    async def list_for_website(self, website_id: str) -> list[Team]:
        """The website's teams with their members, oldest first."""
        ...

    async def get(self, team_id: str) -> Team | None: ...
    async def insert(self, team: Team) -> None: ...
    async def update(self, team_id: str, *, name: str, mode: TeamMode, capacity: int) -> None: ...
    async def set_members(self, team_id: str, operator_ids: Collection[str]) -> None:
        """The team's members become exactly these (kept members keep their round-robin turn)."""
        ...

    async def delete(self, team_id: str) -> bool: ...
    async def remove_member_everywhere(self, website_id: str, operator_id: str) -> None:
        """The operator left the website: out of each of its teams."""
        ...

    async def lock_assignment(self, website_id: str) -> bool:
        """Hold the website's assignment until the transaction ends (PostgreSQL: its row `FOR NO
        KEY UPDATE`, which new sessions and conversations referring to it do not wait for;
        SQLite has one writer): assignments in a website are made one transaction at a time,
        each reading the loads the previous one left. False if the website is gone."""
        ...

    async def seats(self, team_id: str) -> list[Seat]: ...
    async def mark_assigned(self, team_id: str, operator_id: str, at: datetime) -> None: ...
    async def open_loads(self, website_id: str, operator_ids: Collection[str]) -> dict[str, int]:
        """How many open conversations of the website each operator holds."""
        ...

    async def waiting(self, team_id: str, limit: int) -> list[Conversation]:
        """The team's open, unassigned conversations, first come first."""
        ...

    async def held_by(self, website_id: str, operator_id: str) -> list[Conversation]:
        """The website's open conversations assigned to the operator, that came through a team."""
        ...

    async def route(
        self, conversation_id: str, team_id: str | None, assignee_id: str | None, at: datetime
    ) -> Conversation | None:
        """Set the conversation's team and assignee; the conversation as it is now."""
        ...
