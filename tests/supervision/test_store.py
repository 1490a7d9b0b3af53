"""The store: migrations, SQLite settings, concurrent writers, column types."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from supervision.store import open_store
from supervision.store.db import head_revision
from supervision.store.models import RECORD_TABLES, AuditEntry, CaseRow, CaseTypeRow, OutboxAction


def test_migrates_an_empty_file_to_head_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    path.touch()  # an empty file, as a user might create by hand
    store = open_store(path)
    assert store.revision() == head_revision()
    names = set(inspect(store.engine).get_table_names())
    assert {cls.__tablename__ for cls in RECORD_TABLES.values()} <= names
    assert {"warning_states", "outbox", "sync_state", "audit_log", "alembic_version"} <= names
    store.close()
    again = open_store(path)  # migrating an up-to-date store is a no-op
    assert again.revision() == head_revision()
    again.close()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(Exception, match="cannot open or migrate the store"):
        open_store(bad)


def test_concurrent_writer_threads_never_see_database_locked(tmp_path: Path) -> None:
    store = open_store(tmp_path / "c.db")
    errors: list[BaseException] = []
    n_threads, n_writes = 8, 60

    def writer(k: int) -> None:
        try:
            for i in range(n_writes):
                with store.write() as s:
                    # read-then-write: the pattern that fails with deferred transactions
                    count = s.scalar(select(func.count()).select_from(AuditEntry))
                    s.add(
                        AuditEntry(
                            at=datetime.now(UTC), actor=f"t{k}", action="test", subject=str(i), detail={"seen": count}
                        )
                    )
        except BaseException as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,), name=f"writer-{k}") for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == n_threads * n_writes
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    store.close()


def test_instants_come_back_aware_utc_and_naive_ones_are_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "t.db")
    at = datetime(2026, 11, 25, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    with store.write() as s:
        s.add(OutboxAction(id="a1", created_at=at, type="x", payload={}, attempts=0))
    with store.read() as s:
        got = s.get(OutboxAction, "a1")
        assert got is not None
        assert got.created_at == at and got.created_at.tzinfo is not None
        assert got.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"), store.write() as s:
        s.add(OutboxAction(id="a2", created_at=datetime(2026, 1, 1), type="x", payload={}, attempts=0))
        s.flush()
    store.close()


def test_money_keeps_its_exact_decimal_text(tmp_path: Path) -> None:
    store = open_store(tmp_path / "m.db")
    with store.write() as s:
        s.add(CaseTypeRow(id="ct", version=1, deleted=False, fee=Decimal("80.10")))
        s.add(CaseRow(id="c", version=1, deleted=False, fee_charged=Decimal("0.1") + Decimal("0.2")))
    with store.read() as s:
        assert s.get(CaseTypeRow, "ct").fee == Decimal("80.10")  # type: ignore[union-attr]
        assert s.get(CaseRow, "c").fee_charged == Decimal("0.3")  # type: ignore[union-attr]
    with contextlib.closing(sqlite3.connect(tmp_path / "m.db")) as raw_db:
        raw = raw_db.execute("select fee from case_types").fetchone()[0]
    assert raw == "80.10"
    store.close()


def test_postgres_urls_are_accepted_without_a_password_in_errors(tmp_path: Path) -> None:
    # No server listens on this port: the error must name the store but never the password.
    with pytest.raises(Exception) as ei:
        open_store("postgresql+psycopg://hw:s3cret-pw@127.0.0.1:1/hallwatch")
    assert "s3cret-pw" not in str(ei.value)
    assert "cannot open or migrate the store" in str(ei.value)


def test_write_rolls_back_everything_on_error(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    with pytest.raises(RuntimeError), store.write() as s:
        s.add(AuditEntry(at=datetime.now(UTC), actor="x", action="y"))
        s.flush()
        raise RuntimeError("boom")
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert s.execute(text("select 1")).scalar() == 1
    store.close()


def test_a_derived_write_commits_at_synchronous_normal_and_rolls_back_on_error_leaving_the_pool_at_full(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "d.db")
    seen: list[int] = []
    with store.write_derived() as s:
        seen.append(s.connection().connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0])
        s.add(AuditEntry(at=datetime.now(UTC), actor="monitor", action="derived"))
    with pytest.raises(RuntimeError), store.write_derived() as s:
        s.add(AuditEntry(at=datetime.now(UTC), actor="monitor", action="lost"))
        s.flush()
        raise RuntimeError("boom")
    assert seen == [1]  # NORMAL inside the derived write
    with store.read() as s:
        assert s.scalars(select(AuditEntry.action)).all() == ["derived"]
    with store.engine.connect() as c:  # the pool's connection is back at FULL, autocheckpoint on
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() > 0
    store.close()


def test_warning_states_keeps_only_the_indexes_its_queries_use(tmp_path: Path) -> None:
    """Every index is a B-tree the warning monitor writes for each row it inserts and each change
    of state; ``state`` and ``window_id`` served no query (``state != 'cleared'`` is a scan), so
    migration 0007 dropped them. A case's warnings and a pass's rows are still read by subject,
    and a row by key, through an index."""
    store = open_store(tmp_path / "s.db")
    try:
        with store.engine.connect() as c:
            names = {r[0] for r in c.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'warning_states'")}
            assert names == {"sqlite_autoindex_warning_states_1", "ix_warning_states_subject"}

            def plan(sql: str) -> str:
                return " ".join(str(r[3]) for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

            assert "USING INDEX ix_warning_states_subject" in plan(
                "SELECT key FROM warning_states WHERE subject IN ('c-1', 'c-2')")
            assert "USING INDEX sqlite_autoindex_warning_states_1" in plan(
                "UPDATE warning_states SET state = 'cleared' WHERE key = 'c-1/OVERDUE'")
    finally:
        store.close()
