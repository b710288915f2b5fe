"""Alembic environment: runs with the connection tepat hands it (see ``tepat.store.migrate``)."""

from __future__ import annotations

from alembic import context

from tepat.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    on_version_apply=context.config.attributes.get("on_version_apply"),  # ``tepat.store.migrate``'s progress
)
with context.begin_transaction():
    context.run_migrations()
