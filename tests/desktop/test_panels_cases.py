"""The cases table: pages through the reader, sorting and filtering in the database, over 100 000
cases, with the GUI thread free throughout; and the detail pane on the demo hall with the real
warning monitor keeping the due-date and worst-level columns.

The 100 000 cases are written straight into the store with one executemany (as
``benchmarks/supervision_bench.py`` builds its data, minus the JSON round trip), their
``promised_due``/``legal_due``/``worst_level`` set as the monitor would leave them: the table reads
those columns and nothing else decides its order.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QTimer

from app.terminal import Terminal
from desktop.operator.cases import CasesModel, CasesPanel
from desktop.operator.queries import OPEN_STATUSES, CaseFilter
from desktop.operator.reader import Reader
from supervision import demo
from supervision.config import Config
from supervision.duedates import case_clock
from supervision.ingest import import_page
from supervision.records import ChangesPage
from supervision.snapshot import iter_cases, load_calendar, load_case_types
from supervision.store import Store, open_store
from supervision.store.models import CaseRow

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 10)
NOW = datetime(2026, 6, 10, 10, 30, tzinfo=SH)
N_CASES = 100_000
WAIT_MS = 20_000
APPLICANTS = ("王**", "李**", "张**", "鞍山**商贸有限公司", "辽宁**建设集团有限公司", "刘**", "陈**")


def hall_store(path: Path) -> Store:
    store = open_store(path)
    body = demo.load_hall()
    body["changes"] = [c for c in body["changes"] if c["type"] != "camera"]
    import_page(store, ChangesPage.model_validate(body), source="hall")
    return store


def add_cases(store: Store, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with store.read() as s:
        types = list(load_case_types(s))
    windows = [f"win-{a}{i:02d}" for a in "ABC" for i in range(1, 11)]
    statuses = ("accepted", "in_progress", "in_progress", "suspended", "completed", "completed", "rejected")
    rows = []
    base = NOW.astimezone(UTC)
    for i in range(n):
        sub = base - timedelta(days=rnd.randint(0, 120), minutes=rnd.randint(0, 600))
        status = rnd.choice(statuses)
        promised: date | None = DAY + timedelta(days=rnd.randint(-20, 25))
        legal = promised + timedelta(days=rnd.randint(0, 20)) if promised is not None else None
        if rnd.random() < 0.02:  # not accepted yet: no due dates
            promised = legal = None
        rows.append({
            "id": f"C-{i:06d}", "version": 1, "deleted": False, "seq": i + 1000,
            "case_type_id": rnd.choice(types), "window_id": rnd.choice(windows), "ticket_id": None,
            "applicant": rnd.choice(APPLICANTS), "submitted_at": sub, "status": status,
            "stages": [{"stage": "submitted", "at": sub.isoformat(), "by": "a"},
                       {"stage": "accepted", "at": (sub + timedelta(minutes=9)).isoformat(), "by": "b"}],
            "suspensions": [], "fee_charged": "0",
            "completed_at": sub + timedelta(days=3) if status == "completed" else None,
            "promised_due": promised,
            "legal_due": legal,
            "worst_level": rnd.choices((0, 1, 2, 3), (80, 8, 9, 3))[0],
        })
    with store.engine.begin() as conn:
        conn.execute(insert(CaseRow), rows)


@pytest.fixture(scope="module")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "store.db"
    store = hall_store(path)
    add_cases(store, N_CASES)
    with store.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def big(tmp_path: Path, big_template: Path) -> Iterator[Store]:
    path = tmp_path / "store.db"
    path.write_bytes(big_template.read_bytes())
    store = open_store(path)
    yield store
    store.close()


@pytest.fixture
def reader_of(qtbot: Any) -> Iterator[Any]:
    made: list[Reader] = []

    def make(store: Store) -> Reader:
        r = Reader(store)
        r.start()
        made.append(r)
        return r

    yield make
    for r in made:
        assert r.stop(10)


class StallProbe:
    """An event-loop probe: a 5 ms timer on the GUI thread records, between ticks, the wall time
    and the CPU time the GUI thread itself used. A long wall gap with little CPU is the machine
    (other processes, the reader holding the GIL); a long CPU gap is work done on the GUI thread
    — what must never be a query."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)
        self._last = (0.0, 0.0)

    def start(self) -> None:
        self.resume()

    def _tick(self) -> None:
        now = (time.perf_counter(), time.thread_time())
        self.wall.append((now[0] - self._last[0]) * 1000)
        self.cpu.append((now[1] - self._last[1]) * 1000)
        self._last = now

    def stop(self) -> None:
        self._timer.stop()

    def pause(self) -> None:
        """While the test itself queries the store on the GUI thread (not the panel's doing)."""
        self._timer.stop()

    def resume(self) -> None:
        self._last = (time.perf_counter(), time.thread_time())
        self._timer.start()

    @property
    def worst_wall_ms(self) -> float:
        return max(self.wall, default=0.0)

    @property
    def worst_cpu_ms(self) -> float:
        return max(self.cpu, default=0.0)


