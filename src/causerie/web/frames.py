"""Frames a client may send over `/ws/visitor` and `/ws/agent` (docs/realtime.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from causerie.web.wire_values import refuse_faults


class _Frame(BaseModel):
    # strict: a frame's values have their JSON types (`"on": "yes"` is no boolean, `"after": "5"`
    # no number), refused with `invalid_frame` naming the field, as the API refuses them.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    _refuse_faults = model_validator(mode="before")(refuse_faults)


Id = Annotated[str, Field(min_length=1, max_length=64)]


class Auth(_Frame):
    type: Literal["auth"]
    # Visitors: their session token. Agents: an API token, or nothing to use the login cookie
    # their browser sent with the handshake.
    token: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    after: Annotated[int, Field(ge=0)] | None = None
    website_id: Id | None = None  # agents: the website whose stream this socket follows
    status: Literal["online", "away"] = "online"  # agents: availability on connect


class MessageSend(_Frame):
    type: Literal["message.send"]
    client_id: Annotated[str, Field(min_length=1, max_length=64)]
    body: str
    conversation_id: Id | None = None  # agents
    session_id: Id | None = None  # agents, to write first to a visitor
    note: bool = False  # agents: private to the website's agents


class Typing(_Frame):
    type: Literal["typing"]
    on: bool
    conversation_id: Id | None = None  # agents


class Read(_Frame):
    type: Literal["read"]
    up_to: Id
    conversation_id: Id | None = None  # agents


class Ping(_Frame):
    type: Literal["ping"]


class Availability(_Frame):
    type: Literal["availability"]
    status: Literal["online", "away"]


Frame = Annotated[
    Auth | MessageSend | Typing | Read | Ping | Availability, Field(discriminator="type")
]
FRAME = TypeAdapter(Frame)
FRAME_TYPES = frozenset({"auth", "message.send", "typing", "read", "ping", "availability"})
