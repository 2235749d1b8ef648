"""The tables. Migrations in `migrations/versions` must produce exactly this, search indexes
included (`declare_full_schema`; tests compare them).

Personal data lives in `sessions` (IP, user agent, page, profile) and `messages` (bodies);
docs/privacy.md lists each field with its purpose and retention.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from causerie.store.types import BigId, Json, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 24  # length of causerie.tokens.new_id()

websites = Table(
    "websites",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("origins", Json, nullable=False),
    Column("settings", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

operators = Table(
    "operators",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200)),
    Column("password_is_temporary", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    Column("language", String(8)),  # domain/languages.py; NULL: the browser's
)

memberships = Table(
    "memberships",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "operator_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    # None: every website of the operator; else the ids it may act on.
    Column("website_ids", Json),
    Index(None, "operator_id"),
)

# An operator's login to the inbox: the cookie holds the token, this row its hash.
logins = Table(
    "logins",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "operator_id"),
    Index(None, "expires_at"),
)

# One-time links: `setup` (the first owner of a fresh install) and `invite` (an invitation to
# one website with one role, granted when the link is accepted: docs/api.md "Invitations").
account_links = Table(
    "account_links",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("purpose", String(16), nullable=False),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE")),
    Column("role", String(16)),
    Index(None, "expires_at"),
    Index(None, "website_id"),
)

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

# Teams of a website's operators: new conversations are assigned among the online members of a
# `round_robin` team under `capacity` open conversations each (docs/inbox.md "Teams").
teams = Table(
    "teams",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "website_id"),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True),
    # Round robin: the member assigned longest ago (or never) is offered the next conversation.
    Column("last_assigned_at", UTCDateTime),
    Index(None, "operator_id"),
)

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
    Index(None, "website_id", "state", "last_message_at"),
    Index(None, "website_id", "last_message_at"),
    Index(None, "website_id", "assignee_id", "last_message_at"),
    Index(None, "state", "updated_at"),
    Index(None, "assignee_id"),
)

OPERATORS_ONLY = text("operator_id IS NOT NULL")
UNRANKED = text("median IS NULL")

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


# The GIN trigram indexes on `lower(column)` behind the inbox's search, PostgreSQL only (migration
# 0006); SQLite has none, its search scans.
TRIGRAM_INDEXES: tuple[tuple[str, Column[str]], ...] = (
    ("ix_messages_body_trgm", messages.c.body),
    ("ix_sessions_nickname_trgm", sessions.c.nickname),
    ("ix_sessions_email_trgm", sessions.c.email),
)


def declare_full_schema() -> MetaData:
    """`metadata`, with what only PostgreSQL uses declared (once): the `TRIGRAM_INDEXES` and the
    partial forms of `messages.operator_id`'s and `report_day_histograms`' indexes. They are
    declared when asked for, by the migrations' environment and the tests that compare the
    schema, rather than at import: their options have SQLAlchemy import its PostgreSQL dialect
    (2.6 MiB) into every process, and a running server never reads them."""
    for name, column in TRIGRAM_INDEXES:
        if any(index.name == name for index in column.table.indexes):
            continue
        Index(
            name,
            func.lower(column).label(column.name),
            postgresql_using="gin",
            postgresql_ops={column.name: "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql")
    for index in messages.indexes:
        if [c.name for c in index.columns] == ["operator_id"]:
            index.dialect_kwargs["postgresql_where"] = OPERATORS_ONLY
    for index in report_day_histograms.indexes:
        index.dialect_kwargs["postgresql_where"] = UNRANKED
    return metadata


audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", String(ID)),
    Column("action", String(64), nullable=False),
    # No foreign key: the record of a deletion outlives what it deleted.
    Column("website_id", String(ID)),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(ID), nullable=False),
    Column("details", Json, nullable=False),
    Index(None, "website_id", "at"),
    Index(None, "at"),
)

network_stats = Table(
    "network_stats",
    metadata,
    Column("network", String(50), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("sessions", Integer, nullable=False, default=0),
    Column("messages", Integer, nullable=False, default=0),
    Index(None, "day"),
)

# The shield (P18). Block rules hold what an owner or admin typed (an address, a network, an
# email, a user-agent pattern) to refuse the chatbox; `website_id` NULL: server-wide.
block_rules = Table(
    "block_rules",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE")),
    Column("kind", String(16), nullable=False),
    Column("value", String(512), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(ID)),
    Column("expires_at", UTCDateTime),
    Index(None, "website_id"),
)

# Conversations an agent marked as spam: out of the inbox's lists but for its spam filter.
spam_marks = Table(
    "spam_marks",
    metadata,
    Column(
        "conversation_id",
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("marked_at", UTCDateTime, nullable=False),  # who marked it: the audit log says
)

# Per-network counts per window when Redis is not configured: keyed hashes, never addresses.
shield_counts = Table(
    "shield_counts",
    metadata,
    Column("window_start", UTCDateTime, primary_key=True),
    Column("network", String(32), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)

purge_runs = Table(
    "purge_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("counts", Json, nullable=False),
    Index(None, "at"),
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

# P10: a website's acceptance of a data-processing agreement version: who, when, which.
dpa_acceptances = Table(
    "dpa_acceptances",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("version", String(32), nullable=False),
    Column("operator_id", ForeignKey("operators.id", ondelete="SET NULL")),
    Column("accepted_at", UTCDateTime, nullable=False),
    Index(None, "website_id", "accepted_at"),
)

# Background work (domain/jobs.py): written in the transaction of the change that causes it,
# claimed by one node at a time. A job about a person goes with their session (P9, P15, P20).
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("key", String(200), unique=True),  # idempotency: one pending job per key
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE")),
    Column("payload", Json, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("run_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "state", "run_at"),
    Index(None, "session_id"),
)

# Web Push (domain/push.py, docs/notifications.md): one row per browser of an operator, gone with
# the operator's account or the credential it was made with (cascades), or when its push service
# answers 404/410.
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(2000), nullable=False, unique=True),
    Column("p256dh", String(100), nullable=False),
    Column("auth", String(40), nullable=False),
    Column("device", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The login or API token it was made with: it goes with it (signing out, a login's expiry
    # and purge, another login's password change, a revoked token).
    Column("login_id", ForeignKey("logins.id", ondelete="CASCADE")),
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE")),
    Index(None, "operator_id"),
    Index(None, "login_id"),
    Index(None, "token_id"),
)

# An operator's choices about pushes; no row: the defaults (no previews).
push_preferences = Table(
    "push_preferences",
    metadata,
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True),
    Column("previews", Boolean, nullable=False),
)

# Mail (docs/notifications.md). An operator's notification preferences: named booleans
# (domain/mail.py NOTIFICATION_PREFERENCES), defaults for the names not stored.
notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True),
    Column("preferences", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A reply address `reply+TOKEN@CAUSERIE_MAIL_DOMAIN`: its token's hash, and where a reply goes.
reply_addresses = Table(
    "reply_addresses",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "session_id"),
    Index(None, "conversation_id"),
    Index(None, "operator_id"),
    Index(None, "expires_at"),
)

# Addresses the mail server refused for good, shown to the website's agents; a failed address
# gets no more mail. A visitor's goes with their session, an operator's with their account.
mail_failures = Table(
    "mail_failures",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(320), nullable=False),
    Column("error", Text, nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE")),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE")),
    Index(None, "website_id", "address"),
    Index(None, "session_id"),
    Index(None, "operator_id"),
)

# A visitor who unsubscribed (one click, RFC 8058) gets no more mail about their conversation.
mail_opt_outs = Table(
    "mail_opt_outs",
    metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
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

# Webhooks (domain/webhooks.py). The secret is kept as is: it signs every delivery, so it must be
# recoverable, which a hash is not (docs/security.md, "Webhook secrets").
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Json, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100)),
    Column("previous_until", UTCDateTime),
    Column("enabled", Boolean, nullable=False),
    Column("failing_since", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "website_id"),
)

# The delivery log: one row per event per webhook, with the body sent on every attempt. A row
# about a person goes with their session (P9, P20); every row goes after LOG_RETENTION (P6).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("webhook_id", ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE")),
    Column("event_type", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("last_attempt_at", UTCDateTime),
    Column("status_code", Integer),
    Column("latency_ms", Integer),
    Column("error", Text),
    Column("answer_head", Text),
    Index(None, "webhook_id", "created_at"),
    Index(None, "session_id"),
    Index(None, "created_at"),
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

_REPORT_COUNTS = (
    "chatbox_loads",
    "sessions_created",
    "conversations_started",
    "conversations_resolved",
    "messages_visitor",
    "messages_operator",
    "ratings_count",
    "ratings_sum",
)

# Reports (docs/reports.md): hourly rollups, aggregates only (P3). One row per UTC hour of a
# website, or of one agent, label or team on it (`dimension`, `key`). No visitor in them, so they
# outlive every conversation they count. No foreign key on `key`: an agent's history stays.
report_hours = Table(
    "report_hours",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _REPORT_COUNTS),
    Index(None, "website_id", "dimension", "hour"),  # all agents' hours at a period's edges
)

# The same counts per UTC day (`day`: its midnight), added to with each hour: a period's whole UTC
# days are read from here, its partial edges from `report_hours` (docs/reports.md "Speed"). The
# day (hour) comes before the key so that all agents of a period are one range.
report_days = Table(
    "report_days",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("day", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _REPORT_COUNTS),
    # The website's rows: conversations started in each of the day's 24 UTC hours (a JSON array),
    # added to with the counts, so that the week's heatmap reads days, not hours.
    Column("started_hours", Json),
    # Raised by every change to the row; a rebuild starts above the highest before. The local
    # days kept per offset (`report_offset_days`) are valid while their days' versions hold.
    Column("version", BigInteger, nullable=False, server_default="1"),
)

# Histograms of durations in seconds, one row per bucket (domain/reports.py `bucket`) and
# `metric` (`first_response`, `resolution`), per UTC hour and per UTC day as the counts above.
report_hour_buckets = Table(
    "report_hour_buckets",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,  # rows in the key's b-tree: a range is one walk
)
report_day_buckets = Table(
    "report_day_buckets",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("day", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,  # rows in the key's b-tree: a range is one walk
)

# The same histograms per UTC month (`month`: its first midnight), added to with each hour: a
# period's agents, labels, teams and totals read its whole months here, so a year is ~12 rows per
# bucket instead of ~365 (docs/reports.md "Speed").
report_month_buckets = Table(
    "report_month_buckets",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("month", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,  # rows in the key's b-tree: a range is one walk
)

# The website's histograms once more per UTC day, each as one JSON object (bucket -> count),
# added to in SQL (`json_set`, `jsonb ||`): a year's per-day percentiles parse 730 rows instead
# of joining ~55,000 bucket rows; with its median and 90th percentile, ranked by the database in
# the transaction that changes the object, read as they are for UTC days (docs/reports.md "Speed").
report_day_histograms = Table(
    "report_day_histograms",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("day", UTCDateTime, primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("hist", Json, nullable=False),
    Column("median", Integer),
    Column("p90", Integer),
    Column("version", BigInteger, nullable=False, server_default="1"),  # as `report_days`'
    # The days to rank (`rank_days`): only those changed since, so the index stays small.
    Index("ix_report_day_histograms_unranked", "website_id", sqlite_where=UNRANKED),
    sqlite_with_rowid=False,
)

# The website's local days at one UTC offset throughout (`day`: days since 1970-01-01, local;
# `utc_offset` in seconds), their counts and percentiles as a report computed them, with the
# versions of the UTC days they were read from (`stamp`): a report reads a year in any zone from
# ~365 of them when their stamps still hold (domain/report_days.py, docs/reports.md "Speed").
# At most `MAX_OFFSETS` offsets per website; dropped by a rebuild and with the website.
report_offset_days = Table(
    "report_offset_days",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("utc_offset", Integer, primary_key=True, autoincrement=False),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("stamp", String(160), nullable=False),  # 2 x 3 versions
    *(Column(name, Integer, nullable=False) for name in _REPORT_COUNTS),
    *(
        Column(f"{metric}_{rank}", Integer)
        for metric in ("first_response", "resolution")
        for rank in ("median", "p90")
    ),
    sqlite_with_rowid=False,
)

# What reports need to know of each conversation (its start, first answer, resolution); goes
# with the conversation (cascade), as its messages do.
report_conversations = Table(
    "report_conversations",
    metadata,
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("visitor_started", Boolean, nullable=False),
    Column("first_response_at", UTCDateTime),
    Column("first_responder_id", String(ID)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(ID)),
    Index(None, "website_id"),
)
