"""What goes over the wire: request models (strict, extra fields refused) and serialisers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from causerie.domain.models import Message, Session


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Locale = Annotated[str, Field(max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]


class PageIn(Strict):
    url: str = Field(default="", max_length=2048)
    title: str = Field(default="", max_length=500)
    referrer: str = Field(default="", max_length=2048)


class SessionIn(Strict):
    token: str | None = Field(default=None, min_length=1, max_length=100)
    page: PageIn
    locale: Locale | None = None
    timezone: str | None = Field(default=None, max_length=64)


class MessageIn(Strict):
    client_id: str = Field(min_length=1, max_length=64)
    type: str = Field(default="text", max_length=16)
    body: str


class OperatorMessageIn(MessageIn):
    pass


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "author": message.author.value,
        "type": message.type.value,
        "body": message.body,
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
    }
    if message.operator_id is not None:
        out["operator"] = {"id": message.operator_id, "name": message.operator_name or ""}
    return out


def visitor_session_json(session: Session) -> dict[str, Any]:
    """What the visitor sees of their own session: never the IP (it is not theirs to spoof)."""
    return {
        "id": session.id,
        "state": session.state.value,
        "created_at": iso(session.created_at),
        "profile": {
            "nickname": session.nickname,
            "email": session.email,
            "phone": session.phone,
            "data": session.data,
        },
    }
