"""The operator's data panels on real models, a real store and a real terminal.

The store holds the demo hall with five working days of activity (its cameras left out: these
tests watch no video); a real :class:`app.terminal.Terminal` (no recording, no sync) runs the
warning monitor and the action executor, and the panels read through a real
:class:`desktop.operator.reader.Reader`. Every wait is on a condition, with a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt

from app.terminal import Terminal
from desktop.operator.alarm import Alarm
from desktop.operator.lights import LightsBoard
from desktop.operator.queries import queue_stats, warning_extras
from desktop.operator.queue import QueuePanel
from desktop.operator.reader import Reader
from desktop.operator.snapshot import SnapshotRelay
from desktop.operator.warnings import FILTER_ROLE, DisposeDialog, WarningsFilter, WarningsModel, WarningsPanel
from supervision import demo
from supervision.config import Config
from supervision.ingest import import_page
from supervision.records import ChangesPage
from supervision.store import Store, open_store
from supervision.store.models import CaseRow, OutboxAction, TicketRow

# The offscreen platform says this whenever a shown widget's size hints change; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 10)  # a Wednesday
NOW = datetime(2026, 6, 10, 10, 30, tzinfo=SH)
WAIT_MS = 15_000


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def demo_store(path: Path) -> Store:
    body = demo.generate(DAY, days=5, now=NOW)
    body["changes"] = [c for c in body["changes"] if c["type"] != "camera"]
    store = open_store(path)
    import_page(store, ChangesPage.model_validate(body), source="demo")
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = demo_store(tmp_path / "store.db")
    yield s
    s.close()


@pytest.fixture
def terminal(tmp_path: Path, store: Store) -> Iterator[Terminal]:
    t = Terminal(Config(), tmp_path / "data", command="test", record=False, sync=False, lock=False, store=store,
                 clock=Clock(NOW))
    t.start()
    yield t
    assert t.stop(time.monotonic() + 10)


@pytest.fixture
def reader(qtbot: Any, store: Store) -> Iterator[Reader]:
    r = Reader(store)
    r.start()
    yield r
    assert r.stop(10)


@pytest.fixture
def relay(qtbot: Any, terminal: Terminal) -> Iterator[SnapshotRelay]:
    rel = SnapshotRelay(terminal.monitor)
    yield rel
    rel.close()


def wait_first_snapshot(qtbot: Any, terminal: Terminal) -> None:
    qtbot.waitUntil(lambda: terminal.warnings().generation > 0, timeout=WAIT_MS)


class Silent:
    """The alarm's player: remembers what it was asked to play (no sound device in tests)."""

    def __init__(self) -> None:
        self.played: list[Path] = []

    def __call__(self, path: Path) -> None:
        self.played.append(path)


