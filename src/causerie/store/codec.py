"""Rows as domain objects: one codec per dataclass, derived from the schema and the dataclass.

A `Codec` reads a row (a SQLAlchemy `Row`, or a tuple of values already decoded by the columns'
types) by position: the positions come from the table's columns, the conversions from the
dataclass's field types (an enum from its value, a tuple or a frozenset from a JSON list, a dict
copied). Every repository builds its objects through these, whichever way the row was read
(`store/db.py`).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Sequence
from dataclasses import fields
from enum import Enum
from operator import itemgetter
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import ColumnElement

from causerie.domain.events import StoredEvent
from causerie.domain.labels import Label
from causerie.domain.mail import MailFailure, ReplyAddress
from causerie.domain.models import (
    AccountLink,
    ApiToken,
    Attachment,
    AuditEntry,
    Conversation,
    DpaAcceptance,
    Login,
    Message,
    Operator,
    Session,
    Website,
)
from causerie.domain.push import PushSubscription
from causerie.domain.ratings import Rating
from causerie.domain.replies import CannedReply
from causerie.domain.reports import ConversationFacts
from causerie.store.schema import accounts, chat, notifications, reports, upkeep

T = TypeVar("T")
Convert = Callable[[Any], Any]


def _enum(cls: type[Enum]) -> Convert:
    # A dict lookup: calling the enum with a value takes its slow path.
    return {member.value: member for member in cls}.__getitem__


def _converter(hint: Any) -> Convert | None:
    """What turns a column's value into a field of type `hint` (None: the value as it is)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        convert = _converter(inner)
        if convert is None:
            return None
        return lambda value: None if value is None else convert(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if origin is tuple:
        return tuple
    if origin is dict:
        return dict
    if origin is frozenset:
        (item,) = args
        each = _converter(item)
        return frozenset if each is None else lambda value: frozenset(map(each, value))
    return None


def _unfrozen_twin(cls: type[Any]) -> type[Any] | None:
    """For a frozen dataclass with slots: a class of the same fields and slots, not frozen, whose
    instances become `cls`'s by `__class__` (None for any other class).

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`, a call of its
    own per field (a `Session`'s 20 fields: about 20 k instructions a chatbox load); the twin's
    sets each with a plain store. Its instance, given `cls` as its class, is what `cls(*values)`
    builds: the same slots holding the same values, frozen, equal and hashed as `cls`'s. Only for
    classes whose `__init__` does no more than set the fields (no `__post_init__`, every field
    taken by `__init__`), and when Python allows the swap (tried once, at the start); the
    store's tests compare the two ways field by field."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in vars(cls):
        return None
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    every = fields(cls)
    if not params.frozen or hasattr(cls, "__post_init__") or not all(f.init for f in every):
        return None
    twin = dataclasses.make_dataclass(
        cls.__name__,
        [(f.name, f.type, _same_default(f)) for f in every],
        slots=True,
        repr=False,
        eq=False,
    )
    probe: Any = object.__new__(twin)
    try:
        probe.__class__ = cls  # the layouts Python allows to swap: checked once, here
    except TypeError:
        return None
    return twin


def _same_default(f: dataclasses.Field[Any]) -> Any:
    return dataclasses.field(default=f.default, default_factory=f.default_factory)


class Codec(Generic[T]):
    """Builds a `cls` from a row whose `columns` start at position `start`.

    Each field of `cls` named like one of `columns` is read from it; the others keep their
    defaults, or come from `extra` (a field name -> the position of a labelled column).
    """

    def __init__(
        self,
        cls: type[T],
        columns: Sequence[ColumnElement[Any]],
        *,
        start: int = 0,
        extra: dict[str, int] | None = None,
    ) -> None:
        hints = get_type_hints(cls)
        names = [column.name for column in columns]
        positions = {name: start + at for at, name in enumerate(names)}
        positions.update(extra or {})
        self._cls = cls
        self._fields = [f.name for f in fields(cls) if f.name in positions]  # type: ignore[arg-type]
        self._positional = self._fields == [f.name for f in fields(cls)]  # type: ignore[arg-type]
        self._twin = _unfrozen_twin(cls) if self._positional else None
        self._pick = itemgetter(*(positions[name] for name in self._fields))
        self._converters = [
            (at, convert)
            for at, name in enumerate(self._fields)
            if (convert := _converter(hints[name])) is not None
        ]

    def __call__(self, row: Sequence[Any]) -> T:
        values = list(self._pick(row))
        for at, convert in self._converters:
            values[at] = convert(values[at])
        twin = self._twin
        if twin is not None:
            built = twin(*values)
            built.__class__ = self._cls
            return built  # type: ignore[no-any-return]
        if self._positional:
            return self._cls(*values)
        return self._cls(**dict(zip(self._fields, values, strict=True)))


# The session's columns but its token's hash, in the table's order: what every read of it selects.
SESSION_COLUMNS = [c for c in chat.sessions.c if c.name != "token_hash"]

website = Codec(Website, list(accounts.websites.c))
operator = Codec(Operator, list(accounts.operators.c))
session = Codec(Session, SESSION_COLUMNS)
conversation = Codec(Conversation, list(chat.conversations.c))
# Messages are read with their author's name (`operator_name`, labelled) after their columns,
# then their file's columns (`MESSAGE_FILE_COLUMNS`, NULL when the message carries none).
_M = len(chat.messages.c)
MESSAGE_FILE_COLUMNS = [
    chat.files.c.id,
    chat.files.c.name,
    chat.files.c.size,
    chat.files.c.content_type,
    chat.files.c.thumbnail_key,
    chat.files.c.expired_at,
]
_message = Codec(Message, list(chat.messages.c), extra={"operator_name": _M})


def message(row: Sequence[Any]) -> Message:
    decoded = _message(row)
    file_id = row[_M + 1]
    if file_id is None:
        return decoded
    file = Attachment(
        id=file_id,
        name=row[_M + 2],
        size=int(row[_M + 3]),
        content_type=row[_M + 4],
        has_thumbnail=row[_M + 5] is not None,
        expired=row[_M + 6] is not None,
    )
    return dataclasses.replace(decoded, file=file)


login = Codec(Login, list(accounts.logins.c))
link = Codec(AccountLink, list(accounts.account_links.c))
api_token = Codec(ApiToken, list(accounts.api_tokens.c))
audit_entry = Codec(AuditEntry, list(upkeep.audit_log.c))
# With the accepting operator's name (`operator_name`, labelled) after the columns.
dpa_acceptance = Codec(
    DpaAcceptance,
    list(accounts.dpa_acceptances.c),
    extra={"operator_name": len(accounts.dpa_acceptances.c)},
)
event = Codec(StoredEvent, list(chat.events.c))
canned_reply = Codec(CannedReply, list(chat.canned_replies.c))
label = Codec(Label, list(chat.labels.c))
push_subscription = Codec(PushSubscription, list(notifications.push_subscriptions.c))
reply_address = Codec(ReplyAddress, list(notifications.reply_addresses.c))
mail_failure = Codec(MailFailure, list(notifications.mail_failures.c))
rating = Codec(Rating, list(chat.ratings.c))
report_facts = Codec(ConversationFacts, list(reports.report_conversations.c))
