"""What runs behind the requests: the audit log, the purge's runs and background jobs."""

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
from causerie.store.types import BigId, Json, UTCDateTime

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

purge_runs = Table(
    "purge_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("counts", Json, nullable=False),
    Index(None, "at"),
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
