"""Teams of a website's operators, and transfers (docs/inbox.md "Teams"). Admins and owners
manage teams; every member sees them and transfers conversations."""

from __future__ import annotations

from causerie.actions.access import ANY_ROLE, MANAGERS, check_role
from causerie.actions.assignment import add_conversation, do_assign_waiting
from causerie.actions.audit import do_audit
from causerie.actions.events import Emitter
from causerie.actions.inbox import conversation_missing
from causerie.actions.reports import note_regrouped
from causerie.domain.errors import Invalid, NotFound, shown
from causerie.domain.events import EventType, Stream
from causerie.domain.languages import transferred_line
from causerie.domain.models import (
    Actor,
    Author,
    Conversation,
    Message,
    MessageType,
    Scope,
)
from causerie.domain.ports import Tx
from causerie.domain.reports import Dimension
from causerie.domain.teams import DEFAULT_CAPACITY, Team, TeamMode, check_team_fields
from causerie.domain.wire import message_json
from causerie.runtime import Runtime
from causerie.tokens import new_id


def _website_missing(website_id: str) -> NotFound:
    return NotFound(f"no website {shown(website_id)}", "website_not_found")


def _team_missing(team_id: str) -> NotFound:
    return NotFound(f"no team {shown(team_id)}", "team_not_found")


async def get_teams(rt: Runtime, actor: Actor, website_id: str) -> list[Team]:
    async with rt.store.read() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        return await tx.teams.list_for_website(website_id)


async def _check_members(tx: Tx, website_id: str, members: list[str]) -> list[str]:
    for operator_id in members:
        if await tx.members.get_role(operator_id, website_id) is None:
            raise NotFound(
                f"members: no operator {shown(operator_id)} on this website", "operator_not_found"
            )
    return sorted(set(members))


async def do_create_team(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    *,
    name: str,
    mode: str = TeamMode.ROUND_ROBIN,
    capacity: int = DEFAULT_CAPACITY,
    members: list[str] | None = None,
) -> Team:
    check_team_fields(name, mode, capacity, members)
    async with rt.store.transaction() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        team = Team(
            id=new_id(),
            website_id=website_id,
            name=name.strip(),
            mode=TeamMode(mode),
            capacity=capacity,
            created_at=rt.clock.now(),
            members=tuple(await _check_members(tx, website_id, members or [])),
        )
        await tx.teams.insert(team)
        await do_audit(
            rt,
            tx,
            actor,
            "team.create",
            target_type="team",
            target_id=team.id,
            website_id=website_id,
        )
    return team


async def _team(tx: Tx, actor: Actor, team_id: str, scope: Scope, website_id: str) -> Team:
    team = await tx.teams.get(team_id)
    if team is None or team.website_id != website_id:
        raise _team_missing(team_id)
    allowed = MANAGERS if scope is Scope.WRITE else ANY_ROLE
    await check_role(tx, actor, team.website_id, allowed, scope, missing=_team_missing(team_id))
    return team


async def do_update_team(
    rt: Runtime,
    actor: Actor,
    team_id: str,
    *,
    website_id: str,
    name: str | None = None,
    mode: str | None = None,
    capacity: int | None = None,
    members: list[str] | None = None,
) -> Team:
    check_team_fields(name, mode, capacity, members)
    async with rt.store.transaction() as tx:
        # Changes of a website's objects one after the other: a field left out keeps what a
        # change at the same moment wrote (docs/api.md, "Changes at once").
        await tx.websites.lock(website_id)
        team = await _team(tx, actor, team_id, Scope.WRITE, website_id)
        name = team.name if name is None else name.strip()
        new_mode = team.mode if mode is None else TeamMode(mode)
        new_capacity = team.capacity if capacity is None else capacity
        await tx.teams.update(team.id, name=name, mode=new_mode, capacity=new_capacity)
        kept = team.members
        if members is not None:
            kept = tuple(await _check_members(tx, team.website_id, members))
            await tx.teams.set_members(team.id, kept)
        await do_audit(
            rt,
            tx,
            actor,
            "team.update",
            target_type="team",
            target_id=team.id,
            website_id=team.website_id,
        )
    updated = Team(team.id, team.website_id, name, new_mode, new_capacity, team.created_at, kept)
    if updated.mode is TeamMode.ROUND_ROBIN:
        await do_assign_waiting(rt, team.website_id)  # more room, or new members
    return updated


async def do_delete_team(rt: Runtime, actor: Actor, team_id: str, *, website_id: str) -> None:
    """Its conversations stay with their assignee, or wait outside any team."""
    async with rt.store.transaction() as tx:
        team = await _team(tx, actor, team_id, Scope.WRITE, website_id)
        await tx.teams.delete(team.id)
        await tx.reports.forget(team.website_id, Dimension.TEAM, team.id)
        await do_audit(
            rt,
            tx,
            actor,
            "team.delete",
            target_type="team",
            target_id=team.id,
            website_id=team.website_id,
        )


async def do_transfer(
    rt: Runtime,
    actor: Actor,
    conversation_id: str,
    *,
    operator_id: str | None = None,
    team_id: str | None = None,
) -> Conversation:
    """Hand the conversation to an operator of its website, or to a team (where it waits, and a
    round-robin team assigns it). Adds an event line to the thread, seen by agents only."""
    if (operator_id is None) == (team_id is None):
        raise Invalid("give operator_id or team_id (one of the two)", "invalid_transfer")
    async with rt.store.transaction() as tx:
        conversation = await tx.conversations.get(conversation_id)
        missing = conversation_missing(conversation_id)
        if conversation is None:
            raise missing
        website_id = conversation.website_id
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.WRITE, missing=missing)
        now = rt.clock.now()
        if operator_id is not None:
            if await tx.members.get_role(operator_id, website_id) is None:
                raise NotFound(
                    f"no operator {shown(operator_id)} on this website", "operator_not_found"
                )
            target = await tx.operators.get(operator_id)
            assert target is not None
            updated = await tx.teams.route(conversation.id, conversation.team_id, operator_id, now)
            to = target.name
        else:
            assert team_id is not None
            team = await tx.teams.get(team_id)
            if team is None or team.website_id != website_id:
                raise _team_missing(team_id)
            updated = await tx.teams.route(conversation.id, team.id, None, now)
            to = team.name
        assert updated is not None
        await note_regrouped(tx, conversation, updated)
        by = await tx.operators.get(actor.operator_id) if actor.operator_id else None
        event, body = transferred_line(to, by.name if by else None)
        line = Message(
            id=new_id(),
            conversation_id=conversation.id,
            author=Author.SYSTEM,
            type=MessageType.EVENT,
            body=body,
            client_id=f"transfer:{new_id()}",
            created_at=now,
            operator_id=actor.operator_id,
            operator_name=by.name if by else None,
            event=event,
        )
        await tx.messages.insert(line)
        emitter = Emitter(rt)
        add_conversation(emitter, updated, was=conversation)
        emitter.add(
            Stream.of_website(website_id),
            EventType.MESSAGE_CREATED,
            line.id,
            {"message": message_json(line)},
            session_id=conversation.session_id,
        )
        await emitter.flush(tx)
        await do_audit(
            rt,
            tx,
            actor,
            "conversation.transfer",
            target_type="conversation",
            target_id=conversation.id,
            website_id=website_id,
            details={"operator_id": operator_id or "", "team_id": team_id or ""},
        )
    if team_id is not None:
        await do_assign_waiting(rt, website_id, team_id)
        async with rt.store.read() as tx:
            now_conversation = await tx.conversations.get(conversation_id)
        return now_conversation or updated
    return updated