# -- lights ----------------------------------------------------------------------------------------
def test_lights_follow_the_store_after_the_monitor_publishes(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    board = LightsBoard(reader)
    qtbot.addWidget(board)
    relay.snapshot.connect(board.set_snapshot)
    board.refresh()
    board.resize(1000, 600)
    board.show()
    wait_first_snapshot(qtbot, terminal)
    relay.post(terminal.warnings())
    qtbot.waitUntil(lambda: (len(board.windows()) == 34 and board.level_of("win-A01") is not None)
                    or any(board.level_of(w.id) for w in board.windows()), timeout=WAIT_MS)
    snap = terminal.warnings()
    # every window shows the monitor's light (green where it has none); the floor is laid out by area
    for w in board.windows():
        assert board.level_of(w.id) == (str(snap.by_window[w.id]) if w.id in snap.by_window else None)
    assert [a for _h, _n, areas in board.floor() for a, _ in areas] == ["A", "B", "C", "D"]
    reds = [w for w, lvl in snap.by_window.items() if str(lvl) == "red"]
    assert reds, "the demo hall plants red cards"
    red = reds[0]
    assert red in board.blinking()  # nobody acknowledged it yet

    # acknowledge every red of that window: it stays red (undisposed) but stops blinking
    keys = [v.key for v in snap.views if v.warning.window_id == red and str(v.state) == "active"
            and str(v.warning.level) == "red"]
    for key in keys:
        terminal.acknowledge(key, by="测试员")
    qtbot.waitUntil(lambda: red not in board.blinking(), timeout=WAIT_MS)
    assert board.level_of(red) == "red"

    # dispose every undisposed warning of the window: the light goes out (green)
    lit = [v.key for v in terminal.warnings().views if v.warning.window_id == red and str(v.state) != "disposed"]
    for key in lit:
        terminal.dispose(key, "supervise", "已督办", by="测试员")
    qtbot.waitUntil(lambda: board.level_of(red) is None, timeout=WAIT_MS)

    # a click on the tile selects the window; a second click clears it
    rect = board.tile_rect(red)
    assert rect is not None
    with qtbot.waitSignal(board.window_selected, timeout=WAIT_MS) as sig:
        qtbot.mouseClick(board.floor_widget, Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert sig.args == [red]
    with qtbot.waitSignal(board.window_selected, timeout=WAIT_MS) as sig:
        qtbot.mouseClick(board.floor_widget, Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert sig.args == [None]


# -- warnings: acting --------------------------------------------------------------------------------
def _panel(qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay,
           player: Silent | None = None) -> WarningsPanel:
    panel = WarningsPanel(reader, terminal, SH, operator="监察员甲", alarm=Alarm(player=player or Silent()))
    qtbot.addWidget(panel)
    relay.snapshot.connect(panel.set_snapshot)
    panel.refresh()
    panel.resize(1200, 500)
    panel.show()
    wait_first_snapshot(qtbot, terminal)
    relay.post(terminal.warnings())
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=WAIT_MS)
    return panel


def _outbox(store: Store) -> list[OutboxAction]:
    with store.read() as s:
        return list(s.scalars(select(OutboxAction)))


def test_dispose_needs_a_note_and_writes_exactly_one_outbox_row(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay, store: Store
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    view = next(v for v in terminal.warnings().views if str(v.state) == "active")
    assert panel.select_key(view.key)
    assert _outbox(store) == []

    dlg = panel.dispose_selected("correct")
    assert isinstance(dlg, DisposeDialog)
    assert not dlg.ok.isEnabled()  # no note yet
    dlg.note.setPlainText("   \n ")
    assert not dlg.ok.isEnabled()  # blank is no note
    dlg.accept()  # Enter must not get round the disabled button
    assert dlg.isVisible()
    assert panel.dispose(view.key, "correct", "  ") is False  # nor the panel's own entry point
    assert _outbox(store) == []

    dlg.note.setPlainText("已要求窗口当日补正并退还多收费用")
    assert dlg.ok.isEnabled()
    with qtbot.waitSignal(panel.action_finished, timeout=WAIT_MS) as sig:
        dlg.ok.click()
    key, ok, _words = sig.args
    assert (key, ok) == (view.key, True)
    rows = _outbox(store)
    assert len(rows) == 1
    assert rows[0].type == "warning.dispose"
    assert rows[0].payload["warning"] == view.key
    assert rows[0].payload["measure"] == "correct"
    assert rows[0].payload["note"] == "已要求窗口当日补正并退还多收费用"
    assert rows[0].payload["by"] == "监察员甲"

    # the list shows who and when, and that the action waits in the outbox
    row = panel.model.row_of(view.key)
    assert row is not None
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(panel.model.row_of(view.key) or 0,
                                                               WarningsModel.PUSH)) == "Queued", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: str(panel.model.view(panel.model.row_of(view.key) or 0).state) == "disposed",
                    timeout=WAIT_MS)
    handled = panel.model.data(panel.model.index(panel.model.row_of(view.key) or 0, WarningsModel.HANDLED))
    assert "监察员甲" in handled and "Correct" in handled


def test_an_action_the_warning_does_not_allow_shows_its_reason(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay, store: Store
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    view = next(v for v in terminal.warnings().views if str(v.state) == "active")
    with qtbot.waitSignal(panel.action_finished, timeout=WAIT_MS):
        assert panel.dispose(view.key, "explain", "情况已说明")
    with qtbot.waitSignal(panel.action_finished, timeout=WAIT_MS) as sig:
        panel.acknowledge(view.key)  # already disposed: the executor refuses
    key, ok, words = sig.args
    assert (key, ok) == (view.key, False)
    assert words == "the warning is already disposed"
    assert panel.message.text() == words
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxAction)) == 1


