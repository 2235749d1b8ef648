"""Automatic assignment of conversations within teams (docs/inbox.md "Teams").

A conversation a visitor starts joins the website's first team (the oldest). In a
`round_robin` team, the `assignment` job gives each waiting conversation to an online member
under the team's capacity, the member assigned longest ago first. The choice is made in one
transaction that first holds the website's assignment (`tx.teams.lock_assignment`: its row
`FOR NO KEY UPDATE` on PostgreSQL; SQLite's one writer), then reads the teams and the members'
loads (an agent's load counts across teams): two nodes assigning at once take turns, and the
second sees what the first gave, so no member is given more than the capacity.

Waiting conversations are assigned when capacity frees or a member comes online: resolving a
conversation and an agent's socket going online queue the job. An agent whose last socket
closes and who stays away for `AWAY_GRACE` has their open team conversations handed to others
(the `assignment.away` job).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from causerie.actions.events import Emitter
from causerie.actions.jobs import do_enqueue
from causerie.actions.reports import note_regrouped
from causerie.domain.errors import Unavailable
from causerie.domain.events import EventType
from causerie.domain.jobs import Job, JobKind
from causerie.domain.models import Conversation
from causerie.domain.ports import Tx
from causerie.domain.teams import Team, TeamMode, choose
from causerie.domain.wire import conversation_json, visitor_and_agents
from causerie.runtime import Runtime

log = logging.getLogger("causerie.assignment")

AWAY_GRACE = timedelta(minutes=1)  # a reload or a short network cut keeps one's conversations
PASS_LIMIT = 200  # waiting conversations looked at per team and pass


def add_conversation(
    emitter: Emitter, conversation: Conversation, *, was: Conversation | None = None
) -> None:
    """`conversation.updated` for the website's agents and for the visitor, each their view;
    the visitor's only when their view changed from `was` (an assignment does not change it)."""
    for stream, for_visitor in visitor_and_agents(conversation, was):
        emitter.add(
            stream,
            EventType.CONVERSATION_UPDATED,
            conversation.id,
            {"conversation": conversation_json(conversation, for_visitor=for_visitor)},
            session_id=conversation.session_id,
        )


async def do_route_new(rt: Runtime, tx: Tx, conversation: Conversation) -> Conversation:
    """A visitor started `conversation` (in `tx`): it joins the website's first team, and a
    round-robin team's assignment is queued. Returns the conversation as it is now."""
    teams = await tx.teams.list_for_website(conversation.website_id)
    if not teams:
        return conversation
    team = teams[0]
    routed = await tx.teams.route(conversation.id, team.id, None, rt.clock.now())
    if routed is not None:
        await note_regrouped(tx, conversation, routed)
    if team.mode is TeamMode.ROUND_ROBIN:
        await do_queue_assignment(rt, tx, conversation.website_id)
    return routed or conversation


async def do_queue_assignment(rt: Runtime, tx: Tx, website_id: str) -> None:
    """Assign the website's waiting conversations soon (after `tx` commits, on some node)."""
    await do_enqueue(rt, tx, JobKind.ASSIGNMENT, payload={"website_id": website_id})


async def _online(rt: Runtime, website_id: str) -> set[str]:
    try:
        return await rt.presence.agents_online(website_id)
    except Unavailable as exc:
        # Nobody is known to be online: conversations wait, and are assigned at the next event.
        log.warning("presence unavailable (%s): assignment waits", exc)
        return set()


async def do_assign_waiting(
    rt: Runtime, website_id: str, team_id: str | None = None
) -> list[Conversation]:
    """Give each waiting conversation of the website's round-robin teams (or of one team) to a
    free online member; the conversations assigned. Harmless when repeated (a job runs at
    least once)."""
    online = await _online(rt, website_id)
    assigned: list[Conversation] = []
    if not online:
        return assigned
    async with rt.store.transaction() as tx:
        # Everything below is read after the lock: what another node assigned has committed.
        if not await tx.teams.lock_assignment(website_id):
            return assigned
        emitter = Emitter(rt)
        for team in await tx.teams.list_for_website(website_id):
            if team_id is not None and team.id != team_id:
                continue
            if team.mode is TeamMode.ROUND_ROBIN and online.intersection(team.members):
                assigned += await _fill(rt, tx, emitter, team, online)
        await emitter.flush(tx)
    return assigned


async def _fill(
    rt: Runtime, tx: Tx, emitter: Emitter, team: Team, online: set[str]
) -> list[Conversation]:
    waiting = await tx.teams.waiting(team.id, PASS_LIMIT)
    if not waiting:
        return []
    seats = await tx.teams.seats(team.id)
    load = await tx.teams.open_loads(team.website_id, [seat.operator_id for seat in seats])
    now = rt.clock.now()
    out = []
    for conversation in waiting:
        chosen = choose(seats, online, load, team.capacity)
        if chosen is None:
            break
        updated = await tx.teams.route(conversation.id, team.id, chosen, now)
        await tx.teams.mark_assigned(team.id, chosen, now)
        seats = [replace(s, last_assigned_at=now) if s.operator_id == chosen else s for s in seats]
        load[chosen] = load.get(chosen, 0) + 1
        if updated is not None:
            add_conversation(emitter, updated, was=conversation)
            out.append(updated)
    return out


async def do_agent_presence(
    rt: Runtime, website_id: str, operator_id: str, status: str | None
) -> None:
    """An agent's socket went online (assign what waits) or the agent left or went away (hand
    their conversations on after `AWAY_GRACE` unless they are back online by then)."""
    async with rt.store.read() as tx:  # most websites have no team: nothing to write
        if not await _has_round_robin(tx, website_id):
            return
    async with rt.store.transaction() as tx:
        if status == "online":
            await do_queue_assignment(rt, tx, website_id)
        else:
            await do_enqueue(
                rt,
                tx,
                JobKind.ASSIGNMENT_AWAY,
                delay=AWAY_GRACE,
                key=f"{JobKind.ASSIGNMENT_AWAY}:{website_id}:{operator_id}",
                payload={"website_id": website_id, "operator_id": operator_id},
            )


async def _has_round_robin(tx: Tx, website_id: str) -> bool:
    return any(
        team.mode is TeamMode.ROUND_ROBIN for team in await tx.teams.list_for_website(website_id)
    )


async def do_reassign_away(rt: Runtime, website_id: str, operator_id: str) -> list[str]:
    """The agent is still not online: their open conversations of round-robin teams go back to
    wait in their team and are assigned to others; the ids handed on."""
    if operator_id in await _online(rt, website_id):
        return []
    async with rt.store.transaction() as tx:
        round_robin = {
            team.id
            for team in await tx.teams.list_for_website(website_id)
            if team.mode is TeamMode.ROUND_ROBIN
        }
        emitter = Emitter(rt)
        moved = []
        now = rt.clock.now()
        for conversation in await tx.teams.held_by(website_id, operator_id):
            if conversation.team_id in round_robin:
                updated = await tx.teams.route(conversation.id, conversation.team_id, None, now)
                if updated is not None:
                    add_conversation(emitter, updated, was=conversation)
                    moved.append(conversation.id)
        await emitter.flush(tx)
    if moved:
        await do_assign_waiting(rt, website_id)
    return moved


async def run_assignment(rt: Runtime, job: Job) -> None:
    await do_assign_waiting(rt, str(job.payload["website_id"]))


async def run_assignment_away(rt: Runtime, job: Job) -> None:
    await do_reassign_away(rt, str(job.payload["website_id"]), str(job.payload["operator_id"]))
