"""The shapes of `/api/v1`'s canned replies and labels (docs/inbox.md)."""

# Annotations evaluated as the classes are made: see this package's __init__.

from typing import Any

from pydantic import Field

from causerie.domain import labels, replies
from causerie.web.api_models import Id, Out
from causerie.web.schemas import NOT_BLANK, Patch, Strict, named

# What the domain takes (domain/replies.py, domain/labels.py), as the document declares it; the
# domain checks it, with its own codes and messages.
_TITLE = named(replies.TITLE_LENGTH)
_BODY: Any = {"minLength": 1, "pattern": NOT_BLANK, "maxLength": replies.BODY_LENGTH}
_COLOR: Any = {"pattern": f"^{labels.COLOR.pattern}$", "maxLength": 7}
_SHORTCUT: Any = {"pattern": f"^{replies.SHORTCUT.pattern}$", "maxLength": replies.SHORTCUT_LENGTH}


class ReplyIn(Strict):
    shortcut: str = Field(json_schema_extra=_SHORTCUT)
    title: str = Field(json_schema_extra=_TITLE)
    body: str = Field(json_schema_extra=_BODY)


class ReplyPatch(Patch):
    shortcut: str | None = Field(default=None, json_schema_extra=_SHORTCUT)
    title: str | None = Field(default=None, json_schema_extra=_TITLE)
    body: str | None = Field(default=None, json_schema_extra=_BODY)


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
    name: str = Field(json_schema_extra=named(labels.NAME_LENGTH))
    color: str = Field(json_schema_extra=_COLOR)  # "#rrggbb"


class LabelPatch(Patch):
    name: str | None = Field(default=None, json_schema_extra=named(labels.NAME_LENGTH))
    color: str | None = Field(default=None, json_schema_extra=_COLOR)


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
