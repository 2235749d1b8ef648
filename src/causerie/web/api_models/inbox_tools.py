"""The shapes of `/api/v1`'s canned replies and labels (docs/inbox.md)."""

# Annotations evaluated as the classes are made: see this package's __init__.

from pydantic import Field

from causerie.web.api_models import Id, Out
from causerie.web.schemas import Strict


class ReplyIn(Strict):
    shortcut: str = Field(max_length=64)
    title: str = Field(max_length=200)
    body: str = Field(max_length=20_000)


class ReplyPatch(Strict):
    shortcut: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=20_000)


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
    name: str = Field(max_length=200)
    color: str = Field(max_length=20)


class LabelPatch(Strict):
    name: str | None = Field(default=None, max_length=200)
    color: str | None = Field(default=None, max_length=20)


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
