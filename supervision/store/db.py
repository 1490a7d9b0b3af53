"""Opening the store: engine set-up per backend, migrations on open, read and write sessions.

SQLite: WAL journal (readers never wait for the writer), a busy timeout, ``synchronous=FULL``
(the outbox must survive a power cut) and write transactions that start with ``BEGIN IMMEDIATE``
so two writers queue on the busy timeout instead of failing with "database is locked" when one
of them upgrades a read lock. PostgreSQL by URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


class StoreError(RuntimeError):
    """The store cannot be opened or migrated; the message says why in words."""


def sqlite_engine(url: URL, **engine_options: Any) -> Engine:
    """An SQLite engine set up for concurrent use: WAL, a busy timeout, ``synchronous=FULL`` (a
    committed answer survives a power cut) and transactions begun by SQLAlchemy, so that writers
    can ask for ``BEGIN IMMEDIATE``. The terminal's store and the reference server both use it."""
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **engine_options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Store:
    """The terminal's database. ``read()`` and ``write()`` give sessions in a transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else engine
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as s, s.begin():
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        with self._writer() as s, s.begin():
            yield s

    @contextmanager
    def write_derived(self) -> Iterator[Session]:
        """A write transaction of derived state only — rows that the writer works out again from the
        records after a restart — whose commit need not survive a power cut: on SQLite it commits
        with ``synchronous = NORMAL`` (in WAL mode still consistent, no corruption; only the last
        such commits can be lost) and does not run the WAL's automatic checkpoint (the caller
        checkpoints when it is idle); on PostgreSQL with ``synchronous_commit = off`` (the same
        recovery). Everything else keeps ``write()``'s ``FULL``: the connection goes back to the
        pool with the engine's settings, or is discarded when they cannot be put back."""
        if not self.is_sqlite:
            with self.write() as s:
                s.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield s
            return
        with self.engine.connect() as conn:
            # PRAGMA synchronous cannot change inside a transaction: set before BEGIN, put back after it
            raw: Any = conn.connection.driver_connection
            (pages,) = raw.execute("PRAGMA wal_autocheckpoint").fetchone()
            (sync,) = raw.execute("PRAGMA synchronous").fetchone()
            raw.execute("PRAGMA wal_autocheckpoint = 0")
            raw.execute("PRAGMA synchronous = NORMAL")
            try:
                writer = conn.execution_options(sqlite_begin="IMMEDIATE")
                with self._writer(bind=writer) as s, s.begin():
                    yield s
            finally:
                try:
                    raw.execute(f"PRAGMA synchronous = {int(sync)}")
                    raw.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
                except BaseException:
                    conn.invalidate()  # never handed to another writer with these settings
                    raise

    def migrate(self) -> None:
        """Bring the schema to the newest revision (creating it in an empty database)."""
        cfg = alembic_config()
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def store_url(target: str | Path) -> URL:
    """A database URL from a URL string or a path to an SQLite file."""
    text = str(target)
    if "://" in text:
        return make_url(text)
    return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))


def open_store(target: str | Path, *, migrate: bool = True) -> Store:
    """Open (and by default migrate) the store at a path or URL."""
    url = store_url(target)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlite_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    store = Store(engine)
    if migrate:
        try:
            store.migrate()
        except Exception as exc:
            engine.dispose()
            where = url.render_as_string(hide_password=True)
            raise StoreError(f"cannot open or migrate the store at {where}: {exc}") from exc
    return store
