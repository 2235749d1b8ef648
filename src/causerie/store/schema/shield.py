"""The shield (P18): per-network statistics and counts, block rules, spam marks."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from causerie.store.schema.base import ID, metadata
from causerie.store.types import UTCDateTime

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
# email, a user-agent pattern) to refuse the chatbox; `website_id` NULL: server-wide. A rule made
# by "block this visitor" copies the session's address: `ip_seen_at` is when the session recorded
# it, and the purge removes the rule once the website's chat IP retention, as it is now, has run
# from then (P18, P20); NULL for a rule typed by hand.
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
    Column("ip_seen_at", UTCDateTime),
    Index(None, "website_id"),
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
