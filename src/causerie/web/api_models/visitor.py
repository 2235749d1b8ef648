"""The shapes of the visitor side's answers (`/api/widget/v1`): the chatbox load, the visitor's
own session (profile, consent), their export, erasure, ratings and transcript. Declared for the
OpenAPI document only (`responses=`): the routes answer with their own serialisers
(`domain/wire.py`, `domain/privacy.py`), so declaring them changes nothing that is sent."""

# Annotations evaluated as the classes are made: see this package's __init__.
from typing import Any, Literal

from pydantic import Field

from causerie.web.api_models import (
    ConsentOut,
    MessageOut,
    Out,
    PageOut,
    ProfileOut,
    RatingOut,
    ReadUpTo,
)


class VisitorSessionOut(Out):
    """What the visitor sees of their own session: never the IP."""

    id: str
    state: Literal["temporary", "permanent"]
    created_at: str | None
    profile: ProfileOut
    consent: ConsentOut | None


class VisitorSessionBody(Out):
    session: VisitorSessionOut


class ChatboxWebsite(Out):
    id: str
    name: str
    settings: dict[str, Any] = Field(
        description="the chatbox's public settings (docs/widget.md), and `plugins` when a "
        "plugin adds some"
    )
    availability: dict[str, Any] = Field(
        description='`{"online": bool}`, with `hours` when the website has business hours'
    )
    mail: bool = Field(
        description="whether this server sends mail: the chatbox offers a transcript only then"
    )


class SessionCookie(Out):
    name: str
    max_age: int


class OpenedSessionOut(Out):
    token: str | None
    session: VisitorSessionOut | None
    messages: list[MessageOut]
    read_up_to: ReadUpTo
    seq: int = Field(description="the session stream's position: the socket resumes from it")
    website: ChatboxWebsite
    cookie: SessionCookie


class ExportedIp(Out):
    address: str
    recorded_at: str | None


class ExportedWebsite(Out):
    id: str
    name: str | None


class ExportedConversation(Out):
    id: str
    state: Literal["open", "resolved"]
    created_at: str | None
    messages: list[MessageOut]
    ratings: list[RatingOut]


class RefusedAddress(Out):
    address: str
    error: str
    failed_at: str | None


class ExportedMail(Out):
    unsubscribed_at: str | None
    refused: list[RefusedAddress]


class ExportedSession(Out):
    id: str
    website: ExportedWebsite
    state: Literal["temporary", "permanent"]
    created_at: str | None
    last_access_at: str | None
    permanent_since: str | None
    ip: ExportedIp | None
    user_agent: str
    locale: str | None
    timezone: str | None
    page: PageOut
    profile: ProfileOut
    consent: ConsentOut | None
    conversation: ExportedConversation | None
    mail: ExportedMail


class ExportOut(Out):
    format: str = Field(description='"causerie.personal-data/1"')
    generated_at: str | None
    query: dict[str, str]
    sessions: list[ExportedSession]


class RatingBody(Out):
    rating: RatingOut


class RatingStateOut(Out):
    conversation_id: str | None
    resolved: bool
    rating: RatingOut | None


class QueuedOut(Out):
    queued: bool
