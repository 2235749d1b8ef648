"""Teams and automatic assignment and transfers (docs/inbox.md), at the
action level on SQLite and PostgreSQL: what each action stores, and the events agents and
visitors hear (read back from the event log as a reconnecting client would get them).

Presence is the in-process one; the clock is the test's ManualClock, moved rather than waited
for; background jobs are run by the same function every node runs.
Ratings and auto-resolve: tests/test_ratings_auto_resolve.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from causerie.actions.assignment import AWAY_GRACE, do_assign_waiting
from causerie.actions.inbox import do_assign, do_set_state, get_thread
from causerie.actions.members import do_remove_member
from causerie.actions.messages import get_visitor_messages
from causerie.actions.teams import do_create_team, do_delete_team, do_transfer, do_update_team
from causerie.domain.errors import Forbidden, Invalid, NotFound
from causerie.domain.events import Stream
from causerie.domain.models import Actor, ConversationState, MessageType
from causerie.domain.ports import Tx, agent_connection_id
from causerie.domain.ratings import Rating
from causerie.domain.teams import Seat, Team, TeamMode
from causerie.domain.wire import message_json
from causerie.wiring import build_runtime, close_runtime, start_runtime
from tests.conftest import ORIGIN, Harness, Site
from tests.teams_support import (
    CLI,
    SQLITE,
    assignee_of,
    frames_of,
    in_tx,
    online,
    operator,
    run_jobs,
    start,
)


@SQLITE
def test_round_robin_assigns_online_members_under_capacity_then_waits(
    harness: Harness, site: Site
) -> None:
    agent, admin = site.operator_ids["agent"], site.operator_ids["admin"]
    team = harness.run(
        do_create_team(
            harness.rt,
            operator(site, "admin"),
            site.website_id,
            name="Support",
            capacity=1,
            members=[agent, admin],
        )
    )
    assert team.mode is TeamMode.ROUND_ROBIN and team.members == tuple(sorted([agent, admin]))
    online(harness, site, "agent")  # the admin is offline: never chosen
    run_jobs(harness)
    first = start(harness, site)[2]
    run_jobs(harness)
    assert assignee_of(harness, first) == agent
    second = start(harness, site)[2]
    run_jobs(harness)
    assert assignee_of(harness, second) is None  # the agent is at capacity: it waits in the team
    thread = harness.run(get_thread(harness.rt, CLI, second))
    assert thread.conversation.team_id == team.id

    online(harness, site, "admin")  # a member comes online: what waits is assigned
    run_jobs(harness)
    assert assignee_of(harness, second) == admin
    third = start(harness, site)[2]
    run_jobs(harness)
    assert assignee_of(harness, third) is None
    # Capacity frees when a conversation is resolved: the waiting one is assigned.
    harness.run(
        do_set_state(harness.rt, operator(site, "agent"), first, ConversationState.RESOLVED)
    )
    run_jobs(harness)
    assert assignee_of(harness, third) == agent
    # Agents heard of each assignment on the website's stream.
    updates = [
        f["conversation"]
        for f in frames_of(harness, Stream.of_website(site.website_id))
        if f["type"] == "conversation.updated" and f["conversation"]["id"] == third
    ]
    assert updates[-1]["assignee_id"] == agent and updates[-1]["team_id"] == team.id


@SQLITE
def test_an_agent_who_stays_away_has_their_conversations_handed_on(
    harness: Harness, site: Site
) -> None:
    agent, admin = site.operator_ids["agent"], site.operator_ids["admin"]
    harness.run(
        do_create_team(
            harness.rt, CLI, site.website_id, name="Sales", capacity=5, members=[agent, admin]
        )
    )
    online(harness, site, "agent")
    conversation = start(harness, site)[2]
    run_jobs(harness)
    assert assignee_of(harness, conversation) == agent
    online(harness, site, "admin")
    online(harness, site, "agent", status=None)  # the socket closed
    run_jobs(harness)
    assert assignee_of(harness, conversation) == agent  # a reload keeps one's conversations
    harness.clock.advance(AWAY_GRACE + timedelta(seconds=1))
    run_jobs(harness)
    assert assignee_of(harness, conversation) == admin


@SQLITE
def test_an_agent_back_within_the_grace_keeps_their_conversations(
    harness: Harness, site: Site
) -> None:
    agent, admin = site.operator_ids["agent"], site.operator_ids["admin"]
    harness.run(do_create_team(harness.rt, CLI, site.website_id, name="S", members=[agent, admin]))
    online(harness, site, "agent", "admin")
    run_jobs(harness)
    conversations = [start(harness, site)[2] for _ in range(2)]
    run_jobs(harness)
    assert {assignee_of(harness, c) for c in conversations} == {agent, admin}  # turn by turn
    held = next(c for c in conversations if assignee_of(harness, c) == agent)
    online(harness, site, "agent", status=None)
    online(harness, site, "agent")
    harness.clock.advance(AWAY_GRACE + timedelta(seconds=1))
    run_jobs(harness)
    assert assignee_of(harness, held) == agent


@SQLITE
def test_transfer_to_an_operator_or_a_team_leaves_an_agents_only_line(
    harness: Harness, site: Site
) -> None:
    admin = site.operator_ids["admin"]
    manual = harness.run(
        do_create_team(
            harness.rt, CLI, site.website_id, name="Billing", mode="manual", members=[admin]
        )
    )
    token, _, conversation = start(harness, site)
    agent = operator(site, "agent")
    moved = harness.run(do_transfer(harness.rt, agent, conversation, operator_id=admin))
    assert moved.assignee_id == admin
    moved = harness.run(do_transfer(harness.rt, agent, conversation, team_id=manual.id))
    assert moved.assignee_id is None and moved.team_id == manual.id  # manual: it waits
    lines = [
        m
        for m in harness.run(get_thread(harness.rt, CLI, conversation)).messages
        if m.type is MessageType.EVENT
    ]
    assert len(lines) == 2 and all(m.operator_id == site.operator_ids["agent"] for m in lines)
    assert lines[0].body.startswith("Transferred to ") and " by " in lines[0].body
    assert lines[1].body.startswith("Transferred to Billing by ")
    # Stored as a kind and its parameters, which the inbox words in its reader's language.
    agent_name = lines[1].operator_name
    assert lines[1].event == {"kind": "transferred", "to": "Billing", "by": agent_name}
    assert lines[0].event is not None and lines[0].event["kind"] == "transferred"
    assert message_json(lines[1])["event"] == lines[1].event
    seen = harness.run(
        get_visitor_messages(harness.rt, token=token, origin=ORIGIN, before=None, limit=50)
    )
    assert [m.type for m in seen] == [MessageType.TEXT]  # the visitor never sees the lines
    agents = frames_of(harness, Stream.of_website(site.website_id))
    assert (
        sum(f["type"] == "message.created" and f["message"]["type"] == "event" for f in agents) == 2
    )
    with pytest.raises(Invalid):
        harness.run(do_transfer(harness.rt, agent, conversation))
    with pytest.raises(NotFound):
        harness.run(do_transfer(harness.rt, agent, conversation, team_id="nope"))
    with pytest.raises(NotFound):
        harness.run(
            do_transfer(
                harness.rt, agent, conversation, operator_id=site.operator_ids["other_owner"]
            )
        )


def test_assignments_and_transfers_tell_the_visitor_nothing(harness: Harness, site: Site) -> None:
    """Each assignment or transfer sent the visitor a `conversation.updated` whose view (id,
    state, unread, read marks) had not changed: the visitor could tell when agents handed them
    on. Agents hear each; the visitor hears what changes their view (a resolution)."""
    agent, admin = site.operator_ids["agent"], site.operator_ids["admin"]
    team = harness.run(
        do_create_team(harness.rt, CLI, site.website_id, name="Support", members=[agent, admin])
    )
    _, session_id, conversation = start(harness, site)

    def told(stream: Stream) -> list[dict[str, Any]]:
        return [
            f["conversation"]
            for f in frames_of(harness, stream)
            if f["type"] == "conversation.updated" and f["conversation"]["id"] == conversation
        ]

    visitor, agents = Stream.of_session(session_id), Stream.of_website(site.website_id)
    before, agents_before = len(told(visitor)), len(told(agents))
    harness.run(do_assign(harness.rt, CLI, conversation, admin))
    harness.run(do_transfer(harness.rt, operator(site, "admin"), conversation, operator_id=agent))
    online(harness, site, "agent")
    harness.run(do_transfer(harness.rt, CLI, conversation, team_id=team.id))  # assigned at once
    assert assignee_of(harness, conversation) == agent
    online(harness, site, "admin")
    online(harness, site, "agent", status=None)
    harness.clock.advance(AWAY_GRACE + timedelta(seconds=1))
    run_jobs(harness)  # the agent stayed away: handed on to the admin
    assert assignee_of(harness, conversation) == admin
    harness.run(do_remove_member(harness.rt, CLI, site.website_id, admin))
    assert assignee_of(harness, conversation) is None
    assert len(told(agents)) >= agents_before + 5  # (replayed as the conversation is now)
    assert len(told(visitor)) == before

    harness.run(do_set_state(harness.rt, CLI, conversation, ConversationState.RESOLVED))
    after = told(visitor)[before:]
    assert len(after) == 1 and set(after[0]) == {"id", "state", "unread", "read_up_to"}


@SQLITE
def test_teams_are_managed_by_admins_and_checked(harness: Harness, site: Site) -> None:
    agent = operator(site, "agent")
    with pytest.raises(Forbidden):
        harness.run(do_create_team(harness.rt, agent, site.website_id, name="X"))
    with pytest.raises(Invalid):
        harness.run(do_create_team(harness.rt, CLI, site.website_id, name="X", capacity=0))
    with pytest.raises(Invalid):
        harness.run(do_create_team(harness.rt, CLI, site.website_id, name="X", mode="random"))
    with pytest.raises(NotFound):
        harness.run(
            do_create_team(
                harness.rt,
                CLI,
                site.website_id,
                name="X",
                members=[site.operator_ids["other_owner"]],
            )
        )
    team = harness.run(do_create_team(harness.rt, CLI, site.website_id, name="X"))
    other = Actor("operator", operator_id=site.operator_ids["other_owner"])
    with pytest.raises(NotFound):
        harness.run(
            do_update_team(harness.rt, other, team.id, website_id=site.website_id, name="Y")
        )
    changed = harness.run(
        do_update_team(
            harness.rt,
            CLI,
            team.id,
            website_id=site.website_id,
            name=" Y ",
            capacity=3,
            members=[site.operator_ids["agent"]],
        )
    )
    assert (changed.name, changed.capacity, changed.members) == (
        "Y",
        3,
        (site.operator_ids["agent"],),
    )
    harness.run(do_delete_team(harness.rt, CLI, team.id, website_id=site.website_id))
    with pytest.raises(NotFound):
        harness.run(do_delete_team(harness.rt, CLI, team.id, website_id=site.website_id))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # two nodes share it
def test_two_nodes_assigning_at_once_never_pass_capacity(harness: Harness, site: Site) -> None:
    """Two runtimes on one database fill two teams that share an agent, at once, round after
    round: the agent never holds more than the capacity (one), since each pass holds the
    website's assignment while it reads the loads and assigns."""
    agent = site.operator_ids["agent"]
    teams = [
        harness.run(
            do_create_team(harness.rt, CLI, site.website_id, name=n, capacity=1, members=[agent])
        )
        for n in ("One", "Two")
    ]
    second = build_runtime(harness.settings, harness.clock)
    harness.run(start_runtime(second))
    try:
        for rt in (harness.rt, second):
            harness.run(
                rt.presence.set_agent(site.website_id, agent_connection_id(agent, "s"), "online")
            )
        for _ in range(5):
            waiting = [start(harness, site)[2] for _ in range(2)]
            for conversation, team in zip(waiting, teams, strict=True):
                harness.run(do_transfer(harness.rt, CLI, conversation, team_id=team.id))
            # Each waits in its team (or the transfer's own pass gave it to the agent):
            # release both, then race.
            for conversation in waiting:
                harness.execute(
                    "UPDATE conversations SET assignee_id = NULL WHERE id = :id", id=conversation
                )

            async def race() -> None:
                await asyncio.gather(
                    do_assign_waiting(harness.rt, site.website_id, teams[0].id),
                    do_assign_waiting(second, site.website_id, teams[1].id),
                )

            harness.run(race())
            held = harness.scalar(
                "SELECT count(*) FROM conversations WHERE assignee_id = :a AND state = 'open'",
                a=agent,
            )
            assert held == 1
            harness.execute("UPDATE conversations SET state = 'resolved'")
    finally:
        harness.run(close_runtime(second))