def _sql_ids(store: Store, f: CaseFilter, limit: int) -> list[str]:
    """The same filter written out by hand, for comparison."""
    q = select(CaseRow.id).where(CaseRow.deleted.is_(False))
    if f.status == "open":
        q = q.where(CaseRow.status.in_(OPEN_STATUSES))
    if f.only_level is not None:
        q = q.where(CaseRow.worst_level == f.only_level)
    if f.search:
        q = q.where(CaseRow.applicant.contains(f.search) | CaseRow.id.contains(f.search))
    if f.sort == "worst_level":
        q = q.order_by(CaseRow.worst_level.desc() if f.descending else CaseRow.worst_level,
                       CaseRow.id.desc() if f.descending else CaseRow.id)
    else:
        q = q.order_by(CaseRow.promised_due.is_(None), CaseRow.promised_due, CaseRow.id)
    with store.read() as s:
        return list(s.scalars(q.limit(limit)))


@pytest.mark.slow
def test_cases_table_over_100k_pages_sorts_and_filters_in_the_db_and_stays_responsive(
    qtbot: Any, big: Store, reader_of: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = reader_of(big)
    panel = CasesPanel(reader, SH, clock=lambda: NOW)
    qtbot.addWidget(panel)
    panel.resize(1300, 700)
    panel.show()
    model = panel.model
    probe = StallProbe()
    probe.start()

    with qtbot.waitSignals([model.filter_applied, model.count_known], timeout=WAIT_MS):
        panel.refresh()
    probe.pause()
    with big.read() as s:
        n_open = s.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.status.in_(OPEN_STATUSES)))
    assert model.total == n_open > 50_000
    assert panel.count.text() == f"{n_open} cases"
    assert model.rowCount() == 200  # one page, not the whole table
    assert [r.id for r in model.rows] == _sql_ids(big, CaseFilter(), 200)  # promised due date first

    # scrolling to the end fetches the next page through the reader
    assert model.canFetchMore()
    probe.resume()
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        panel.table.scrollToBottom()
    probe.pause()
    assert model.rowCount() == 400
    assert [r.id for r in model.rows] == _sql_ids(big, CaseFilter(), 400)

    # sorting by the worst warning level (a header click) is an ORDER BY on the indexed column
    probe.resume()
    with qtbot.waitSignal(model.filter_applied, timeout=WAIT_MS):
        panel.table.sortByColumn(CasesModel.WARNING, Qt.SortOrder.DescendingOrder)
    probe.pause()
    assert model.rowCount() == 200
    assert all(r.worst_level == 3 for r in model.rows)
    assert [r.id for r in model.rows] == _sql_ids(big, CaseFilter(sort="worst_level", descending=True), 200)

    # filters: red cases of one applicant, then a number search
    timings: list[float] = []
    labels: list[str] = []
    for warning_index, search in ((panel.warning.findData("eq:3"), "商贸"), (0, "C-0123"), (0, "刘"),
                                  (panel.warning.findData("min:2"), ""), (0, "")):
        probe.resume()
        with qtbot.waitSignal(model.filter_applied, timeout=WAIT_MS):
            panel.warning.blockSignals(True)
            panel.warning.setCurrentIndex(warning_index)
            panel.warning.blockSignals(False)
            panel.search.setText(search)
            t0 = time.perf_counter()
            panel.search.returnPressed.emit()
        timings.append((time.perf_counter() - t0) * 1000)
        qtbot.waitUntil(lambda: model.total is not None, timeout=WAIT_MS)
        probe.pause()
        labels.append(f"{panel.warning.currentData() or 'any'}/{search or '-'} {timings[-1]:.0f}")
        f = model.filter
        with big.read() as s:
            q = select(func.count()).select_from(CaseRow).where(CaseRow.status.in_(OPEN_STATUSES))
            if f.only_level is not None:
                q = q.where(CaseRow.worst_level == f.only_level)
            if f.min_level:
                q = q.where(CaseRow.worst_level >= f.min_level)
            if search:
                q = q.where(CaseRow.applicant.contains(search) | CaseRow.id.contains(search))
            assert model.total == s.scalar(q), (warning_index, search)
        assert model.rowCount() == min(200, model.total)
        assert all(search in r.id or search in r.applicant for r in model.rows)
    probe.stop()

    # scrolling the loaded rows: each step repaints the visible rows (GUI-thread CPU per frame)
    with qtbot.waitSignal(model.filter_applied, timeout=WAIT_MS):
        panel.warning.setCurrentIndex(0)
        panel.search.clear()
        panel.search.returnPressed.emit()
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT_MS):
        model.fetchMore()
    bar = panel.table.verticalScrollBar()
    frames: list[float] = []
    for step in range(120):
        bar.setValue((step * 7) % max(1, bar.maximum()))
        c0 = time.thread_time()
        panel.table.viewport().repaint()
        frames.append((time.thread_time() - c0) * 1000)
    fps = 1000 / statistics.mean(frames)
    with capsys.disabled():
        print(f"\ncases table scrolling: {statistics.mean(frames):.2f} ms GUI CPU a frame "
              f"(≈ {fps:.0f} frames/s of CPU), worst {max(frames):.1f} ms")
    assert fps >= 30
    with capsys.disabled():
        print(f"\ncases table over {N_CASES} cases: filter (request → rows shown) median "
              f"{statistics.median(timings):.1f} ms, max {max(timings):.1f} ms ({', '.join(labels)}); reader query ms "
              f"{ {k: round(v, 1) for k, v in reader.stats().last_ms.items()} }; "
              f"GUI thread: worst gap {probe.worst_wall_ms:.0f} ms wall, {probe.worst_cpu_ms:.0f} ms of its "
              f"own CPU, over {len(probe.wall)} ticks; load average {os.getloadavg()[0]:.1f}")
    # the GUI thread never ran a query: its own work between two ticks stayed far below the
    # 100 ms DESIGN.md calls a stall (wall gaps also count other processes on a shared machine)
    assert probe.worst_cpu_ms < 50
    # every filter answered far inside what loading the table into Python would take
    assert max(timings) < 1000


