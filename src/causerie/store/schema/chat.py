"""The chat itself: visitors' sessions, conversations, messages and their files, the event log
behind `seq` and resume, the inbox's canned replies and labels, and visitors' ratings.

Personal data lives in `sessions` (IP, user agent, page, profile) and `messages` (bodies);
docs/privacy.md lists each field with its purpose and retention.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from causerie.store.schema.base import ID, metadata
from causerie.store.types import BigId, Json, UTCDateTime

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_access_at", UTCDateTime, nullable=False),
    Column("permanent_since", UTCDateTime),
    Column("ip", String(45)),
    Column("ip_seen_at", UTCDateTime),
    Column("user_agent", String(512), nullable=False, default=""),
    Column("locale", String(35)),
    Column("timezone", String(64)),
    Column("page_url", Text, nullable=False, default=""),
    Column("page_title", Text, nullable=False, default=""),
    Column("page_referrer", Text, nullable=False, default=""),
    Column("nickname", String(200)),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("data", Json, nullable=False),
    # P9: the version of the website's notice the visitor accepted, and when; NULL when not
    # given or withdrawn.
    Column("consent_version", Integer),
    Column("consent_at", UTCDateTime),
    Index(None, "state", "last_access_at"),
    Index(None, "ip_seen_at"),
    Index(None, "website_id", "last_access_at"),
    Index(None, "email"),
)

# What the partial indexes of `conversations` hold: the resolved conversations (the retention of
# those idle past a cut-off), the open ones of a team that wait for an operator (a team's queue),
# and the assigned ones (an operator's deletion, ON DELETE SET NULL). The queries that use them
# name the same condition, with constants (SQLite and PostgreSQL use a partial index only for a
# query whose WHERE implies the index's, and PostgreSQL's generic plans only for constants).
RESOLVED_ONLY = text("state = 'resolved'")
WAITING_ONLY = text("team_id IS NOT NULL AND state = 'open' AND assignee_id IS NULL")
ASSIGNED_ONLY = text("assignee_id IS NOT NULL")

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column(
        "session_id",
        ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("state", String(16), nullable=False),
    Column("assignee_id", ForeignKey("operators.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_message_at", UTCDateTime),
    Column("unread_by_visitor", Integer, nullable=False, default=0),
    Column("unread_by_operator", Integer, nullable=False, default=0),
    Column("visitor_read_up_to", String(ID)),
    Column("operator_read_up_to", String(ID)),
    # The ids of the website's labels on it, a JSON list (domain/labels.py).
    Column("labels", Json, nullable=False, server_default="[]"),
    # The team the conversation waits in or was assigned through (docs/inbox.md "Teams"), and
    # when it was last resolved (the resolution a rating rates).
    Column("team_id", ForeignKey("teams.id", ondelete="SET NULL")),
    Column("resolved_at", UTCDateTime),
    # An agent marked it as spam: out of the inbox's lists but for its spam filter.
    Column("spam", Boolean, nullable=False, server_default=false()),
    Index(None, "website_id", "state", "last_message_at"),
    Index(None, "website_id", "last_message_at"),
    Index(None, "website_id", "assignee_id", "last_message_at"),
    # Partial: on PostgreSQL a message's touch (never HOT: `last_message_at` is indexed) writes
    # an entry to every index whose condition its row meets, so an open conversation with no
    # team and no assignee writes none to these three; on SQLite an open conversation's message
    # moves no entry of the first (docs/performance.md, `pg4`). Their PostgreSQL forms are
    # declared with that database's options (`declare_full_schema`).
    Index("ix_conversations_resolved_updated_at", "updated_at", sqlite_where=RESOLVED_ONLY),
    Index("ix_conversations_waiting", "team_id", "created_at", sqlite_where=WAITING_ONLY),
    Index("ix_conversations_assignee_id", "assignee_id", sqlite_where=ASSIGNED_ONLY),
)

OPERATORS_ONLY = text("operator_id IS NOT NULL")

messages = Table(
    "messages",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column(
        "conversation_id",
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("author", String(16), nullable=False),
    Column("operator_id", ForeignKey("operators.id", ondelete="SET NULL")),
    Column("type", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("event", Json),  # an event line's kind and parameters (domain/languages.py)
    UniqueConstraint("conversation_id", "client_id"),
    Index(None, "conversation_id", "seq"),
    # Only for an operator's deletion (ON DELETE SET NULL): a visitor's message, most of them,
    # writes no entry (docs/performance.md, "The message path near its floor"). Its PostgreSQL
    # form is declared with the rest of that database's options (`declare_full_schema`).
    Index(None, "operator_id", sqlite_where=OPERATORS_ONLY),
)

canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("shortcut", String(32), nullable=False),
    Column("title", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("website_id", "shortcut"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(40), nullable=False),
    Column("color", String(7), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("website_id", "name"),
)

# The event log behind `seq` and resume (docs/realtime.md). Rows hold ids, never content, and go
# with their session (cascade), so deleting a conversation leaves nothing to replay.
streams = Table(
    "streams",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE")),
    Index(None, "session_id"),
)

events = Table(
    "events",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("type", String(32), nullable=False),
    Column("object_id", String(ID), nullable=False),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE")),
    Column("data", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "session_id"),
)

# The files of messages of type `file` (docs/api.md "Files", docs/privacy.md "Files"). The bytes
# are in the file store under `store_key` (and `thumbnail_key` for an image's thumbnail), keys
# Causerie made; both are NULL once the file expired (the website's `retention.files`). Deleting
# the message (with its conversation, its session) sets `message_id` NULL rather than deleting
# the row: whoever deletes then takes these orphans in the same transaction and queues the
# deletion of their bytes (a `files.delete` job), so no deletion path can leak bytes.
files = Table(
    "files",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("message_id", ForeignKey("messages.id", ondelete="SET NULL")),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("store_key", String(ID)),
    Column("thumbnail_key", String(ID)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expired_at", UTCDateTime),
    Index(None, "message_id", unique=True),
    Index(None, "created_at"),
    Index(None, "store_key"),
)

# A visitor's rating of a resolved conversation: one per resolution (`resolved_at`, the
# conversation's at the time), a re-rate replaces it. Kept for reports (per website, per day, per
# operator who held the conversation); the comment is the visitor's words and goes with the
# conversation (P20) and the person (P9).
ratings = Table(
    "ratings",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("operator_id", ForeignKey("operators.id", ondelete="SET NULL")),
    Column("resolved_at", UTCDateTime, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("conversation_id", "resolved_at"),
    Index(None, "website_id", "created_at"),
)
