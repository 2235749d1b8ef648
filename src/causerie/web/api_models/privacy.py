"""The shapes of `/api/v1`'s data-subject requests, register, audit log and DPA (P2, P4, P9,
P10)."""

# Annotations evaluated as the classes are made: see this package's __init__.
from typing import Any

from pydantic import Field

from causerie.domain.privacy import DPA_VERSION
from causerie.web.api_models import Id, Out, SessionOut
from causerie.web.schemas import Strict


class SubjectIn(Strict):
    """One of the two: the person's email, or one session id."""

    email: str | None = Field(default=None, max_length=320)
    session_id: Id | None = None


class SubjectSession(Out):
    session: SessionOut
    conversation_id: str | None
    messages: int


class SubjectsOut(Out):
    sessions: list[SubjectSession]


class ErasedCounts(Out):
    sessions: int
    messages: int


class ErasedOut(Out):
    erased: ErasedCounts


class RegisterOut(Out):
    markdown: str


class AuditEntryOut(Out):
    id: str
    at: str | None
    actor_type: str
    actor_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


class AuditOut(Out):
    entries: list[AuditEntryOut]
    next_cursor: str | None


class DpaIn(Strict):
    # The version offered alone is taken (actions/privacy.py).
    version: str = Field(max_length=32, json_schema_extra={"enum": [DPA_VERSION]})


class DpaOperator(Out):
    id: str
    name: str | None


class DpaAcceptanceOut(Out):
    version: str
    operator: DpaOperator | None
    accepted_at: str | None


class DpaOut(Out):
    current_version: str
    acceptances: list[DpaAcceptanceOut]
