"""`SqlTeams`: teams, their members, and the reads and writes of assignment."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, delete, func, literal_column, select, update

from causerie.domain.models import Conversation, ConversationState
from causerie.domain.teams import Seat, Team, TeamMode
from causerie.store import codec
from causerie.store.db import Query, SqlRepository
from causerie.store.schema.accounts import team_members, teams, websites
from causerie.store.schema.chat import conversations


def _team(row: Row[Any], members: tuple[str, ...]) -> Team:
    return Team(
        id=row.id,
        website_id=row.website_id,
        name=row.name,
        mode=TeamMode(row.mode),
        capacity=row.capacity,
        created_at=row.created_at,
        members=members,
    )


# A prepared read of the teams alone: it does not run the writes a batch holds back (`Db`
# flushes them only before a statement that may touch their tables), so a visitor's new
# conversation, routed in its batch, leaves the website's rows unlocked until the batch's end.
_TEAMS_OF_WEBSITE = Query(
    select(teams)
    .where(teams.c.website_id == bindparam("w"))
    .order_by(teams.c.created_at, teams.c.id),
    codec.Codec(Team, list(teams.c)),
)


def waiting_query(team_id: str, limit: int) -> Select[Any]:
    """A team's queue, oldest first: its open conversations no one holds, read from the partial
    index `ix_conversations_waiting`, whose condition (`WAITING_ONLY`) the query implies (its
    `team_id = ?` implies `team_id IS NOT NULL`) with the state as a constant, so that
    PostgreSQL uses it in a generic plan too."""
    c = conversations
    return (
        select(c)
        .where(
            c.c.team_id == team_id,
            c.c.state == literal_column(f"'{ConversationState.OPEN.value}'"),
            c.c.assignee_id.is_(None),
        )
        .order_by(c.c.created_at, c.c.id)
        .limit(limit)
    )


class SqlTeams(SqlRepository):
    __slots__ = ()

    async def _members(self, team_ids: list[str]) -> dict[str, tuple[str, ...]]:
        if not team_ids:
            return {}
        rows = await self._db.execute(
            select(team_members.c.team_id, team_members.c.operator_id)
            .where(team_members.c.team_id.in_(team_ids))
            .order_by(team_members.c.operator_id)
        )
        out: dict[str, list[str]] = {}
        for row in rows:
            out.setdefault(row.team_id, []).append(row.operator_id)
        return {team_id: tuple(ids) for team_id, ids in out.items()}

    async def list_for_website(self, website_id: str) -> list[Team]:
        found = await self._db.fetch_all(_TEAMS_OF_WEBSITE, {"w": website_id})
        members = await self._members([team.id for team in found])
        return [replace(team, members=members.get(team.id, ())) for team in found]

    async def get(self, team_id: str) -> Team | None:
        row = await self._db.one(select(teams).where(teams.c.id == team_id))
        if row is None:
            return None
        return _team(row, (await self._members([team_id])).get(team_id, ()))

    async def insert(self, team: Team) -> None:
        await self._db.execute(
            teams.insert().values(
                id=team.id,
                website_id=team.website_id,
                name=team.name,
                mode=team.mode.value,
                capacity=team.capacity,
                created_at=team.created_at,
            )
        )
        await self.set_members(team.id, team.members)

    async def update(self, team_id: str, *, name: str, mode: TeamMode, capacity: int) -> None:
        await self._db.execute(
            update(teams)
            .where(teams.c.id == team_id)
            .values(name=name, mode=mode.value, capacity=capacity)
        )

    async def set_members(self, team_id: str, operator_ids: Collection[str]) -> None:
        wanted = set(operator_ids)
        where = team_members.c.team_id == team_id
        if wanted:
            await self._db.execute(
                delete(team_members).where(where, team_members.c.operator_id.not_in(wanted))
            )
        else:
            await self._db.execute(delete(team_members).where(where))
        current = {
            row.operator_id
            for row in await self._db.execute(select(team_members.c.operator_id).where(where))
        }
        new = sorted(wanted - current)
        if new:
            await self._db.execute(
                team_members.insert(),
                [{"team_id": team_id, "operator_id": o, "last_assigned_at": None} for o in new],
            )

    async def delete(self, team_id: str) -> bool:
        result = await self._db.execute(delete(teams).where(teams.c.id == team_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove_member_everywhere(self, website_id: str, operator_id: str) -> None:
        await self._db.execute(
            delete(team_members).where(
                team_members.c.operator_id == operator_id,
                team_members.c.team_id.in_(
                    select(teams.c.id).where(teams.c.website_id == website_id)
                ),
            )
        )

    async def lock_assignment(self, website_id: str) -> bool:
        # SQLite renders no FOR UPDATE: its one writer already serialises the transactions.
        row = await self._db.one(
            select(websites.c.id).where(websites.c.id == website_id).with_for_update(key_share=True)
        )
        return row is not None

    async def seats(self, team_id: str) -> list[Seat]:
        rows = await self._db.execute(
            select(team_members.c.operator_id, team_members.c.last_assigned_at)
            .where(team_members.c.team_id == team_id)
            .order_by(team_members.c.operator_id)
        )
        return [Seat(row.operator_id, row.last_assigned_at) for row in rows]

    async def mark_assigned(self, team_id: str, operator_id: str, at: datetime) -> None:
        await self._db.execute(
            update(team_members)
            .where(team_members.c.team_id == team_id, team_members.c.operator_id == operator_id)
            .values(last_assigned_at=at)
        )

    async def open_loads(self, website_id: str, operator_ids: Collection[str]) -> dict[str, int]:
        if not operator_ids:
            return {}
        rows = await self._db.execute(
            select(conversations.c.assignee_id, func.count().label("open"))
            .where(
                conversations.c.website_id == website_id,
                conversations.c.state == ConversationState.OPEN.value,
                conversations.c.assignee_id.in_(list(operator_ids)),
            )
            .group_by(conversations.c.assignee_id)
        )
        return {row.assignee_id: int(row.open) for row in rows}

    async def waiting(self, team_id: str, limit: int) -> list[Conversation]:
        rows = await self._db.execute(waiting_query(team_id, limit))
        return [codec.conversation(row) for row in rows]

    async def held_by(self, website_id: str, operator_id: str) -> list[Conversation]:
        rows = await self._db.execute(
            select(conversations).where(
                and_(
                    conversations.c.website_id == website_id,
                    conversations.c.assignee_id == operator_id,
                    conversations.c.state == ConversationState.OPEN.value,
                    conversations.c.team_id.is_not(None),
                )
            )
        )
        return [codec.conversation(row) for row in rows]

    async def route(
        self, conversation_id: str, team_id: str | None, assignee_id: str | None, at: datetime
    ) -> Conversation | None:
        where = conversations.c.id == conversation_id
        await self._db.execute(
            update(conversations)
            .where(where)
            .values(team_id=team_id, assignee_id=assignee_id, updated_at=at)
        )
        row = await self._db.one(select(conversations).where(where))
        return None if row is None else codec.conversation(row)
