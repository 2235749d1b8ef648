"""The event catalogue: every event the server pushes, its stream, and whether it is stored.

Events are WebSocket frames `{"type": ..., "seq": N, ...}` (docs/realtime.md). Each belongs to a
stream: a visitor's session (`session:ID`) or an agent's view of a website (`website:ID`). Stored
events get the next `seq` of their stream in the transaction that makes the change, and can be
replayed from the database; ephemeral ones (typing, presence) carry the stream's current position
and do not advance it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson


class EventType(StrEnum):
    MESSAGE_CREATED = "message.created"
    CONVERSATION_UPDATED = "conversation.updated"
    SESSION_UPDATED = "session.updated"
    READ = "read"
    CONVERSATION_RATED = "conversation.rated"  # a visitor's rating (domain/ratings.py)
    TYPING = "typing"
    PRESENCE = "presence"
    CONVERSATION_DELETED = "conversation.deleted"  # ephemeral: nothing of it is left to replay
    WEBHOOK_DISABLED = "webhook.disabled"  # a day of failed deliveries (docs/api.md, "Webhooks")
    ACCESS_ENDED = "access.ended"  # between nodes only: ends agent sockets, never sent to clients


STORED = frozenset(
    {
        EventType.MESSAGE_CREATED,
        EventType.CONVERSATION_UPDATED,
        EventType.SESSION_UPDATED,
        EventType.READ,
        EventType.WEBHOOK_DISABLED,
        EventType.CONVERSATION_RATED,
    }
)


class StreamKind(StrEnum):
    SESSION = "session"
    WEBSITE = "website"


@dataclass(frozen=True)
class Stream:
    kind: StreamKind
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @property
    def for_visitor(self) -> bool:
        return self.kind is StreamKind.SESSION

    @classmethod
    def of_session(cls, session_id: str) -> Stream:
        return cls(StreamKind.SESSION, session_id)

    @classmethod
    def of_website(cls, website_id: str) -> Stream:
        return cls(StreamKind.WEBSITE, website_id)


@dataclass(frozen=True)
class StoredEvent:
    """A row of the event log: ids only; the payload is read from the live tables on replay."""

    stream: str
    seq: int
    type: EventType
    object_id: str
    session_id: str | None
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append to the log: the store gives it its stream's next seq.

    `owner` is the session whose deletion takes the whole stream with it: set for a session's
    stream only. A website's stream outlives every session that wrote to it.
    """

    stream: str
    type: EventType
    object_id: str
    session_id: str | None
    created_at: datetime
    owner: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def frame(type_: EventType, seq: int, **payload: Any) -> dict[str, Any]:
    return {"type": type_.value, "seq": seq, **payload}


# `json.dumps` with `separators` builds an encoder at each call: a third of a message's encoding.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(value: Any) -> str:
    """JSON as every frame is sent: compact, ASCII."""
    return _ENCODER.encode(value)


def encode_plain(value: Any) -> str:
    """`encode` for a value of strings, integers, booleans, None, lists and dicts with string
    keys (no floats: orjson spells their exponents otherwise), as a message's JSON is: orjson's
    text is `encode`'s whenever it is ASCII without DEL, in a twentieth of the time (about 0.7
    against 16 µs a message, docs/performance.md, "relay3"); any other text is `encode`'s."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # an integer past 64 bits, a key that is not a string
        return encode(value)
    return text if text.isascii() and "\x7f" not in text else encode(value)


def frame_text(type_: EventType, seq: int, payload_text: str) -> str:
    """`encode(frame(type_, seq, **payload))` from the payload's JSON, `encode(payload)`: a
    payload encoded once serves every frame that carries it (both streams, the ack)."""
    head = f'{{"type":"{type_._value_}","seq":{seq}'  # `_value_`: see wire.py
    return head + "}" if payload_text == "{}" else f"{head},{payload_text[1:]}"


# What every frame starts with (`frame_text`, `encode(frame(...))`): its seq is read from there.
_HEAD = re.compile(r'\{"type":"[a-z_.]+","seq":(null|\d+)[,}]')


class Envelope:
    """One event as received from the broker: its seq (None when ephemeral) and its JSON.
    The frame is decoded only if asked for: a stored event goes to the sockets as its text."""

    __slots__ = ("_frame", "seq", "text")

    def __init__(self, seq: int | None, text: str, frame: dict[str, Any] | None = None) -> None:
        self.seq = seq
        self.text = text
        self._frame = frame

    @classmethod
    def of(cls, text: str) -> Envelope:
        """The envelope of a frame's JSON; its seq read from the frame's head when it has the
        usual one, else from the decoded frame."""
        head = _HEAD.match(text)
        if head is None:
            frame = json.loads(text)
            return cls(frame.get("seq"), text, frame)
        seq = head.group(1)
        return cls(None if seq == "null" else int(seq), text)

    @property
    def frame(self) -> dict[str, Any]:
        if self._frame is None:
            self._frame = json.loads(self.text)
        return self._frame
