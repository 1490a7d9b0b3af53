"""The reference server's tables (SQLAlchemy Core; created with ``create_all`` on first use).

One row per record, whatever its type: the feed is "every record whose ``seq`` is above the
cursor", so a record changed ten times between two polls is sent once, in its latest state.
``data`` is the record's JSON text, spliced into feed pages as it is (no parse, no re-dump).
``path`` is the record's materialised scope path (see ``sync.server.scope``); NULL for the
global types. ``scope_exits`` remembers where a record was before it moved, so a terminal that
can no longer see it is sent a delete.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from supervision.store.types import UTCDateTime

metadata = MetaData()

# Scope paths are compared as byte strings (range scans on a prefix): PostgreSQL's default
# collation may be linguistic, where "/a/b/" ≤ x < "/a/b0" is not the set of strings starting with
# "/a/b/". SQLite's default BINARY collation already compares bytes.
PathText = Text().with_variant(Text(collation="C"), "postgresql")

# 2: action ids are unique per terminal (were global); server_secrets (signed cursors).
SCHEMA_VERSION = 2

server_state = Table(
    "server_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("epoch", String(64), nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    # Cursors below this seq expired (compaction removed tombstones they would still need).
    Column("floor", BigInteger, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The key that signs cursors (HMAC-SHA256): made once, kept across restarts, never sent.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("cursor_key", String(64), nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("type", String(40), nullable=False),
    Column("id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("path", PathText),
    Column("data", Text),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("type", "id"),
    Index("ix_records_seq", "seq", unique=True),
    Index("ix_records_path", "path", "type"),
)

scope_exits = Table(
    "scope_exits",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("id", String(200), nullable=False),
    Column("old_path", PathText, nullable=False),
    Index("ix_scope_exits_record", "type", "id"),
)

# Provisional roots (``/w:win-9/``) that records wait below for their anchor to arrive: a new
# anchor looks here instead of range-scanning the records for dependents it almost never has.
provisional_roots = Table(
    "provisional_roots",
    metadata,
    Column("root", PathText, primary_key=True),
)

terminals = Table(
    "terminals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("scope", String(200), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),  # never the token itself
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime()),
    Column("relay_url", Text),
    Column("published_at", UTCDateTime()),  # when its `terminal` record was last published
    Column("status", Text),  # the last heartbeat's cameras and warning counts (JSON)
)

actions = Table(
    "actions",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False),  # the client's idempotency key, unique per terminal
    Column("terminal_id", String(40), nullable=False),
    Column("terminal", String(200), nullable=False),
    Column("type", String(60), nullable=False),
    Column("status", String(20), nullable=False),  # applied | rejected
    Column("code", String(40)),
    Column("message", Text),
    Column("warning", String(500), index=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("payload", Text, nullable=False),
    Index("ux_actions_terminal_id", "terminal_id", "id", unique=True),
)

# The server's view of each warning's lifecycle, for the first-transition-wins rule. ``episode``
# is when the warning reached the level it was acted on at (ISO UTC, sortable); a later episode
# (risen to red, raised again) starts afresh from active.
warning_states = Table(
    "warning_states",
    metadata,
    Column("key", String(500), primary_key=True),
    Column("episode", String(40), nullable=False),
    Column("state", String(20), nullable=False),  # active | acknowledged | disposed
    Column("action_id", String(200), nullable=False),
    Column("by", String(200), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)
