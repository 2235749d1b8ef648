"""Telling people outside the page: Web Push subscriptions and preferences, mail (preferences,
reply addresses, refused addresses, opt-outs) and webhooks with their delivery log."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from causerie.store.schema.base import ID, metadata
from causerie.store.types import Json, UTCDateTime

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
