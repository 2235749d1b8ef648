"""Websites, operators and what gives them access: memberships, API tokens, logins, one-time
links, teams, and the acceptances of the data-processing agreement."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from causerie.store.schema.base import ID, metadata
from causerie.store.types import Json, UTCDateTime

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
