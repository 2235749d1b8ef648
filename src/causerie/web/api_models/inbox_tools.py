"""The shapes of `/api/v1`'s canned replies and labels (docs/inbox.md)."""

# Annotations evaluated as the classes are made: see this package's __init__.

from typing import Any

from pydantic import Field

from causerie.domain import labels, replies
from causerie.web.api_models import Id, Out
from causerie.web.schemas import Patch, Strict


def _told(limit: int) -> Any:
    """A text whose length the domain alone checks, with its own code and its true limit (a
    second, looser cap here told "at most 200" of a name whose limit is 40); the document
    shows the limit. The body limit (CAUSERIE_MAX_BODY) bounds what is read."""
    return Field(json_schema_extra={"maxLength": limit})


def _told_or_none(limit: int) -> Any:
    return Field(default=None, json_schema_extra={"maxLength": limit})


class ReplyIn(Strict):
    shortcut: str = _told(replies.SHORTCUT_LENGTH)
    title: str = _told(replies.TITLE_LENGTH)
    body: str = _told(replies.BODY_LENGTH)


class ReplyPatch(Patch):
    shortcut: str | None = _told_or_none(replies.SHORTCUT_LENGTH)
    title: str | None = _told_or_none(replies.TITLE_LENGTH)
    body: str | None = _told_or_none(replies.BODY_LENGTH)


class ReplyOut(Out):
    id: str
    shortcut: str
    title: str
    body: str
    created_at: str | None
    updated_at: str | None


class ReplyBody(Out):
    reply: ReplyOut


class RepliesOut(Out):
    replies: list[ReplyOut]


class ReplyVariablesOut(Out):
    variables: dict[str, str]


class LabelIn(Strict):
    name: str = _told(labels.NAME_LENGTH)
    color: str = _told(7)  # "#rrggbb"


class LabelPatch(Patch):
    name: str | None = _told_or_none(labels.NAME_LENGTH)
    color: str | None = _told_or_none(7)


class LabelOut(Out):
    id: str
    name: str
    color: str


class LabelBody(Out):
    label: LabelOut


class LabelsOut(Out):
    labels: list[LabelOut]


class ConversationLabelsIn(Strict):
    labels: list[Id] = Field(max_length=100)
