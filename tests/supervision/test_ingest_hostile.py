"""Hostile import files (issue 13 items 3 and 12): duplicate keys, dangling references, huge and
broken files, long values — each refused with a clear, bounded message and nothing imported."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from supervision.ingest import MAX_LINE, ChangeError, import_file
from supervision.store import Store, open_store
from supervision.store.models import OrgUnit as OrgUnitRow
from supervision.store.models import Window as WindowRow
from tests.supervision.records_factory import change, page


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "hallwatch.db")
    yield s
    s.close()


def write(tmp_path: Path, text: str, name: str = "in.json") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def org(id_: str, parent: str | None, level: str = "city") -> dict[str, Any]:
    return change("org_unit", id_, {"name": id_, "parent_id": parent, "level": level})


def window(id_: str, hall: str, number: Any = "A01") -> dict[str, Any]:
    return change("window", id_, {"hall_id": hall, "number": number, "name": "n", "department": "d"})


def count(store: Store, cls: type) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(cls)) or 0)


def test_a_duplicate_json_key_is_refused_not_last_one_wins(store: Store, tmp_path: Path) -> None:
    body = json.dumps(page([org("org-liaoning", None, "province"), org("org-shenyang", "org-liaoning")]))
    forged = body.replace('"id": "org-liaoning"', '"id": "org-liaoning", "id": "org-evil"', 1)
    with pytest.raises(ChangeError, match=r"the key id appears twice in the object with id 'org-evil'"):
        import_file(store, write(tmp_path, forged))
    assert count(store, OrgUnitRow) == 0


def test_a_dangling_reference_names_both_records_and_a_stored_one_is_fine(store: Store, tmp_path: Path) -> None:
    bad = json.dumps(page([org("hall-1", None, "hall"), window("W-1", "hall-404")]))
    with pytest.raises(ChangeError) as e:
        import_file(store, write(tmp_path, bad))
    seq = json.loads(bad)["changes"][1]["seq"]
    assert str(e.value).endswith(
        f"window 'W-1' (seq {seq}): hall_id names org_unit 'hall-404', which is neither in this file nor in the store")
    assert count(store, OrgUnitRow) == 0 and count(store, WindowRow) == 0
    import_file(store, write(tmp_path, json.dumps(page([org("hall-1", None, "hall")])), "a.json"))
    import_file(store, write(tmp_path, json.dumps(page([window("W-1", "hall-1")])), "b.json"))  # stored: fine
    assert count(store, WindowRow) == 1


def test_a_window_number_sent_as_an_integer_is_stored_as_its_decimal_text(store: Store, tmp_path: Path) -> None:
    import_file(store, write(tmp_path, json.dumps(page([org("hall-1", None, "hall"), window("W-7", "hall-1", 7)]))))
    with store.read() as s:
        assert s.get(WindowRow, "W-7").number == "7"  # type: ignore[union-attr]
    with pytest.raises(ChangeError, match=r"data\.number"):
        import_file(store, write(tmp_path, json.dumps(page([window("W-8", "hall-1", 7.5)])), "f.json"))


def test_a_million_invalid_elements_stop_after_20_problems_quickly_and_in_little_memory(
    store: Store, tmp_path: Path
) -> None:
    f = write(tmp_path, '{"epoch":"e","changes":[' + ",".join(["0"] * 1_000_000) + "]}")
    size = f.stat().st_size
    tracemalloc.start()
    began = time.process_time()  # CPU time: a machine busy with other work does not make it fail
    try:
        with pytest.raises(ChangeError) as e:
            import_file(store, f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.process_time() - began
    assert len(e.value.problems) == 20 and "(stopped after 20 problems)" in str(e.value)
    assert peak < 3 * size, f"{peak / size:.1f}× the file's size"  # was 1.17 GB for 2 MB
    assert elapsed < 3.0, elapsed  # was 6.6 s (with tracemalloc on)


def test_an_error_line_is_at_most_500_characters(store: Store, tmp_path: Path) -> None:
    long_id = "x" * 100_000
    f = write(tmp_path, json.dumps(page([change("org_unit", long_id, {"name": "n", "level": "hall"})])))
    with pytest.raises(ChangeError) as e:
        import_file(store, f)
    assert all(len(p) <= MAX_LINE for p in e.value.problems) and len(str(e.value)) <= MAX_LINE
    assert "xxxx" in str(e.value) and "id: String should have at most 200 characters" in str(e.value)


@pytest.mark.parametrize("bad", ["\u202e", "\n", "\x1b[31m"])
def test_control_and_bidi_characters_are_escaped_in_messages(store: Store, tmp_path: Path, bad: str) -> None:
    f = write(tmp_path, json.dumps(page([change(f"type{bad}x", "i", None, op="upsert"),
                                         change("org_unit", f"o{bad}", {"name": 1, "level": "hall"})])))
    with pytest.raises(ChangeError) as e:
        import_file(store, f)
    for line in e.value.problems:
        assert bad not in line and "\n" not in line


def test_a_valid_file_is_imported_in_a_few_times_its_size(store: Store, tmp_path: Path) -> None:
    """The changes are read and checked one at a time: the parsed JSON of the whole file never sits
    beside the checked values (a 21 MB file took 229 MB, 11×)."""
    from tests.supervision.records_factory import CASE_TYPE, case_data

    changes = [change("case_type", "ct-1", CASE_TYPE)] + [change("case", f"C-{i}", case_data(i)) for i in range(3000)]
    f = write(tmp_path, json.dumps(page(changes), ensure_ascii=False))
    del changes
    size = f.stat().st_size
    tracemalloc.start()
    try:
        report = import_file(store, f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.total == 3001 and report.report.upserted == 3001
    assert peak < 6.5 * size, f"{peak / size:.1f}× the file's size"
