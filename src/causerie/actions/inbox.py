"""What agents do to conversations from the inbox or the API: list, open, assign, resolve,
reopen, and correct a visitor's profile. Each change reaches agents' and visitors' sockets as an
event (docs/realtime.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from causerie.actions.access import ANY_ROLE, check_role
from causerie.actions.assignment import do_queue_assignment
from causerie.actions.audit import do_audit
from causerie.actions.events import do_emit
from causerie.actions.profiles import UNSET, apply_profile, checked_changes
from causerie.actions.reports import note_resolved
from causerie.actions.webhook_queue import Occurrence, do_queue_webhooks
from causerie.domain.cursors import decode_cursor, encode_cursor
from causerie.domain.errors import NotFound, shown
from causerie.domain.events import EventType
from causerie.domain.models import (
    Actor,
    Conversation,
    ConversationState,
    ConversationSummary,
    Message,
    Operator,
    Scope,
    Session,
)
from causerie.domain.ports import Tx
from causerie.domain.ratings import Rating
from causerie.domain.webhooks import WebhookEvent
from causerie.domain.wire import conversation_json, visitor_and_agents
from causerie.runtime import Runtime

THREAD_PAGE = 50


def conversation_missing(conversation_id: str) -> NotFound:
    return NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")


def session_missing(session_id: str) -> NotFound:
    return NotFound(f"no session {shown(session_id)}", "session_not_found")


async def emit_conversation(
    rt: Runtime, tx: Tx, conversation: Conversation, *, was: Conversation | None = None
) -> None:
    """`conversation.updated` to the website's agents and to the visitor, each their view; the
    visitor's only when their view changed from `was` (an assignment does not change it)."""
    for stream, for_visitor in visitor_and_agents(conversation, was):
        await do_emit(
            rt,
            tx,
            stream,
            EventType.CONVERSATION_UPDATED,
            conversation.id,
            {"conversation": conversation_json(conversation, for_visitor=for_visitor)},
            session_id=conversation.session_id,
        )


# the list


def _next_cursor(rt: Runtime, summary: ConversationSummary) -> str:
    conversation = summary.conversation
    assert conversation.last_message_at is not None
    return encode_cursor(
        rt.settings.secret_key, "conversations", conversation.last_message_at, conversation.id
    )


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[ConversationSummary]
    next_cursor: str | None


