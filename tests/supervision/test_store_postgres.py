"""The same store on a real PostgreSQL server: migrations, import (upsert with versions and
tombstones), and warnings read back from it."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select

from supervision.ingest import apply_changes, import_file, validate_changes
from supervision.lifecycle import acknowledge, reconcile, warnings_at
from supervision.store import open_store
from supervision.store.db import head_revision
from supervision.store.models import RECORD_TABLES, AuditEntry, CaseTypeRow, OutboxAction
from tests.supervision.records_factory import CASE_TYPE, case_data, change, page

SH = ZoneInfo("Asia/Shanghai")


def test_postgres_store_migrates_imports_and_evaluates(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url)
    assert store.revision() == head_revision()
    assert {c.__tablename__ for c in RECORD_TABLES.values()} <= set(inspect(store.engine).get_table_names())
    data = case_data(submitted_at="2026-06-01T09:00:00+08:00",
                     stages=[{"stage": "submitted", "at": "2026-06-01T09:00:00+08:00"},
                             {"stage": "accepted", "at": "2026-06-01T09:05:00+08:00"}])
    f = tmp_path / "p.json"
    f.write_text(json.dumps(page([change("case_type", "ct-1", CASE_TYPE), change("case", "C-PG", data)])))
    rep = import_file(store, f)
    assert rep.report.upserted == 2
    at = datetime(2026, 6, 5, 9, 0, tzinfo=SH)
    views = warnings_at(store, at, SH)
    assert [(v.key, str(v.warning.level)) for v in views] == [("C-PG/OVERDUE", "yellow")]
    with store.write() as s:
        reconcile(s, views, at)
    acknowledge(store, "C-PG/OVERDUE", by="张三", terminal="ws-01", at=at)
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxAction)) == 1
    # versions and tombstones behave as on SQLite
    for chs in ([change("case_type", "ct-1", {**CASE_TYPE, "name": "old"}, version=1)],
                [change("case_type", "ct-1", None, version=5, op="delete")],
                [change("case_type", "ct-1", {**CASE_TYPE, "name": "v3"}, version=3)]):
        valid, _ = validate_changes(chs)
        with store.write() as s:
            apply_changes(s, valid)
    with store.read() as s:
        row = s.get(CaseTypeRow, "ct-1")
        assert row is not None and row.deleted and row.version == 5
    store.close()


def test_postgres_concurrent_writers(postgres_url: str) -> None:
    store = open_store(postgres_url)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(30):
                with store.write() as s:
                    s.add(AuditEntry(at=datetime.now(SH), actor=f"t{k}", action="test", subject=str(i)))
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 180
    store.close()


def test_postgres_derived_write_commits_without_waiting_for_the_disk_for_that_transaction_only(
    postgres_url: str,
) -> None:
    store = open_store(postgres_url)
    at = datetime(2026, 6, 5, 9, 0, tzinfo=SH)
    with store.write_derived() as s:
        assert s.connection().exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        s.add(AuditEntry(at=at, actor="derived-pg", action="derived"))
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "derived-pg")) == 1
        assert s.connection().exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    store.close()
