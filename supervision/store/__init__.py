"""The store: SQLAlchemy 2 typed ORM for every synced record type and the terminal's own tables,
SQLite (WAL, busy timeout, immediate write transactions) or PostgreSQL, migrated by Alembic."""

from supervision.store.db import Store, open_store

__all__ = ["Store", "open_store"]