def test_time_left_and_detail_follow_the_monitor(qtbot: Any, tmp_path: Path, reader_of: Any) -> None:
    body = demo.generate(DAY, days=5, now=NOW)
    body["changes"] = [c for c in body["changes"] if c["type"] != "camera"]
    store = open_store(tmp_path / "store.db")
    import_page(store, ChangesPage.model_validate(body), source="demo")
    terminal = Terminal(Config(), tmp_path / "data", command="test", record=False, sync=False, lock=False,
                        store=store, clock=lambda: NOW)
    terminal.start()
    try:
        qtbot.waitUntil(lambda: terminal.warnings().generation > 0, timeout=WAIT_MS)
        reader = reader_of(store)
        panel = CasesPanel(reader, SH, clock=lambda: NOW)
        qtbot.addWidget(panel)
        with qtbot.waitSignal(panel.model.filter_applied, timeout=WAIT_MS):
            panel.refresh()
        model = panel.model
        with store.read() as s:
            cal = load_calendar(s)
            types = load_case_types(s)
            cases = {c.id: c for c in iter_cases(s)}
        assert model.rows
        # time left in working days, from the monitor's promised due date, coloured
        for r in model.rows:
            c = cases[r.id]
            clock = case_clock(c, types[c.case_type_id], cal, SH, NOW)
            assert r.promised_due == clock.promised_due
            if r.days_left is not None and clock.promised_due is not None:
                today = NOW.date()
                want = (cal.workdays_between(today, clock.promised_due) if clock.promised_due >= today
                        else -max(1, cal.workdays_between(clock.promised_due, today)))
                assert r.days_left == want
        overdue = [r for r in model.rows if r.days_left is not None and r.days_left < 0]
        assert overdue, "the demo hall plants overdue cases"
        assert {model.left_role(r) for r in overdue} <= {"yellow", "red"}
        assert "red" in {model.left_role(r) for r in overdue}  # an open case past its legal due date

        # a red case's detail: its warnings with their history, and "show footage"
        with qtbot.waitSignal(model.filter_applied, timeout=WAIT_MS):
            panel.warning.setCurrentIndex(panel.warning.findData("eq:3"))
        red = model.rows[0]
        key = next(v.key for v in terminal.warnings().views if v.warning.subject == red.id
                   and str(v.warning.level) == "red")
        done: list[Any] = []
        terminal.dispose(key, "supervise", "请于今日办结", by="监察员甲", on_done=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
        with qtbot.waitSignal(panel.case_selected, timeout=WAIT_MS):
            panel.table.selectRow(0)
        d = panel.detail
        assert d is not None and d.id == red.id
        w = next(w for w in d.warnings if w.key == key)
        assert [(a[1], a[2], a[3], a[4], a[6]) for a in w.actions] == [
            ("dispose", "supervise", "监察员甲", "请于今日办结", True)]  # queued in the outbox
        html = panel.browser.toHtml()
        assert "请于今日办结" in html and "Stages" in html and "Fee check" in html
        with qtbot.waitSignal(panel.footage_requested, timeout=WAIT_MS) as sig:
            panel.footage.click()
        assert sig.args == [red.window_id, d.stages[-1][1]]
    finally:
        assert terminal.stop(time.monotonic() + 10)
        store.close()


@pytest.mark.parametrize("sort", ["promised_due", "legal_due", "worst_level", "id", "applicant"])
@pytest.mark.parametrize("descending", [False, True])
def test_paging_after_the_last_row_gives_the_same_order_as_one_query(
    tmp_path: Path, sort: str, descending: bool
) -> None:
    from desktop.operator.queries import case_page

    store = hall_store(tmp_path / "store.db")
    try:
        add_cases(store, 2_345, seed=3)  # some undated, many ties on due dates and levels
        f = CaseFilter(status="all", sort=sort, descending=descending)
        with store.read() as s:
            whole = [r.id for r in case_page(s, f, 0, 10_000, now=NOW, tz=SH).items]
            paged: list[str] = []
            after = None
            while True:
                page = case_page(s, f, len(paged), 100, now=NOW, tz=SH, after=after)
                paged += [r.id for r in page.items]
                if page.at_end:
                    break
                after = page.items[-1]
        assert len(whole) == 2_345
        assert paged == whole
        if sort in ("promised_due", "legal_due"):  # undated cases last, either way
            with store.read() as s:
                undated = set(s.scalars(select(CaseRow.id).where(getattr(CaseRow, sort).is_(None))))
            assert undated and set(whole[-len(undated):]) == undated
    finally:
        store.close()
