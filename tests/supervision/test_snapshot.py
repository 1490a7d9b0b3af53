"""Reading cases out of the store (``supervision.snapshot``): the values, and what they share."""

from __future__ import annotations

from pathlib import Path

from supervision.ingest import apply_changes, validate_changes
from supervision.model import Case
from supervision.records import CaseData
from supervision.snapshot import cases_with_columns, iter_cases
from supervision.store import open_store
from tests.supervision.records_factory import CASE_TYPE, case_data, change


def test_cases_read_back_as_sent_and_share_their_repeated_values(tmp_path: Path) -> None:
    store = open_store(tmp_path / "store.db")
    try:
        sent = {
            "c-1": case_data(1, fee_charged="12.50"),
            "c-2": case_data(2, fee_charged="12.50", suspensions=[{"from": "2026-11-23T10:00:00+08:00", "to": None}]),
            "c-3": case_data(
                3, window_id=None, fee_charged=None, status="completed", completed_at="2026-11-24T10:00:00+08:00"
            ),
        }
        changes = [change("case_type", "ct-1", CASE_TYPE)]
        changes += [change("case", cid, d) for cid, d in sent.items()]
        valid, rejected = validate_changes(changes)
        assert not rejected
        with store.write() as s:
            apply_changes(s, valid)
        want = {cid: Case.from_data(cid, CaseData.model_validate(d)) for cid, d in sent.items()}
        with store.read() as s:
            every = {c.id: c for c in iter_cases(s)}
            some = {c.id: c for c in iter_cases(s, ["c-2", "c-3", "c-9"])}
            with_columns = {c.id: c for c, _ in cases_with_columns(s, ["c-1", "c-3"])}
        assert every == want
        assert some == {k: want[k] for k in ("c-2", "c-3")}
        assert with_columns == {k: want[k] for k in ("c-1", "c-3")}
        a, b = every["c-1"], every["c-2"]
        # one object for each repeated value, not one per case (an evaluator holds every case)
        assert a.case_type_id is b.case_type_id and a.status is b.status and a.window_id is b.window_id
        assert a.stages[1][0] is b.stages[1][0] and a.fee_charged is b.fee_charged
        assert a.stages[0][1] is a.submitted_at  # submitted at the time the case was: one datetime
    finally:
        store.close()
