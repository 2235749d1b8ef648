"""Sending messages. The first message of a session, from either side, makes it permanent (P15).

A `client_id` sent twice by the same sender stores one message: the second call returns the
first message. One that another sender of the conversation used (the visitor, another operator)
is refused with `client_id_taken`: it is never answered with someone else's message (an agent's
private note to a visitor), and the sender's own message is never dropped for it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from causerie.actions import shield
from causerie.actions.access import ANY_ROLE, check_role
from causerie.actions.assignment import do_route_new
from causerie.actions.consent import check_consent
from causerie.actions.events import Emitter
from causerie.actions.limits import check_send_rate, check_visitor_message_rate
from causerie.actions.message_batch import VisitorSend, store_visitor_messages
from causerie.actions.notifications import do_notify
from causerie.actions.reports import note_conversation_started, note_message, note_resolved
from causerie.actions.sent import Sent as Sent  # where callers have always found it
from causerie.actions.sent import sent_again as sent_again
from causerie.actions.sessions import access_visitor_session, count_network_day
from causerie.domain.errors import Invalid, NotFound, Unauthenticated, shown
from causerie.domain.events import EventType, Stream
from causerie.domain.files import FileRecord, attachment_of
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
from causerie.domain.ports import Tx
from causerie.domain.texts import message_text
from causerie.domain.webhooks import WebhookEvent
from causerie.domain.wire import (
    conversation_json,
)
from causerie.runtime import Runtime
from causerie.tokens import new_id

MAX_BODY_CHARS = 10_000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# A body of only these shows nothing: whitespace, zero-width characters (U+200B-U+200D, U+2060,
# U+FEFF), the soft hyphen, the Mongolian vowel separator, and bidi marks and controls.
_BLANK = re.compile("[\\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*")


# A type by its value: a dict's look-up, where calling the enum takes two Python calls and its
# slow path (docs/performance.md, `relay5`). Anything else, hashable or not, is no type.
_MESSAGE_TYPES: dict[object, MessageType] = {t._value_: t for t in MessageType}
_VISITOR_TYPES = frozenset({MessageType.TEXT})


def check_client_id(client_id: str) -> None:
    if not _CLIENT_ID.match(client_id):
        raise Invalid("client_id must be 1 to 64 letters, digits or . _ : -", "invalid_client_id")


def check_message(
    client_id: str, body: str, type_: str, allowed: frozenset[MessageType]
) -> MessageType:
    check_client_id(client_id)
    try:
        message_type = _MESSAGE_TYPES.get(type_)
    except TypeError:  # unhashable: a list or an object from a frame
        message_type = None
    if message_type not in allowed:
        names = ", ".join(sorted(t.value for t in allowed))
        raise Invalid(f"type must be one of: {names}", "invalid_message_type")
    if _BLANK.fullmatch(body):
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
    arrived: datetime | None = None,
) -> Sent:
    """The HTTP path: the visitor is found from their bearer token. `arrived`: when the request
    came in, if it waited before it got here (the shield's gate)."""
    arrived = arrived or rt.clock.now()
    body = message_text(body)  # a visitor's controls dropped (domain/texts.py)
    message_type = check_message(client_id, body, type_, _VISITOR_TYPES)
    await check_send_rate(rt, f"visitor:{token}")
    async with rt.store.read() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
    return await _send_as_session(
        rt, session.id, session.website_id, message_type, body, client_id, arrived
    )


async def do_send_session_message(
    rt: Runtime,
    session_id: str,
    *,
    client_id: str,
    body: str,
    type_: str = "text",
    website_id: str | None = None,
) -> Sent:
    """The WebSocket path: the socket authenticated the session; it may have been deleted since.
    `website_id`: the session's website, when the caller knows it (else it is read)."""
    arrived = rt.clock.now()
    body = message_text(body)  # a visitor's controls dropped (domain/texts.py)
    message_type = check_message(client_id, body, type_, _VISITOR_TYPES)
    if website_id is None:
        async with rt.store.read() as tx:
            session = await tx.sessions.get(session_id)
        website_id = session.website_id if session is not None else ""
    return await _send_as_session(
        rt, session_id, website_id, message_type, body, client_id, arrived
    )


async def _send_as_session(
    rt: Runtime,
    session_id: str,
    website_id: str,
    message_type: MessageType,
    body: str,
    client_id: str,
    arrived: datetime,  # when the message came in: the shield's pace is the visitor's
) -> Sent:

    async def part(tx: Tx) -> Sent:
        session, conversation = await tx.sessions.get_with_conversation(session_id)
        if session is None:
            raise Unauthenticated("this session no longer exists", "invalid_session")
        return await do_store_message(
            rt, tx, session, conversation, None, message_type, body, client_id, arrived=arrived
        )

    send = VisitorSend(rt, session_id, message_type, body, client_id)
    return await rt.batches.run(
        rt.store, website_id, part, (_read_sessions, session_id), (store_visitor_messages, send)
    )


async def _read_sessions(tx: Tx, ids: list[str]) -> None:
    await tx.sessions.read_ahead(ids)


async def do_send_operator_message(
    rt: Runtime,
    actor: Actor,
    *,
    client_id: str,
    body: str,
    type_: str = "text",
    session_id: str | None = None,
    conversation_id: str | None = None,
    over_http: bool = False,
    website_id: str | None = None,
) -> Sent:
    """An operator writes to a conversation, or to a session (starting its conversation).
    `over_http`: counted against the operator's HTTP send rate (a socket has its own).
    `website_id`: the website the conversation most likely belongs to (an agent socket's), the
    batch it joins (`actions/batches.py`); read when not given. Access is checked either way."""
    allowed = frozenset({MessageType.TEXT, MessageType.NOTE})
    message_type = check_message(client_id, body, type_, allowed)
    if over_http:
        await check_send_rate(rt, f"operator:{actor.operator_id or actor.kind}")
    if website_id is None:
        website_id = await _website_of(rt, conversation_id, session_id)

    async def part(tx: Tx) -> Sent:
        return await _store_operator_message(
            rt, tx, actor, message_type, body, client_id, session_id, conversation_id
        )

    return await rt.batches.run(rt.store, website_id, part)


async def _website_of(rt: Runtime, conversation_id: str | None, session_id: str | None) -> str:
    """The website of a conversation or session: "" when there is none (the send says so)."""
    async with rt.store.read() as tx:
        if conversation_id is not None:
            conversation = await tx.conversations.get(conversation_id)
            return conversation.website_id if conversation is not None else ""
        session = await tx.sessions.get(session_id) if session_id else None
        return session.website_id if session is not None else ""


async def _store_operator_message(
    rt: Runtime,
    tx: Tx,
    actor: Actor,
    message_type: MessageType,
    body: str,
    client_id: str,
    session_id: str | None,
    conversation_id: str | None,
) -> Sent:
    conversation: Conversation | None = None
    if conversation_id is not None:
        conversation = await tx.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")
        session_id = conversation.session_id
    session = await tx.sessions.get(session_id) if session_id else None
    if conversation_id is not None:
        missing = NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")
    else:
        missing = NotFound(f"no session {shown(session_id)}", "session_not_found")
    if session is None:
        raise missing
    await check_role(tx, actor, session.website_id, ANY_ROLE, Scope.WRITE, missing=missing)
    if conversation is None:
        conversation = await tx.conversations.get_by_session(session.id)
    return await do_store_message(
        rt, tx, session, conversation, actor.operator_id, message_type, body, client_id
    )


async def do_store_message(
    rt: Runtime,
    tx: Tx,
    session: Session,
    conversation: Conversation | None,
    operator_id: str | None,
    message_type: MessageType,
    body: str,
    client_id: str,
    file: FileRecord | None = None,
    *,
    arrived: datetime | None = None,
) -> Sent:
    """Store one message and its events; a known client_id returns the stored message instead.

    `conversation` is the session's, as read in this transaction (None: start it). `file`: the
    row of the file a message of type `file` carries, its bytes already stored. `arrived`: when
    a visitor's message came in, before its batch (now when not given).
    """
    if operator_id is None:
        await check_consent(rt, tx, session)
        await shield.check_visitor(rt, session, tx)
        await check_visitor_message_rate(rt, session.id, session.ip)
    now = rt.clock.now()
    author = Author.VISITOR if operator_id is None else Author.OPERATOR
    started = False
    if conversation is None:
        conversation, started = await _start_conversation(tx, session, now)
        if started:
            await note_conversation_started(
                tx, conversation, visitor_started=author is Author.VISITOR
            )
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
    if not await tx.messages.insert(message):
        existing = await tx.messages.get_by_client_id(conversation.id, client_id)
        assert existing is not None
        return sent_again(existing, operator_id)
    if file is not None:
        await tx.files.insert(replace(file, message_id=message.id))
        message = replace(message, file=attachment_of(file))

    visible = message_type is not MessageType.NOTE
    other_side = (
        (Author.OPERATOR if author is Author.VISITOR else Author.VISITOR) if visible else None
    )
    visitor = author is Author.VISITOR
    reopen = visitor and conversation.state is ConversationState.RESOLVED
    # A started or reopened conversation is announced as it is now: the update says so. A
    # visitor's message reads the row back to see whether it was resolved since it was read
    # (PostgreSQL: an agent or auto-resolve committed in between; the update waited for them;
    # a conversation read with its session is locked since, and the store answers from it).
    touched = await tx.conversations.touch(
        conversation.id, now, reopen=reopen, unread_for=other_side, returning=started or visitor
    )
    if visitor and touched is not None and touched.state is ConversationState.RESOLVED:
        reopen = True
        touched = await tx.conversations.touch(
            conversation.id, now, reopen=True, unread_for=None, returning=True
        )
    updated = touched if started or reopen else None
    if started and author is Author.VISITOR and updated is not None:
        updated = await do_route_new(rt, tx, updated)  # into the website's first team, if any
    await note_message(tx, conversation, message)
    if reopen:
        await note_resolved(tx, conversation, resolved=False, by=None, at=now)
    if author is Author.VISITOR and session.ip:
        await count_network_day(rt, tx, session.ip, now.date(), sessions=0, messages=1)
        shield.count_after_commit(rt, tx, session.ip, "messages")
        if started:
            shield.count_after_commit(rt, tx, session.ip, "conversations")
            shield.note_opening_after_commit(rt, tx, session, body, arrived or now)
    if operator_id is not None:
        stored = await tx.messages.get(conversation.id, message.id)
        assert stored is not None
        message = stored

    emitter = Emitter(rt)
    if updated is not None:
        _add_conversation(emitter, updated)
        if started:
            emitter.add_webhook(
                updated.website_id,
                WebhookEvent.CONVERSATION_CREATED,
                {"conversation": conversation_json(updated, for_visitor=False)},
                session_id=session.id,
            )
    if session.state is SessionState.TEMPORARY:
        await tx.sessions.make_permanent(session.id, now)
        emitter.add_session(replace(session, state=SessionState.PERMANENT, permanent_since=now))
    # Encoded once: the website's event, the visitor's (unless a file's URLs differ) and the ack.
    text = emitter.add_message(session, message, visible=visible)
    # Appended with the batch's other messages' events, just before it commits.
    await emitter.flush_later(tx)
    await do_notify(rt, tx, session, updated or conversation, message, started=started)
    return Sent(message, created=True, text=text)


def _add_conversation(emitter: Emitter, conversation: Conversation) -> None:
    for stream, for_visitor in (
        (Stream.of_website(conversation.website_id), False),
        (Stream.of_session(conversation.session_id), True),
    ):
        emitter.add(
            stream,
            EventType.CONVERSATION_UPDATED,
            conversation.id,
            {"conversation": conversation_json(conversation, for_visitor=for_visitor)},
            session_id=conversation.session_id,
        )


async def _start_conversation(tx: Tx, session: Session, now: datetime) -> tuple[Conversation, bool]:
    """The session's new conversation, and whether this call started it."""
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
    if await tx.conversations.insert(candidate):
        return candidate, True
    existing = await tx.conversations.get_by_session(session.id)
    assert existing is not None
    return existing, False


async def get_visitor_messages(
    rt: Runtime, *, token: str, origin: str | None, before: str | None, limit: int
) -> list[Message]:
    async with rt.store.read() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        conversation = await tx.conversations.get_by_session(session.id)
        if before is not None and (
            conversation is None or await tx.messages.get(conversation.id, before) is None
        ):
            raise NotFound(f"no message {shown(before)} in this conversation", "message_not_found")
        if conversation is None:
            return []
        return await tx.messages.list_page(
            conversation.id, limit=limit, before=before, include_notes=False
        )
