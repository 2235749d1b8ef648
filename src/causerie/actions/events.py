"""Emitting events inside a transaction, and replaying a stream from the event log.

An event is appended to the log in the transaction that makes the change, and published after
it commits (`tx.on_commit`): no client hears of a change that was rolled back, and every change
that committed can be replayed (docs/realtime.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from causerie.actions.webhook_queue import Occurrence, do_queue_webhooks
from causerie.domain.access import ACCESS_CHANNEL, SESSION_GONE, session_key
from causerie.domain.events import (
    EventType,
    NewEvent,
    StoredEvent,
    Stream,
    StreamKind,
    encode,
    encode_plain,
    frame,
    frame_text,
)
from causerie.domain.models import Message, Session
from causerie.domain.ports import Tx
from causerie.domain.webhooks import WebhookEvent
from causerie.domain.wire import (
    agent_session_json,
    conversation_json,
    message_json,
    rating_json,
    visitor_session_json,
)
from causerie.runtime import Runtime

REPLAY_PAGE = 500
# The stored events of a website's stream that are also webhook events, with the same payload.
WEBHOOK_TYPES = frozenset({EventType.MESSAGE_CREATED, EventType.CONVERSATION_UPDATED})
# The keys of a website's and a session's streams start so (`Stream.key`).
_WEBSITE = Stream.of_website("").key
_SESSION = Stream.of_session("").key


class Emitter:
    """The stored events of one transaction, appended to the log together by `flush`.

    Collecting them first lets the store move each stream forward once and insert every row in
    one statement, whatever the number of events. Published once the transaction commits.
    """

    __slots__ = ("_events", "_payloads", "_rt", "_texts", "_webhooks")

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._events: list[NewEvent] = []
        self._payloads: list[dict[str, Any]] = []
        self._texts: list[str | None] = []
        self._webhooks: list[Occurrence] = []

    def add_webhook(
        self, website_id: str, type_: str, data: dict[str, Any], *, session_id: str | None
    ) -> None:
        """A webhook event that no stream carries as such (`conversation.created`,
        `conversation.resolved`), queued with the others by `flush`."""
        self._webhooks.append(Occurrence(website_id, type_, data, session_id))

    def add(
        self,
        stream: Stream,
        type_: EventType,
        object_id: str,
        payload: dict[str, Any],
        *,
        session_id: str | None,
        data: dict[str, Any] | None = None,
        text: str | None = None,
    ) -> None:
        """`text`: `payload`'s JSON (`domain.events.encode`), when the caller has it already.
        Events given the same payload object share one encoding."""
        owner = stream.id if stream.kind is StreamKind.SESSION else None
        self._events.append(
            NewEvent(
                stream.key,
                type_,
                object_id,
                session_id,
                self._rt.clock.now(),
                owner,
                data or {},
            )
        )
        self._payloads.append(payload)
        self._texts.append(text)

    def add_message(self, session: Session, message: Message, *, visible: bool) -> str:
        """A message's `message.created` for the website's agents and, when `visible` (not a
        note), for the visitor, encoded once (a file's differs for the visitor: its URLs).
        Returns the message's JSON, which the ack reuses. The events happen when the message
        was written (its `created_at`: the one time the store converts for all its rows)."""
        shown = message_json(message)
        # Strings, integers and None only, unless it has an event's data (any JSON).
        text = encode_plain(shown) if message.event is None else encode(shown)
        payload = {"message": shown}
        payload_text = f'{{"message":{text}}}'
        # As `add` would append them, without a `Stream` and a clock read each (every message
        # of a batch takes two).
        events, at, created = self._events, message.created_at, EventType.MESSAGE_CREATED
        events.append(
            NewEvent(_WEBSITE + session.website_id, created, message.id, session.id, at, None, {})
        )
        self._payloads.append(payload)
        self._texts.append(payload_text)
        if visible:
            if message.file is not None:
                payload = {"message": message_json(message, for_visitor=True)}
                payload_text = encode(payload)
            events.append(
                NewEvent(_SESSION + session.id, created, message.id, session.id, at, session.id, {})
            )
            self._payloads.append(payload)
            self._texts.append(payload_text)
        return text

    def add_session(self, session: Session) -> None:
        """`session.updated` for the website's agents (their view) and the visitor (theirs)."""
        self.add(
            Stream.of_website(session.website_id),
            EventType.SESSION_UPDATED,
            session.id,
            {"session": agent_session_json(session)},
            session_id=session.id,
        )
        self.add(
            Stream.of_session(session.id),
            EventType.SESSION_UPDATED,
            session.id,
            {"session": visitor_session_json(session)},
            session_id=session.id,
        )

    async def flush(self, tx: Tx) -> list[int]:
        """Append the events collected so far; their seqs, in the order they were added."""
        events, payloads, texts = await self._take(tx)
        if not events:
            return []
        seqs = await tx.events.append(events)
        tx.on_commit(self._rt.hub.publisher_of(_frames(events, seqs, payloads, texts)))
        return seqs

    async def flush_later(self, tx: Tx) -> None:
        """`flush`, the events appended with the transaction's other held-back writes just
        before it commits (`Events.append_later`): where many transactions' worth of events
        share one, as a batch of messages does (actions/batches.py)."""
        events, payloads, texts = await self._take(tx)
        if not events:
            return
        seqs = await tx.events.append_later(events)
        publish = self._rt.hub.publisher_of

        def publish_all() -> None:
            publish(_frames(events, seqs(), payloads, texts))()

        tx.on_commit(publish_all)

    async def _take(self, tx: Tx) -> tuple[list[NewEvent], list[dict[str, Any]], list[str | None]]:
        """The events collected so far (the collection starts again), their webhooks queued."""
        events, payloads, texts = self._events, self._payloads, self._texts
        occurrences = self._webhooks
        self._events, self._payloads, self._texts, self._webhooks = [], [], [], []
        # What the website's agents hear is what its webhooks get (docs/api.md, "Webhooks"),
        # but a conversation started in this change: `conversation.created` tells it, and the
        # `conversation.updated` that announces it to the agents' sockets (which have no
        # `conversation.created`) would say the same again.
        website_prefix = f"{StreamKind.WEBSITE.value}:"
        created = {
            o.data["conversation"]["id"]
            for o in occurrences
            if o.type == WebhookEvent.CONVERSATION_CREATED.value
        }
        occurrences = [
            Occurrence(
                event.stream.removeprefix(website_prefix),
                event.type._value_,  # not `.value`: see domain/wire.py
                payload,
                event.session_id,
            )
            for event, payload in zip(events, payloads, strict=True)
            if event.type in WEBHOOK_TYPES
            and event.stream.startswith(website_prefix)
            and not (event.type is EventType.CONVERSATION_UPDATED and event.object_id in created)
        ] + occurrences
        await do_queue_webhooks(self._rt, tx, occurrences)
        return events, payloads, texts


def _frames(
    events: list[NewEvent],
    seqs: list[int],
    payloads: list[dict[str, Any]],
    texts: list[str | None],
) -> list[tuple[str, str]]:
    encoded: dict[int, str] = {}  # by payload object: each encoded once
    frames = []
    for event, seq, payload, text in zip(events, seqs, payloads, texts, strict=True):
        if text is None:
            text = encoded.get(id(payload))
            if text is None:
                text = encoded[id(payload)] = encode(payload)
        frames.append((event.stream, frame_text(event.type, seq, text)))
    return frames


async def do_emit(
    rt: Runtime,
    tx: Tx,
    stream: Stream,
    type_: EventType,
    object_id: str,
    payload: dict[str, Any],
    *,
    session_id: str | None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one stored event to `stream` and publish it once the transaction commits."""
    emitter = Emitter(rt)
    emitter.add(stream, type_, object_id, payload, session_id=session_id, data=data)
    (seq,) = await emitter.flush(tx)
    return seq


async def do_emit_session(rt: Runtime, tx: Tx, session: Session) -> None:
    """`session.updated` for the website's agents (their view) and the visitor (theirs)."""
    emitter = Emitter(rt)
    emitter.add_session(session)
    await emitter.flush(tx)


def do_signal(rt: Runtime, channel: str, type_: EventType, payload: dict[str, Any]) -> None:
    """Publish an ephemeral event (typing, presence): not stored, so not replayable."""
    rt.hub.publish(channel, {"type": type_.value, "seq": None, **payload})


@dataclass(frozen=True)
class Replay:
    frames: list[tuple[int, str]]  # (seq, JSON text) in order
    scanned_to: int  # the highest seq read, delivered or not (its object may be gone)
    complete: bool  # False when a page limit stopped the read: ask again after scanned_to


async def get_replay(rt: Runtime, stream: Stream, after: int) -> Replay:
    """The stored events of `stream` after `after`, rebuilt from the live tables.

    Events whose object no longer exists (a deleted conversation) are skipped, never invented.
    """
    async with rt.store.read() as tx:
        events = await tx.events.list_after(stream.key, after, REPLAY_PAGE)
        frames = await _hydrate(tx, stream, events)
    scanned = events[-1].seq if events else after
    return Replay(frames, scanned, len(events) < REPLAY_PAGE)


async def get_position(rt: Runtime, stream: Stream) -> int:
    async with rt.store.read() as tx:
        return await tx.events.last_seq(stream.key)


def _ids(events: list[StoredEvent], type_: EventType) -> list[str]:
    return [e.object_id for e in events if e.type is type_]


async def _hydrate(tx: Tx, stream: Stream, events: list[StoredEvent]) -> list[tuple[int, str]]:
    messages = await tx.messages.get_many(_ids(events, EventType.MESSAGE_CREATED))
    conversations = await tx.conversations.get_many(_ids(events, EventType.CONVERSATION_UPDATED))
    sessions = await tx.sessions.get_many(_ids(events, EventType.SESSION_UPDATED))
    ratings = await tx.ratings.get_many(_ids(events, EventType.CONVERSATION_RATED))
    out = []
    for event in events:
        payload: dict[str, Any] | None = None
        if event.type is EventType.MESSAGE_CREATED and event.object_id in messages:
            payload = {
                "message": message_json(messages[event.object_id], for_visitor=stream.for_visitor)
            }
        elif event.type is EventType.CONVERSATION_UPDATED and event.object_id in conversations:
            conversation = conversations[event.object_id]
            shown = conversation_json(conversation, for_visitor=stream.for_visitor)
            # What the change told beyond the conversation's row, as it told it (a spam mark's
            # `spam`: replayed in order, the last one is the conversation's state).
            payload = {"conversation": shown | event.data}
        elif event.type is EventType.SESSION_UPDATED and event.object_id in sessions:
            session = sessions[event.object_id]
            shown = (
                visitor_session_json(session) if stream.for_visitor else agent_session_json(session)
            )
            payload = {"session": shown}
        elif event.type is EventType.CONVERSATION_RATED and event.object_id in ratings:
            payload = rating_json(ratings[event.object_id])
        elif event.type is EventType.READ:
            payload = {"conversation_id": event.object_id, **event.data}
        elif event.type is EventType.WEBHOOK_DISABLED:
            payload = dict(event.data)
        if payload is not None:
            text = json.dumps(frame(event.type, event.seq, **payload), separators=(",", ":"))
            out.append((event.seq, text))
    return out


def do_signal_deleted(rt: Runtime, tx: Tx, website_id: str, conversation_id: str) -> None:
    """Once the deletion commits, tell the website's agents that the conversation is gone.

    Ephemeral: the deleted conversation's events went with it, so there is nothing to replay;
    an inbox that reconnects reloads its list.
    """
    tx.on_commit(
        lambda: do_signal(
            rt,
            Stream.of_website(website_id).key,
            EventType.CONVERSATION_DELETED,
            {"conversation_id": conversation_id},
        )
    )


def do_signal_session_gone(rt: Runtime, tx: Tx, session_id: str) -> None:
    """Once the deletion commits, end the visitor's sockets of that session, on every node: told
    `invalid_session`, closed with 4004, at once rather than at their next message."""
    do_signal_access_ended(rt, tx, SESSION_GONE, [session_key(session_id)])


def do_signal_access_ended(rt: Runtime, tx: Tx, code: str, keys: list[str]) -> None:
    """Once the change commits, end every agent socket, on every node, let in under one of `keys`
    (domain/access.py); they are told `code`. Ephemeral: a node that misses it (broker outage)
    checks its sockets' access from the database when it reconnects (docs/realtime.md)."""
    if keys:
        payload = {"type": EventType.ACCESS_ENDED.value, "code": code, "keys": keys}
        tx.on_commit(rt.hub.publisher(ACCESS_CHANNEL, payload))
