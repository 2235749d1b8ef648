"""Alembic environment: runs on the connection `causerie.store.migrate` hands it."""

from __future__ import annotations

from alembic import context

from causerie.store.schema import declare_full_schema

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=declare_full_schema(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # Told after each migration (causerie.store.migrate: progress, and a stop between two).
    on_version_apply=context.config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
