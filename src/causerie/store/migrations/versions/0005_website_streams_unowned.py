"""A website's stream belongs to no session.

The first event on a website's stream used to record the session that wrote it as the stream's
owner, so deleting that session (P20, retention) deleted the stream's row with it, and the next
event restarted at seq 1 and collided with the rows still logged. Only a session's own stream is
owned by it now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE streams SET session_id = NULL WHERE stream NOT LIKE 'session:%'")


def downgrade() -> None:
    pass  # the owners it cleared were wrong; there is nothing to restore
