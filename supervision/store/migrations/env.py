"""Alembic environment: runs on the connection the store hands over (``Store.migrate``)."""

from __future__ import annotations

from alembic import context

from supervision.store.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations always run through Store.migrate
    raise RuntimeError("run migrations through supervision.store.open_store()")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