def test_teams_and_ratings_repositories_read_back_what_they_wrote(
    harness: Harness, site: Site
) -> None:
    """The contract of `tx.teams` and `tx.ratings` (domain/repositories/), on both databases."""
    agent, admin = site.operator_ids["agent"], site.operator_ids["admin"]
    now = harness.clock.now()
    team = Team("t" * 24, site.website_id, "Support", TeamMode.ROUND_ROBIN, 2, now, (agent,))
    first = start(harness, site)[2]
    harness.clock.advance(timedelta(seconds=1))  # first come, first served
    second = start(harness, site)[2]

    async def write(tx: Tx) -> None:
        await tx.teams.insert(team)
        await tx.teams.mark_assigned(team.id, agent, now)
        await tx.teams.set_members(team.id, [agent, admin])  # the agent keeps their turn
        assert await tx.teams.seats(team.id) == sorted(
            [Seat(agent, now), Seat(admin, None)], key=lambda s: s.operator_id
        )
        assert await tx.teams.get(team.id) == replace(team, members=tuple(sorted([agent, admin])))
        assert [t.id for t in await tx.teams.list_for_website(site.website_id)] == [team.id]
        assert await tx.teams.lock_assignment(site.website_id)
        assert not await tx.teams.lock_assignment("nope")
        for conversation in (first, second):
            await tx.teams.route(conversation, team.id, None, now)
        assert [c.id for c in await tx.teams.waiting(team.id, 10)] == [first, second]
        routed = await tx.teams.route(first, team.id, agent, now)
        assert routed is not None and (routed.team_id, routed.assignee_id) == (team.id, agent)
        assert [c.id for c in await tx.teams.waiting(team.id, 10)] == [second]
        assert await tx.teams.open_loads(site.website_id, [agent, admin]) == {agent: 1}
        assert [c.id for c in await tx.teams.held_by(site.website_id, agent)] == [first]
        await tx.teams.update(team.id, name="Help", mode=TeamMode.MANUAL, capacity=3)
        changed = await tx.teams.get(team.id)
        assert changed is not None and (changed.name, changed.mode, changed.capacity) == (
            "Help",
            TeamMode.MANUAL,
            3,
        )
        await tx.teams.remove_member_everywhere(site.website_id, admin)
        assert [s.operator_id for s in await tx.teams.seats(team.id)] == [agent]

        await tx.conversations.set_state(first, ConversationState.RESOLVED, now)
        resolved = await tx.conversations.get(first)
        assert resolved is not None and resolved.resolved_at == now
        rating = Rating("r" * 24, site.website_id, first, agent, now, 3, "ok", now)
        assert await tx.ratings.put(rating) == rating
        again = replace(rating, id="s" * 24, rating=5, comment=None)
        assert await tx.ratings.put(again) == replace(again, id=rating.id)  # replaced, same id
        assert await tx.ratings.get_many([rating.id]) == {rating.id: replace(again, id=rating.id)}
        assert await tx.ratings.list_for_conversation(first) == [replace(again, id=rating.id)]

        assert await tx.teams.delete(team.id)
        assert not await tx.teams.delete(team.id)
        gone = await tx.conversations.get(second)
        assert gone is not None and gone.team_id is None  # SET NULL

    in_tx(harness, write)
