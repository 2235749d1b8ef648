"""Sending messages. The first message of a session, from either side, makes it permanent (P15).

A `client_id` sent twice stores one message: the second call returns the first message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from causerie.actions.access import ANY_ROLE, check_role
from causerie.actions.sessions import access_visitor_session
from causerie.domain.errors import Invalid, NotFound
from causerie.domain.models import (
    Actor,
    Author,
    Conversation,
    ConversationState,
    Message,
    MessageType,
    Scope,
    Session,
    SessionState,
)
from causerie.domain.networks import network_of
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import new_id

MAX_BODY_CHARS = 10_000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class Sent:
    message: Message
    created: bool  # False when the client_id had been seen: the stored message is returned


def check_message(
    client_id: str, body: str, type_: str, allowed: frozenset[MessageType]
) -> MessageType:
    if not _CLIENT_ID.match(client_id):
        raise Invalid("client_id must be 1 to 64 letters, digits or . _ : -", "invalid_client_id")
    try:
        message_type = MessageType(type_)
    except ValueError:
        message_type = None
    if message_type not in allowed:
        names = ", ".join(sorted(t.value for t in allowed))
        raise Invalid(f"type must be one of: {names}", "invalid_message_type")
    if not body.strip():
        raise Invalid("body must not be empty", "empty_message")
    if len(body) > MAX_BODY_CHARS:
        raise Invalid(f"body is longer than {MAX_BODY_CHARS} characters", "message_too_long")
    assert message_type is not None
    return message_type


async def do_send_visitor_message(
    rt: Runtime,
    *,
    token: str,
    origin: str | None,
    client_id: str,
    body: str,
    type_: str = "text",
) -> Sent:
    message_type = check_message(client_id, body, type_, frozenset({MessageType.TEXT}))
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        return await _store_message(
            rt, tx, session, Author.VISITOR, None, message_type, body, client_id
        )


async def do_send_operator_message(
    rt: Runtime,
    actor: Actor,
    *,
    session_id: str,
    client_id: str,
    body: str,
    type_: str = "text",
) -> Sent:
    """An operator writes to a session's conversation, starting it if needed."""
    allowed = frozenset({MessageType.TEXT, MessageType.NOTE})
    message_type = check_message(client_id, body, type_, allowed)
    async with rt.store.transaction() as tx:
        session = await tx.get_session(session_id)
        if session is None:
            raise NotFound(f"no session {session_id!r}", "session_not_found")
        await check_role(tx, actor, session.website_id, ANY_ROLE, Scope.WRITE)
        return await _store_message(
            rt, tx, session, Author.OPERATOR, actor.operator_id, message_type, body, client_id
        )


async def _store_message(
    rt: Runtime,
    tx: Tx,
    session: Session,
    author: Author,
    operator_id: str | None,
    message_type: MessageType,
    body: str,
    client_id: str,
) -> Sent:
    now = rt.clock.now()
    conversation = await _conversation_for(tx, session, now)
    message = Message(
        id=new_id(),
        conversation_id=conversation.id,
        author=author,
        type=message_type,
        body=body,
        client_id=client_id,
        created_at=now,
        operator_id=operator_id,
    )
    if not await tx.insert_message(message):
        existing = await tx.get_message_by_client_id(conversation.id, client_id)
        assert existing is not None
        return Sent(existing, created=False)
    await tx.touch_conversation(conversation.id, now, reopen=author is Author.VISITOR)
    if session.state is SessionState.TEMPORARY:
        await tx.make_permanent(session.id, now)
    if author is Author.VISITOR and session.ip:
        await tx.count_network(network_of(session.ip), now.date(), sessions=0, messages=1)
    stored = await tx.get_message(conversation.id, message.id)
    assert stored is not None
    return Sent(stored, created=True)


async def _conversation_for(tx: Tx, session: Session, now: datetime) -> Conversation:
    conversation = await tx.get_conversation_of_session(session.id)
    if conversation is not None:
        return conversation
    candidate = Conversation(
        id=new_id(),
        website_id=session.website_id,
        session_id=session.id,
        state=ConversationState.OPEN,
        assignee_id=None,
        created_at=now,
        updated_at=now,
        last_message_at=None,
    )
    if await tx.insert_conversation(candidate):
        return candidate
    existing = await tx.get_conversation_of_session(session.id)
    assert existing is not None
    return existing


async def get_visitor_messages(
    rt: Runtime, *, token: str, origin: str | None, before: str | None, limit: int
) -> list[Message]:
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        conversation = await tx.get_conversation_of_session(session.id)
        if conversation is None:
            return []
        if before is not None and await tx.get_message(conversation.id, before) is None:
            raise NotFound(f"no message {before!r} in this conversation", "message_not_found")
        return await tx.list_messages(
            conversation.id, limit=limit, before=before, include_notes=False
        )
