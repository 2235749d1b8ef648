"""Teams and automatic assignment (docs/inbox.md "Teams").

A team gathers some of a website's operators. In `round_robin` mode the conversations that wait
in it are given to its online members, each under `capacity` open conversations, the member
assigned longest ago first; in `manual` mode they wait for a member to take them. The choice is
made in one transaction holding the team's row (actions/assignment.py), so two nodes choosing at
once never give a member more than `capacity`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from causerie.domain.errors import Invalid

NAME_MAX = 100
CAPACITY_MAX = 100
MEMBERS_MAX = 200
DEFAULT_CAPACITY = 5


class TeamMode(StrEnum):
    ROUND_ROBIN = "round_robin"
    MANUAL = "manual"


@dataclass(frozen=True)
class Team:
    id: str
    website_id: str
    name: str
    mode: TeamMode
    capacity: int
    created_at: datetime
    members: tuple[str, ...] = ()  # operator ids


@dataclass(frozen=True)
class Seat:
    """A member as the round robin sees them: when they were last given a conversation."""

    operator_id: str
    last_assigned_at: datetime | None


def check_team_fields(
    name: str | None, mode: str | None, capacity: int | None, members: Collection[str] | None
) -> None:
    """Refuses a wrong name, mode, capacity or member list (None: not given)."""
    if name is not None and not 1 <= len(name.strip()) <= NAME_MAX:
        raise Invalid(f"name: 1 to {NAME_MAX} characters", "invalid_team")
    if mode is not None and mode not in TeamMode.__members__.values():
        raise Invalid("mode: round_robin or manual", "invalid_team")
    if capacity is not None and (isinstance(capacity, bool) or not 1 <= capacity <= CAPACITY_MAX):
        raise Invalid(
            f"capacity: a number of conversations from 1 to {CAPACITY_MAX}", "invalid_team"
        )
    if members is not None and len(set(members)) > MEMBERS_MAX:
        raise Invalid(f"members: at most {MEMBERS_MAX}", "invalid_team")


def choose(
    seats: list[Seat], online: Collection[str], load: Mapping[str, int], capacity: int
) -> str | None:
    """The member to give the next conversation: online, under `capacity` open conversations,
    assigned longest ago (never first; ties by fewer open conversations, then id). None: no one
    is free, the conversation waits."""
    free = [
        seat
        for seat in seats
        if seat.operator_id in online and load.get(seat.operator_id, 0) < capacity
    ]
    if not free:
        return None
    never = datetime.min.replace(tzinfo=None)

    def rank(seat: Seat) -> tuple[bool, datetime, int, str]:
        at = seat.last_assigned_at
        return (
            at is not None,
            never if at is None else at.replace(tzinfo=None),
            load.get(seat.operator_id, 0),
            seat.operator_id,
        )

    return min(free, key=rank).operator_id
