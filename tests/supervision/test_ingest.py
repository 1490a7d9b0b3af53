"""`import`: all or nothing, errors that name the record and field, versions and tombstones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from supervision.ingest import ChangedIds, ChangeError, apply_changes, import_file, validate_changes
from supervision.store import Store, open_store
from supervision.store.models import AuditEntry, CaseRow, CaseTypeRow
from tests.supervision.records_factory import CASE_TYPE, case_data, change, page


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "store.db")
    yield s
    s.close()


def write(tmp_path: Path, body: Any, name: str = "in.json") -> Path:
    p = tmp_path / name
    p.write_text(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return p


def count(store: Store, cls: type) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(cls)) or 0)


def good_changes() -> list[dict[str, Any]]:
    return [change("case_type", "ct-1", CASE_TYPE)] + [change("case", f"C-{i}", case_data(i)) for i in range(5)]


def test_imports_a_valid_page_and_reports_counts(store: Store, tmp_path: Path) -> None:
    rep = import_file(store, write(tmp_path, page(good_changes())))
    assert rep.report.upserted == 6 and rep.report.stale == 0
    assert count(store, CaseRow) == 5
    with store.read() as s:
        entry = s.scalars(select(AuditEntry)).one()
        assert entry.action == "import" and entry.detail and entry.detail["upserted"] == 6


def test_malformed_json_is_rejected_with_its_position(store: Store, tmp_path: Path) -> None:
    text = json.dumps(page(good_changes()))[:-20]
    with pytest.raises(ChangeError, match=r"not valid JSON: .* line 1, column \d+"):
        import_file(store, write(tmp_path, text))
    assert count(store, CaseRow) == 0


def test_not_utf8_is_rejected(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "latin.json"
    p.write_bytes(json.dumps(page([])).encode()[:-1] + b"\xff}")
    with pytest.raises(ChangeError, match=r"JSON|UTF-8"):
        import_file(store, p)


def test_a_body_without_changes_is_rejected(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ChangeError, match="changes"):
        import_file(store, write(tmp_path, {"epoch": "e"}))
    with pytest.raises(ChangeError, match="expected a JSON object"):
        import_file(store, write(tmp_path, [1, 2]))


def test_a_wrong_type_rejects_the_whole_file_naming_record_and_field(store: Store, tmp_path: Path) -> None:
    chs = good_changes()
    chs.append(change("case_type", "ct-bad", {**CASE_TYPE, "legal_days": "twenty"}, seq=9001))
    with pytest.raises(ChangeError) as ei:
        import_file(store, write(tmp_path, page(chs)))
    msg = str(ei.value)
    assert "case_type 'ct-bad'" in msg and "seq 9001" in msg and "data.legal_days" in msg
    assert count(store, CaseRow) == 0 and count(store, CaseTypeRow) == 0  # nothing half-imported


def test_a_bad_date_names_the_field(store: Store, tmp_path: Path) -> None:
    chs = good_changes()
    chs[2]["data"]["submitted_at"] = "2026-13-45T99:00:00+08:00"
    with pytest.raises(ChangeError, match=r"case 'C-1'.*data\.submitted_at"):
        import_file(store, write(tmp_path, page(chs)))
    chs = good_changes()
    chs[2]["data"]["stages"][1]["at"] = "2026-11-23T09:10:00"  # no offset: ambiguous
    with pytest.raises(ChangeError, match=r"data\.stages\.1\.at"):
        import_file(store, write(tmp_path, page(chs)))
    assert count(store, CaseRow) == 0


def test_money_as_a_float_is_refused(store: Store, tmp_path: Path) -> None:
    chs = [change("case_type", "ct-1", {**CASE_TYPE, "fee": 0.1})]
    with pytest.raises(ChangeError, match=r"data\.fee.*decimal string"):
        import_file(store, write(tmp_path, page(chs)))


def test_a_duplicate_id_is_rejected(store: Store, tmp_path: Path) -> None:
    chs = good_changes()
    chs.append(change("case", "C-1", case_data(), version=2))
    with pytest.raises(ChangeError, match=r"duplicate record: case 'C-1'"):
        import_file(store, write(tmp_path, page(chs)))
    assert count(store, CaseRow) == 0


def test_unknown_types_and_fields_are_skipped_and_counted(store: Store, tmp_path: Path) -> None:
    chs = good_changes()
    chs[1]["data"]["a_future_field"] = {"x": 1}
    chs.append(change("parking_lot", "P-1", {"spaces": 40}))
    chs.append(change("parking_lot", "P-2", {"spaces": 41}))
    rep = import_file(store, write(tmp_path, page(chs)))
    assert rep.report.unknown == {"parking_lot": 2}
    assert count(store, CaseRow) == 5


def test_an_upsert_without_data_or_a_bad_op_is_rejected(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ChangeError, match=r"data: an upsert needs its data"):
        import_file(store, write(tmp_path, page([change("case", "C-9", None)])))
    bad = change("case", "C-9", case_data())
    bad["op"] = "merge"
    with pytest.raises(ChangeError, match=r"changes\[0\].*op"):
        import_file(store, write(tmp_path, page([bad])))


def test_a_huge_file_is_refused_before_it_is_read(store: Store, tmp_path: Path) -> None:
    p = write(tmp_path, page(good_changes()))
    with pytest.raises(ChangeError, match=r"above the import limit.*max_bytes"):
        import_file(store, p, max_bytes=100)
    assert count(store, CaseRow) == 0


def test_many_errors_are_listed_not_only_the_first(store: Store, tmp_path: Path) -> None:
    chs = [change("case", f"C-{i}", case_data(status="flying")) for i in range(30)]
    with pytest.raises(ChangeError) as ei:
        import_file(store, write(tmp_path, page(chs)))
    assert len(ei.value.problems) == 20
    assert "stopped after 20 problems" in str(ei.value)


def test_versions_decide_and_deletes_leave_tombstones(store: Store) -> None:
    def apply(chs: list[dict[str, Any]]) -> None:
        valid, _ = validate_changes(chs)
        with store.write() as s:
            apply_changes(s, valid)

    apply([change("case_type", "ct-1", CASE_TYPE, version=3)])
    apply([change("case_type", "ct-1", {**CASE_TYPE, "name": "older"}, version=2)])  # stale: ignored
    with store.read() as s:
        assert s.get(CaseTypeRow, "ct-1").name == "企业设立登记"  # type: ignore[union-attr]
    apply([change("case_type", "ct-1", None, version=4, op="delete")])
    with store.read() as s:
        row = s.get(CaseTypeRow, "ct-1")
        assert row is not None and row.deleted and row.version == 4
    apply([change("case_type", "ct-1", {**CASE_TYPE, "name": "revived"}, version=4)])  # same version: no
    apply([change("case_type", "never-seen", None, version=7, op="delete")])  # tombstone without data
    with store.read() as s:
        assert s.get(CaseTypeRow, "ct-1").deleted  # type: ignore[union-attr]
        ghost = s.get(CaseTypeRow, "never-seen")
        assert ghost is not None and ghost.deleted and ghost.version == 7
    # Within one page the highest version wins whatever the order.
    apply(
        [
            change("case_type", "x", {**CASE_TYPE, "name": "v9"}, version=9),
            change("case_type", "x", {**CASE_TYPE, "name": "v8"}, version=8),
        ]
    )
    with store.read() as s:
        assert s.get(CaseTypeRow, "x").name == "v9"  # type: ignore[union-attr]


def test_apply_changes_names_the_ids_it_applied_by_type_not_the_stale_ones(store: Store) -> None:
    def apply(chs: list[dict[str, Any]]) -> ChangedIds:
        valid, _ = validate_changes(chs)
        with store.write() as s:
            return apply_changes(s, valid).changed

    first = apply(good_changes())
    assert first.by_type == {"case_type": {"ct-1"}, "case": {f"C-{i}" for i in range(5)}}
    assert len(first) == 6 and first
    again = apply(
        [
            change("case", "C-0", case_data(), version=1),  # stale: same version
            change("case", "C-1", case_data(status="completed"), version=2),
            change("case", "C-2", None, version=2, op="delete"),
            change("case", "C-3", case_data(), version=2),
            change("case", "C-3", case_data(), version=3),  # the later version of the same record
        ]
    )
    assert again.by_type == {"case": {"C-1", "C-2", "C-3"}}
    assert not apply([change("case", "C-0", case_data(), version=1)])
    with store.read() as s:  # the monitor's columns are not written by sync
        row = s.get(CaseRow, "C-1")
        assert row is not None and row.worst_level == 0 and row.promised_due is None


def test_changed_ids_merge_and_compare_by_value() -> None:
    a = ChangedIds.of({"case": ["a", "b"], "ticket": []})
    b = ChangedIds.of({"case": {"c"}, "disposition": {"d"}})
    assert a.by_type == {"case": {"a", "b"}}
    assert a.merge(b) == ChangedIds.of({"case": {"a", "b", "c"}, "disposition": {"d"}})
    assert a.ids("window") == frozenset()
    assert not ChangedIds() and ChangedIds().merge(a) == a


def test_apply_changes_with_records_names_each_record_as_applied_and_whether_its_row_is_new(store: Store) -> None:
    def apply(chs: list[dict[str, Any]]) -> ChangedIds:
        valid, _ = validate_changes(chs)
        with store.write() as s:
            return apply_changes(s, valid, records=True).changed

    apply(good_changes())
    got = apply(
        [
            change("case", "C-0", case_data(), version=1),  # stale: not applied, no record
            change("case", "C-1", case_data(status="completed"), version=2),
            change("case", "C-2", None, version=2, op="delete"),
            change("case", "C-9", case_data(9), version=1),
        ]
    )
    assert got.by_type == {"case": {"C-1", "C-2", "C-9"}}
    assert set(got.records["case"]) == {"C-1", "C-2", "C-9"}
    c1, c2, c9 = (got.record("case", i) for i in ("C-1", "C-2", "C-9"))
    assert c1 is not None and c1.values is not None and c1.values["status"] == "completed" and not c1.inserted
    assert c2 is not None and c2.values is None and not c2.inserted  # a tombstone
    assert c9 is not None and c9.values is not None and c9.inserted  # no row had its id: derived columns as default
    assert got.record("case", "C-0") is None and got.record("ticket", "C-1") is None
    valid, _ = validate_changes([change("case", "C-3", case_data(), version=5)])
    with store.write() as s:
        assert not apply_changes(s, valid).changed.records  # kept only when asked


def test_changed_ids_merged_keep_a_record_only_if_every_change_of_its_id_came_with_one() -> None:
    from supervision.ingest import AppliedRecord

    v1, v2 = {"status": "in_progress"}, {"status": "completed"}
    first = ChangedIds.of({"case": ["a", "b", "c"]}, {"case": {"a": AppliedRecord(v1, True), "b": AppliedRecord(v1)}})
    later = ChangedIds.of({"case": ["a", "b", "d"]}, {"case": {"a": AppliedRecord(v2), "d": AppliedRecord(v2)}})
    m = first.merge(later)
    assert m.ids("case") == {"a", "b", "c", "d"}
    assert m.record("case", "a") == AppliedRecord(v2, True)  # the later values; its row new since the last pass
    assert m.record("case", "b") is None  # changed later without its record: read back
    assert m.record("case", "c") is None  # never came with one
    assert m.record("case", "d") == AppliedRecord(v2)
    assert first.merge(ChangedIds.of({"case": ["a"]})).record("case", "a") is None
    assert ChangedIds.of({"case": ["c"]}).merge(later).record("case", "a") == AppliedRecord(v2)
    assert ChangedIds.of({"case": ["a"]}).merge(later).record("case", "a") is None  # named before without it
    assert ChangedIds.of({"case": ["a"]}, {"case": {"x": AppliedRecord(v1)}}).records == {}  # only ids it names