async def get_conversations(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    *,
    state: ConversationState | None,
    assignee: str | None,
    query: str | None,
    limit: int,
    cursor: str | None,
    label: str | None = None,
    spam: bool = False,
) -> ConversationPage:
    """`assignee`: "me", "none", an operator id, or None for everyone's; `label`: only the
    conversations holding that label of the website."""
    after = decode_cursor(rt.settings.secret_key, "conversations", cursor) if cursor else None
    if assignee == "me":
        assignee = actor.operator_id
    query = (query or "").strip() or None
    # A search may read every message of the website; a page of the list is indexed.
    reads = rt.store.long_read() if query else rt.store.read()
    async with reads as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        if label is not None and await tx.labels.get(website_id, label) is None:
            raise NotFound(f"label: no label {shown(label)} on this website", "label_not_found")
        if (
            assignee is not None
            and assignee not in ("none", actor.operator_id)
            and await tx.members.get_role(assignee, website_id) is None
        ):
            raise NotFound(
                f"assignee: no operator {shown(assignee)} on this website", "operator_not_found"
            )
        rows = await tx.conversations.list_page(
            website_id,
            state=state,
            assignee=None if assignee == "none" else assignee,
            unassigned=assignee == "none",
            query=query,
            limit=limit + 1,
            after=after,
            label=label,
            spam=spam,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return ConversationPage(rows, _next_cursor(rt, rows[-1]) if more else None)


# one conversation


@dataclass(frozen=True)
class Thread:
    conversation: Conversation
    session: Session
    messages: list[Message]
    assignee: Operator | None
    ratings: list[Rating] = field(default_factory=list)


async def _conversation(tx: Tx, actor: Actor, conversation_id: str, scope: Scope) -> Conversation:
    conversation = await tx.conversations.get(conversation_id)
    missing = conversation_missing(conversation_id)
    if conversation is None:
        raise missing
    await check_role(tx, actor, conversation.website_id, ANY_ROLE, scope, missing=missing)
    return conversation


async def get_thread(rt: Runtime, actor: Actor, conversation_id: str) -> Thread:
    async with rt.store.read() as tx:
        conversation = await _conversation(tx, actor, conversation_id, Scope.READ)
        session = await tx.sessions.get(conversation.session_id)
        assert session is not None
        messages = await tx.messages.list_page(
            conversation.id, limit=THREAD_PAGE, include_notes=True
        )
        assignee = (
            await tx.operators.get(conversation.assignee_id) if conversation.assignee_id else None
        )
        ratings = await tx.ratings.list_for_conversation(conversation.id)
    return Thread(conversation, session, messages, assignee, ratings)


async def get_thread_messages(
    rt: Runtime, actor: Actor, conversation_id: str, *, before: str | None, limit: int
) -> list[Message]:
    async with rt.store.read() as tx:
        conversation = await _conversation(tx, actor, conversation_id, Scope.READ)
        if before is not None and await tx.messages.get(conversation.id, before) is None:
            raise NotFound(f"no message {shown(before)} in this conversation", "message_not_found")
        return await tx.messages.list_page(
            conversation.id, limit=limit, before=before, include_notes=True
        )


async def do_assign(
    rt: Runtime, actor: Actor, conversation_id: str, operator_id: str | None
) -> Conversation:
    """Give the conversation to a member of its website, or to nobody."""
    async with rt.store.transaction() as tx:
        conversation = await _conversation(tx, actor, conversation_id, Scope.WRITE)
        if (
            operator_id is not None
            and await tx.members.get_role(operator_id, conversation.website_id) is None
        ):
            raise NotFound(
                f"no operator {shown(operator_id)} on this website", "operator_not_found"
            )
        if conversation.assignee_id == operator_id:
            return conversation
        now = rt.clock.now()
        await tx.conversations.set_assignee(conversation.id, operator_id, now)
        updated = replace(conversation, assignee_id=operator_id, updated_at=now)
        await emit_conversation(rt, tx, updated, was=conversation)
        await do_audit(
            rt,
            tx,
            actor,
            "conversation.assign",
            target_type="conversation",
            target_id=conversation.id,
            website_id=conversation.website_id,
            details={"assignee_id": operator_id or ""},
        )
    return updated


async def do_set_state(
    rt: Runtime, actor: Actor, conversation_id: str, state: ConversationState
) -> Conversation:
    """Resolve or reopen; a no-op when the conversation is already in that state."""
    async with rt.store.transaction() as tx:
        conversation = await _conversation(tx, actor, conversation_id, Scope.WRITE)
        if conversation.state is state:
            return conversation
        now = rt.clock.now()
        await tx.conversations.set_state(conversation.id, state, now)
        resolved = state is ConversationState.RESOLVED
        await note_resolved(tx, conversation, resolved=resolved, by=actor.operator_id, at=now)
        resolved_at = now if resolved else conversation.resolved_at
        updated = replace(conversation, state=state, updated_at=now, resolved_at=resolved_at)
        await emit_conversation(rt, tx, updated)
        if state is ConversationState.RESOLVED:
            await do_queue_webhooks(
                rt,
                tx,
                [
                    Occurrence(
                        updated.website_id,
                        WebhookEvent.CONVERSATION_RESOLVED,
                        {"conversation": conversation_json(updated, for_visitor=False)},
                        updated.session_id,
                    )
                ],
            )
        if (
            state is ConversationState.RESOLVED
            and conversation.team_id
            and conversation.assignee_id
        ):
            await do_queue_assignment(rt, tx, conversation.website_id)  # room for one more
    return updated


# visitors


async def get_visitor_session(
    rt: Runtime, actor: Actor, session_id: str
) -> tuple[Session, str | None]:
    async with rt.store.read() as tx:
        session = await tx.sessions.get(session_id)
        missing = session_missing(session_id)
        if session is None:
            raise missing
        await check_role(tx, actor, session.website_id, ANY_ROLE, Scope.READ, missing=missing)
        conversation = await tx.conversations.get_by_session(session.id)
    return session, conversation.id if conversation else None


async def do_edit_profile(
    rt: Runtime,
    actor: Actor,
    session_id: str,
    *,
    nickname: str | None = UNSET,
    email: str | None = UNSET,
    phone: str | None = UNSET,
    data: dict[str, Any] | None = None,
) -> Session:
    """An agent corrects a visitor's profile (P7), as the visitor could."""
    changes = checked_changes(nickname, email, phone)
    async with rt.store.transaction() as tx:
        session = await tx.sessions.get(session_id)
        missing = session_missing(session_id)
        if session is None:
            raise missing
        await check_role(tx, actor, session.website_id, ANY_ROLE, Scope.WRITE, missing=missing)
        updated = await apply_profile(rt, tx, session, changes, data)
        if updated != session:
            await do_audit(
                rt,
                tx,
                actor,
                "visitor.profile",
                target_type="session",
                target_id=session.id,
                website_id=session.website_id,
            )
    return updated
