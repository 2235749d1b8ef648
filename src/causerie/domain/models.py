"""The nouns of the policy: website, operator, session, conversation, message.

See docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"


class SessionState(StrEnum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


class ConversationState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Author(StrEnum):
    VISITOR = "visitor"
    OPERATOR = "operator"
    SYSTEM = "system"


class MessageType(StrEnum):
    TEXT = "text"
    FILE = "file"
    NOTE = "note"
    EVENT = "event"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator (through the API or the inbox), the shell, or the server itself."""

    kind: str  # "operator" | "cli" | "system" | "visitor" (acting on their own session)
    operator_id: str | None = None
    scopes: frozenset[Scope] = frozenset({Scope.READ, Scope.WRITE})
    website_ids: frozenset[str] | None = None  # an API token limited to these websites
    login_id: str | None = None  # set when acting through the inbox's login cookie
    token_id: str | None = None  # set when acting through an API token

    @property
    def via_login(self) -> bool:
        return self.login_id is not None

    @classmethod
    def cli(cls) -> Actor:
        return cls("cli")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


@dataclass(frozen=True)
class Website:
    id: str
    name: str
    origins: tuple[str, ...]
    settings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Operator:
    id: str
    email: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Member:
    """An operator as a member of one website."""

    operator: Operator
    role: Role
    pending: bool  # invited, has not accepted the invitation yet


@dataclass(frozen=True)
class ApiToken:
    id: str
    operator_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    website_ids: frozenset[str] | None = None
    last_used_at: datetime | None = None


class LinkPurpose(StrEnum):
    SETUP = "setup"  # the first owner of a fresh install
    INVITE = "invite"  # a new operator chooses a name and password


@dataclass(frozen=True)
class AccountLink:
    id: str
    purpose: LinkPurpose
    operator_id: str | None
    created_at: datetime
    expires_at: datetime
    # An invitation's website and role, granted when the link is accepted (None for `setup`).
    website_id: str | None = None
    role: Role | None = None


@dataclass(frozen=True)
class Login:
    id: str
    operator_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class PageView(NamedTuple):
    """What the chatbox reports on each load: where the visitor is and how they browse.

    A named tuple rather than a frozen dataclass: as immutable, and built in one call on every
    chatbox load, where a frozen dataclass sets each field through `object.__setattr__`."""

    url: str = ""
    title: str = ""
    referrer: str = ""
    locale: str | None = None
    timezone: str | None = None
    user_agent: str = ""


@dataclass(frozen=True, slots=True)  # one per open visitor socket: kept small
class Session:
    id: str
    website_id: str
    state: SessionState
    created_at: datetime
    last_access_at: datetime
    ip: str | None
    ip_seen_at: datetime | None
    user_agent: str
    locale: str | None
    timezone: str | None
    page_url: str
    page_title: str
    page_referrer: str
    nickname: str | None = None
    email: str | None = None
    phone: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    permanent_since: datetime | None = None
    consent_version: int | None = None  # P9: the notice version accepted; None if not given
    consent_at: datetime | None = None


@dataclass(frozen=True)
class Conversation:
    id: str
    website_id: str
    session_id: str
    state: ConversationState
    assignee_id: str | None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    unread_by_visitor: int = 0
    unread_by_operator: int = 0
    visitor_read_up_to: str | None = None
    operator_read_up_to: str | None = None
    labels: tuple[str, ...] = ()  # ids of the website's labels (domain/labels.py)
    team_id: str | None = None  # the team it waits in or was assigned through (domain/teams.py)
    resolved_at: datetime | None = None  # its last resolution (the one a rating rates)
    spam: bool = False  # an agent marked it as spam: it shows in the inbox's spam filter only


@dataclass(frozen=True)
class Attachment:
    """The file a message of type `file` carries (docs/api.md, "Files"): what the wire shows.
    `expired`: its bytes are gone (the website's `retention.files`); the message stays."""

    id: str
    name: str
    size: int
    content_type: str
    has_thumbnail: bool
    expired: bool = False


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    author: Author
    type: MessageType
    body: str
    client_id: str
    created_at: datetime
    operator_id: str | None = None
    operator_name: str | None = None
    file: Attachment | None = None
    # An event line's kind and parameters (domain/languages.py); None for any other message.
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class ConversationSummary:
    """A row of the inbox's conversation list."""

    conversation: Conversation
    nickname: str | None
    email: str | None
    last_message: Message | None


@dataclass(frozen=True)
class AuditEntry:
    """A privileged act. Holds ids and counts only: never a name, an email, an IP or a text."""

    id: str
    at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    website_id: str | None
    target_type: str
    target_id: str
    details: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class DpaAcceptance:
    """P10: a website accepted a version of the data-processing agreement."""

    id: str
    website_id: str
    version: str
    operator_id: str | None
    accepted_at: datetime
    operator_name: str | None = None