def test_a_new_red_rings_once_and_mute_silences_the_chime(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    player = Silent()
    panel = _panel(qtbot, terminal, reader, relay, player)
    snap = terminal.warnings()
    assert panel.alarm.rings == 0  # what the operator finds on start is no news
    red = next(v for v in snap.views if str(v.warning.level) == "red")
    older = type(snap)(snap.at, tuple(v for v in snap.views if v.key != red.key), snap.by_window,
                       snap.by_department, snap.counts, snap.fallback_years, snap.generation + 1)
    panel.set_snapshot(older)  # the red cleared …
    with qtbot.waitSignal(panel.alarm.rang, timeout=WAIT_MS) as sig:
        panel.set_snapshot(snap)  # … and is raised again: new
    assert red.warning.subject in sig.args[1]
    assert player.played == [panel.alarm.sound] and panel.alarm.sound.is_file()
    panel.set_snapshot(snap)  # nothing new: no ring
    assert panel.alarm.rings == 1
    panel.mute.click()
    assert panel.alarm.muted
    panel.set_snapshot(older)
    panel.set_snapshot(snap)
    assert panel.alarm.rings == 2 and len(player.played) == 1  # the message, not the chime


def test_filters_by_level_state_department_rule_and_window(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    qtbot.waitUntil(lambda: bool(panel.model.extras.department), timeout=WAIT_MS)
    views = list(terminal.warnings().views)
    shown = panel.proxy.rowCount

    panel.set_filters(level="red")
    assert shown() == sum(str(v.warning.level) == "red" for v in views) > 0
    panel.set_filters(level="yellow", code="OVERDUE")
    assert shown() == sum(str(v.warning.level) == "yellow" and str(v.warning.code) == "OVERDUE" for v in views) > 0
    panel.set_filters()
    assert shown() == len(views)
    panel.set_filters(department="税务局")
    want = [v for v in views if panel.model.department_of(v) == "税务局"]
    assert shown() == len(want) > 0
    panel.set_filters(state="active")
    assert shown() == len(views)
    panel.set_filters(state="disposed")
    assert shown() == 0
    panel.set_filters()
    window = next(v.warning.window_id for v in views if v.warning.window_id)
    panel.set_window(window)
    assert shown() == sum(v.warning.window_id == window for v in views) > 0
    assert panel.window_chip.isVisible()
    panel.window_chip.click()
    assert shown() == len(views) and panel.proxy.window_id is None


# -- queue -------------------------------------------------------------------------------------------
def test_queue_counts_waiting_tickets_and_today(qtbot: Any, reader: Reader, store: Store) -> None:
    panel = QueuePanel(reader, SH, clock=Clock(NOW))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(reader.delivered, timeout=WAIT_MS, check_params_cb=lambda ch, _ms: ch == "queue"):
        panel.refresh()
    st = panel.stats()
    assert st is not None
    with store.read() as s:
        waiting = list(s.scalars(select(TicketRow).where(TicketRow.status == "waiting")))
        start = datetime.combine(DAY, datetime.min.time(), tzinfo=SH)
        missed = s.scalar(select(func.count()).select_from(TicketRow).where(
            TicketRow.status == "missed", TicketRow.issued_at >= start))
    assert st.waiting == len(waiting) > 0
    waits = [(NOW - t.issued_at).total_seconds() for t in waiting if t.issued_at is not None]
    assert st.longest_s == max(waits)
    assert abs(st.average_s - sum(waits) / len(waits)) < 1e-6
    assert st.missed_today == missed
    assert sum(r.waiting for r in st.rows) == st.waiting
    assert panel.figures["waiting"].text() == str(st.waiting)
    # the longest wait of the demo hall is over WAIT_LONG's 30 minutes
    assert st.longest_s > 30 * 60
    # scoped to one window: that window's department's business types only
    with store.read() as s:
        one = queue_stats(s, NOW, SH, window_id="win-C01", department="人力资源和社会保障局")
    assert all(r.department == "人力资源和社会保障局" or r.window_id == "win-C01" for r in one.rows)
    assert one.waiting <= st.waiting
    # a sync round adds a waiting ticket: refresh shows it
    later = NOW + timedelta(minutes=1)
    panel.clock = Clock(later)
    with store.write() as s:
        s.add(TicketRow(id="T-new", version=1, deleted=False, hall_id="hall-anshan", number="A999",
                        case_type_id="ct-sw-001", issued_at=later - timedelta(minutes=2), status="waiting"))
    with qtbot.waitSignal(reader.delivered, timeout=WAIT_MS, check_params_cb=lambda ch, _ms: ch == "queue"):
        panel.refresh()
    assert panel.stats() is not None and panel.stats().waiting == st.waiting + 1  # type: ignore[union-attr]


def test_reader_newest_request_wins_and_answers_arrive_on_the_gui_thread(qtbot: Any, reader: Reader) -> None:
    import threading

    got: list[tuple[int, bool]] = []
    gate = threading.Event()

    def slow(_s: Any) -> int:
        gate.wait(10)
        return 1

    reader.submit("a", slow, lambda v: got.append((v, threading.current_thread() is threading.main_thread())))
    reader.submit("b", lambda _s: 2, lambda v: got.append((v, True)))
    reader.submit("b", lambda _s: 3, lambda v: got.append((v, threading.current_thread() is threading.main_thread())))
    reader.submit("a", lambda _s: 4, lambda v: got.append((v, threading.current_thread() is threading.main_thread())))
    gate.set()
    qtbot.waitUntil(lambda: len(got) >= 2, timeout=WAIT_MS)
    # "a"'s first answer was overtaken while it ran; "b"'s first never ran
    assert sorted(got) == [(3, True), (4, True)]
    assert reader.stats().superseded >= 2
    assert not reader.pending("a") and not reader.pending("b")


def test_the_reader_gives_freed_memory_back_after_a_query_now_and_then(qtbot: Any, store: Store) -> None:
    r = Reader(store, trim_every=0.0)
    r.start()
    try:
        got: list[int] = []
        r.submit("a", lambda _s: 1, got.append)
        qtbot.waitUntil(lambda: got == [1] and r.trims >= 1, timeout=WAIT_MS)
    finally:
        assert r.stop()
    never = Reader(store, trim_every=3600.0)
    never.start()
    try:
        got = []
        never.submit("a", lambda _s: 2, got.append)
        qtbot.waitUntil(lambda: got == [2], timeout=WAIT_MS)
    finally:
        assert never.stop()
    assert never.trims == 0
    # a long query (here: any) gives its memory back at once, whenever the last trim was
    after_long = Reader(store, trim_every=3600.0, long_query=0.0)
    after_long.start()
    try:
        got = []
        after_long.submit("a", lambda _s: 3, got.append)
        qtbot.waitUntil(lambda: got == [3] and after_long.trims == 1, timeout=WAIT_MS)
    finally:
        assert after_long.stop()


# -- performance ----------------------------------------------------------------------------------------
def test_the_performance_panel_computes_nothing_until_first_shown(qtbot: Any, reader: Reader) -> None:
    """A panel behind another tab judges no case (the largest work, and memory, of a window's start)."""
    from desktop.operator.performance import PerformancePanel

    panel = PerformancePanel(reader, SH, clock=Clock(NOW))
    qtbot.addWidget(panel)
    panel.show()
    panel.seen(False)
    assert not reader.pending("performance") and panel.result is None
    with qtbot.waitSignal(panel.computed, timeout=WAIT_MS):
        panel.seen(True)  # its dock became visible
    assert panel.result is not None


def test_the_performance_panel_follows_the_store_while_seen_at_most_every_refresh_interval(
    qtbot: Any, reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures computed once, when first seen, stayed as they were all day (a demo's panel opened
    during the first sync said "0 completed"). A store change now has them computed again — at
    once when the last time was ``REFRESH_S`` ago, else then — and, behind another tab, when
    next seen."""
    from desktop.operator import performance as perf

    monkeypatch.setattr(perf, "REFRESH_S", 0.5)
    panel = perf.PerformancePanel(reader, SH, clock=Clock(NOW))
    qtbot.addWidget(panel)
    panel.show()
    panel.store_changed()  # never seen yet: nothing
    assert not reader.pending("performance") and panel.result is None
    asked = time.monotonic()  # the interval counts from when the figures were asked for
    with qtbot.waitSignal(panel.computed, timeout=WAIT_MS):
        panel.seen(True)
    with qtbot.waitSignal(panel.computed, timeout=WAIT_MS):
        panel.store_changed()
        panel.store_changed()  # a burst: one computation
    assert time.monotonic() - asked >= 0.45  # not before the interval (a coarse timer: 5 % early at most)
    computed: list[Any] = []
    panel.computed.connect(computed.append)
    qtbot.wait(800)
    assert computed == []  # nothing changed since: nothing computed
    panel.hide()  # behind another tab
    panel.store_changed()
    qtbot.wait(800)
    assert computed == [] and not reader.pending("performance")
    with qtbot.waitSignal(panel.computed, timeout=WAIT_MS):
        panel.show()
        panel.seen(True)


@pytest.mark.parametrize("kind", ["day", "week", "month", "custom"])
def test_performance_matches_supervision_performance_for_each_period(
    qtbot: Any, reader: Reader, store: Store, kind: str
) -> None:
    from desktop.operator.performance import PerformancePanel, period_bounds
    from supervision.duedates import end_of_day
    from supervision.performance import compute_from_store

    panel = PerformancePanel(reader, SH, clock=Clock(NOW))
    qtbot.addWidget(panel)
    custom = (DAY - timedelta(days=9), DAY - timedelta(days=2))
    with qtbot.waitSignal(panel.computed, timeout=WAIT_MS) as sig:
        panel.set_period(kind, *custom)
    r = sig.args[0]
    start, end = period_bounds(kind, DAY, custom)
    assert (r.start, r.end) == (start, end)
    # the date fields say the period's days (disabled unless custom)
    assert (panel.start_edit.date().toPython(), panel.end_edit.date().toPython()) == (start, end)
    with store.read() as s:
        want = compute_from_store(s, SH, end_of_day(start - timedelta(days=1), SH), end_of_day(end, SH))
    assert dict(r.report.departments) == dict(want.departments)
    assert dict(r.report.windows) == dict(want.windows)
    # the trend covers at least two weeks up to the period's end, one point a day; its days
    # inside the period add up to the period's completed cases
    assert r.trend[-1][0] == end and len(r.trend) >= 14
    in_period = sum(n for d, _rate, n in r.trend if start <= d <= end)
    assert in_period == sum(p.completed for p in want.windows.values())
    # the ranking lists departments by score, best first
    rows = panel.ranking_rows("departments")
    assert len(rows) == len([d for d in want.departments if d])
    scores = [float(row[1]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    if kind == "week":
        assert sum(p.completed for p in want.windows.values()) > 0
        assert any(p.yellow or p.red for p in want.departments.values())


def test_performance_read_in_chunks_gives_the_figures_of_every_case_at_once(store: Store) -> None:
    """The performance query reads the cases a chunk at a time (memory): any chunk size gives what
    supervision.performance computes over all of them, trend included."""
    from desktop.operator.queries import performance
    from supervision.duedates import end_of_day
    from supervision.performance import compute_from_store

    start, end = DAY - timedelta(days=6), DAY
    with store.read() as s:
        n_cases = s.scalar(select(func.count()).select_from(CaseRow))
        whole = performance(s, SH, start, end, trend_start=DAY - timedelta(days=29), chunk=10**9)
        small = performance(s, SH, start, end, trend_start=DAY - timedelta(days=29), chunk=3)
        want = compute_from_store(s, SH, end_of_day(start - timedelta(days=1), SH), end_of_day(end, SH))
    assert n_cases is not None and n_cases > 3  # several chunks
    assert sum(p.completed for p in want.windows.values()) > 0 and any(p.yellow or p.red for p in want.windows.values())
    for r in (whole, small):
        assert dict(r.report.windows) == dict(want.windows)
        assert dict(r.report.departments) == dict(want.departments)
        assert dict(r.report.org_units) == dict(want.org_units)
    assert small.trend == whole.trend and sum(n for _d, _r, n in small.trend) > 0


def test_a_slow_computation_does_not_hold_up_quick_questions(qtbot: Any, reader: Reader) -> None:
    import threading

    gate = threading.Event()
    got: list[str] = []

    def slow(_s: Any) -> str:
        gate.wait(10)
        return "slow"

    reader.submit("performance", slow, got.append, slow=True)
    with qtbot.waitSignal(reader.delivered, timeout=WAIT_MS, check_params_cb=lambda ch, _ms: ch == "queue"):
        reader.submit("queue", lambda _s: "quick", got.append)
    assert got == ["quick"]  # answered while the slow one still runs
    gate.set()
    qtbot.waitUntil(lambda: got == ["quick", "slow"], timeout=WAIT_MS)


def test_the_board_reads_the_hall_again_when_a_sync_brings_it(qtbot: Any, tmp_path: Path) -> None:
    from app.monitor import WarningMonitor

    store = open_store(tmp_path / "empty.db")
    reader = Reader(store)
    reader.start()
    try:
        board = LightsBoard(reader)
        qtbot.addWidget(board)
        with qtbot.waitSignal(reader.delivered, timeout=WAIT_MS):
            board.refresh()
        assert board.windows() == ()  # a terminal before its first sync
        body = demo.generate(DAY, days=2, now=NOW)
        body["changes"] = [c for c in body["changes"] if c["type"] != "camera"]
        import_page(store, ChangesPage.model_validate(body), source="first sync")
        monitor = WarningMonitor(store, SH, clock=Clock(NOW))
        monitor.process(NOW)
        board.set_snapshot(monitor.snapshot())
        qtbot.waitUntil(lambda: len(board.windows()) == 34, timeout=WAIT_MS)
        assert board.tile_rect("win-A01") is not None
    finally:
        assert reader.stop(10)
        store.close()


def test_the_board_fits_the_height_it_is_given(qtbot: Any, reader: Reader) -> None:
    board = LightsBoard(reader)
    qtbot.addWidget(board)
    board.show()
    with qtbot.waitSignal(reader.delivered, timeout=WAIT_MS):
        board.refresh()
    floor = board.floor_widget

    def tiles_fit() -> bool:
        return bool(floor.tiles) and max(t.rect.bottom() for t in floor.tiles) < board.viewport().height()

    board.resize(1200, 700)  # room for the full floor plan: number and name on each tile
    qtbot.waitUntil(lambda: tiles_fit() and not floor.strip, timeout=WAIT_MS)
    assert floor.tiles[0].rect.height() >= 44
    board.resize(1900, 80)  # a short dock: one strip of small lights, every window still there
    qtbot.waitUntil(lambda: tiles_fit() and floor.strip, timeout=WAIT_MS)
    assert len([t for t in floor.tiles if t.kind == "window"]) == 34


def test_show_footage_of_a_warning_gives_its_key_and_the_target_is_its_windows_cameras(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay, store: Store
) -> None:
    from app.review import footage_target

    panel = _panel(qtbot, terminal, reader, relay)
    view = next(v for v in terminal.warnings().views if v.warning.window_id)
    assert panel.select_key(view.key)
    assert panel.footage_button.isEnabled()
    with qtbot.waitSignal(panel.footage_requested, timeout=WAIT_MS) as sig:
        panel.footage_button.click()
    assert sig.args == [view.key]
    target = footage_target(store, "warning", view.key, tz=SH)
    assert target.window_id == view.warning.window_id and target.at is not None


class _CountingModel(WarningsModel):
    """Counts the row keys the filter asks the model for (each one a call into Python)."""

    def __init__(self) -> None:
        super().__init__(SH)
        self.keys_asked = 0

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == FILTER_ROLE:
            self.keys_asked += 1
        return super().data(index, role)


def test_with_no_filter_set_new_rows_cost_no_call_into_python_and_a_filter_asks_each_row_once(
    qtbot: Any, terminal: Terminal
) -> None:
    wait_first_snapshot(qtbot, terminal)
    views = list(terminal.warnings().views)
    assert len(views) > 10
    model = _CountingModel()
    proxy = WarningsFilter()
    proxy.setSourceModel(model)
    model.set_views(views[: len(views) // 2])
    model.set_views(views)  # rows inserted
    assert proxy.rowCount() == len(views) and model.keys_asked == 0
    proxy.set_filter(level="red")
    assert proxy.rowCount() == sum(str(v.warning.level) == "red" for v in views) > 0
    assert model.keys_asked == len(views)
    proxy.set_filter(level=None)
    assert proxy.rowCount() == len(views)


def test_the_push_states_read_whole_are_those_read_warning_by_warning(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay, store: Store
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    acted = [v for v in terminal.warnings().views if str(v.state) == "active"][:2]
    for view in acted:
        with qtbot.waitSignal(panel.action_finished, timeout=WAIT_MS):
            panel.acknowledge(view.key)
    keys = [v.key for v in terminal.warnings().views]
    with store.read() as s:
        by_key = warning_extras(s, keys, ()).push
        whole = warning_extras(s, None, ()).push
    assert set(by_key) >= {v.key for v in acted}
    assert {k: p for k, p in whole.items() if k in set(keys)} == dict(by_key)
