"""A block rule made by "block this visitor" records when its copied address was recorded.

`block_rules.ip_seen_at` is when the session recorded the address (or network) the rule copied;
NULL for a rule typed by hand. The purge's `expired_blocks` removes such a rule once the
website's chat IP retention, as it is at the purge, has run from then (P18, P20): a retention
shortened later no longer leaves the copy behind the address it copied.

Rules made before this revision did not say where they came from. The audit log does: each
`block.added` entry names its rule and `from` ("conversation": block this visitor; "rule": typed).
This revision marks, conservatively, every website's address or network rule that the log does
not show typed by hand: those made from a visitor, and those whose entry the audit retention
already purged (older than `CAUSERIE_AUDIT_RETENTION`: nothing tells how they were made). The
session's own time is not known any more: the rule's `created_at` stands for it (the address was
recorded at or before then), so a copy may outlive its address by as long as the conversation
had lasted when the visitor was blocked. Server-wide rules and email or user-agent rules are
never copies. A downgrade drops the column: the rules stay, ending by their own expiry only.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_BATCH = 500


def _typed_by_hand(conn: sa.Connection) -> set[str]:
    """The rules whose `block.added` entry says an owner, admin or operator typed them."""
    rows = conn.execute(
        sa.text(
            "SELECT target_id, details FROM audit_log"
            " WHERE action = 'block.added' AND target_type = 'block_rule'"
        )
    )
    typed = set()
    for target_id, details in rows:
        found: Any = json.loads(details) if isinstance(details, str | bytes) else details
        if isinstance(found, dict) and found.get("from") != "conversation":
            typed.add(str(target_id))
    return typed


def upgrade() -> None:
    with op.batch_alter_table("block_rules") as batch:
        batch.add_column(sa.Column("ip_seen_at", sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    typed = _typed_by_hand(conn)
    candidates = [
        str(row[0])
        for row in conn.execute(
            sa.text(
                "SELECT id FROM block_rules WHERE website_id IS NOT NULL"
                " AND kind IN ('address', 'network')"
            )
        )
    ]
    copies = [rule_id for rule_id in candidates if rule_id not in typed]
    for start in range(0, len(copies), _BATCH):
        conn.execute(
            sa.text("UPDATE block_rules SET ip_seen_at = created_at WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": copies[start : start + _BATCH]},
        )


def downgrade() -> None:
    with op.batch_alter_table("block_rules") as batch:
        batch.drop_column("ip_seen_at")
