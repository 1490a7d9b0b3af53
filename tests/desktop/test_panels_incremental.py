"""A new warning snapshot changes only the rows it changes: the warnings list keeps its rows,
selection and persistent indexes; the lights board draws again only when a light changed; the
queue keeps its rows when the business types are the same.

Real parts: the demo hall in a real store, a real terminal's warning monitor publishing through
the real :class:`SnapshotRelay`, the panels reading through a real :class:`Reader`.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QPersistentModelIndex

from app.terminal import Terminal
from desktop.operator.alarm import Alarm
from desktop.operator.lights import LightsBoard
from desktop.operator.queue import QueueModel
from desktop.operator.reader import Reader
from desktop.operator.snapshot import RelayedSnapshot, SnapshotRelay, diff_views, relay_snapshot
from desktop.operator.warnings import KEY_ROLE, WarningsPanel
from supervision.config import Config
from supervision.lifecycle import State, WarningView
from supervision.store import Store
from tests.desktop.test_panels import NOW, SH, WAIT_MS, Clock, demo_store

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


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


def _apply(old: list[WarningView], new: list[WarningView], changes: Any) -> list[WarningView]:
    rows = list(old)
    for first, last in changes.removed:
        del rows[first : last + 1]
    for first, last in changes.inserted:
        rows[first:first] = new[first : last + 1]
    assert [v.key for v in rows] == [v.key for v in new]
    for first, last in changes.changed:
        rows[first : last + 1] = new[first : last + 1]
    return rows


def test_row_changes_turn_the_old_rows_into_the_new_ones(terminal: Terminal, qtbot: Any) -> None:
    qtbot.waitUntil(lambda: terminal.warnings().generation > 0, timeout=WAIT_MS)
    views = list(terminal.warnings().views)
    assert len(views) > 20
    rnd = random.Random(11)
    for _ in range(200):
        new = [v if rnd.random() < 0.8 else dataclasses.replace(v, state=State.ACKNOWLEDGED)
               for v in views if rnd.random() < 0.9]
        for _ in range(rnd.randint(0, 3)):  # a warning that changed place
            if new:
                new.insert(rnd.randrange(len(new) + 1), new.pop(rnd.randrange(len(new))))
        old = [v for v in views if rnd.random() < 0.9]
        changes = diff_views(old, new)
        assert _apply(old, new, changes) == new
        assert changes.row_of == {v.key: i for i, v in enumerate(new)}
        # a row is "changed" only when its view differs; the same object is never signalled
        unchanged = {v.key for v in old} & {v.key for v in new if any(v is o for o in old)}
        assert not any(new[i].key in unchanged for a, b in changes.changed for i in range(a, b + 1))
    same = diff_views(views, list(views))
    assert same.empty and same.operations == 0


def _panel(qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay) -> WarningsPanel:
    panel = WarningsPanel(reader, terminal, SH, operator="监察员甲", alarm=Alarm(player=lambda _p: None))
    qtbot.addWidget(panel)
    relay.snapshot.connect(panel.set_snapshot)
    panel.refresh()
    panel.resize(1200, 500)
    panel.show()
    qtbot.waitUntil(lambda: terminal.warnings().generation > 0, timeout=WAIT_MS)
    relay.post(terminal.warnings())
    qtbot.waitUntil(lambda: panel.model.rowCount() == len(terminal.warnings().views) > 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(panel.model.extras.department) and not reader.pending("warnings.extras"),
                    timeout=WAIT_MS)
    return panel


def _without(snap: Any, gone: WarningView) -> Any:
    """The next snapshot: ``snap`` without the warning ``gone``."""
    views = tuple(v for v in snap.views if v is not gone)
    return dataclasses.replace(snap, views=views, generation=snap.generation + 1)


def _show(qtbot: Any, panel: WarningsPanel, snap: RelayedSnapshot) -> None:
    """A snapshot from the relay, shown once its words are read (see the test below)."""
    panel.set_snapshot(snap)
    qtbot.waitUntil(lambda: panel._waiting is None, timeout=WAIT_MS)


def test_a_snapshot_changes_only_its_rows_and_keeps_the_selection(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    model = panel.model
    views = list(model.views)
    active = [v for v in views if str(v.state) == "active"]
    chosen, acted = active[0], active[len(active) // 2]
    assert panel.select_key(chosen.key)
    watched = QPersistentModelIndex(model.index(model.row_of(views[-1].key) or 0, 0))
    resets, generation = model.resets, terminal.warnings().generation
    changed_rows: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=None: changed_rows.append((a.row(), b.row())))
    removed: list[int] = []
    inserted: list[int] = []
    model.rowsRemoved.connect(lambda _p, a, _b: removed.append(a))
    model.rowsInserted.connect(lambda _p, a, _b: inserted.append(a))

    terminal.acknowledge(acted.key, by="监察员甲")  # the monitor publishes: one view differs
    qtbot.waitUntil(lambda: panel._snap is not None and panel._snap.generation > generation, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: str(model.view(model.row_of(acted.key) or 0).state) == "acknowledged", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: model.push_of(acted.key) is not None, timeout=WAIT_MS)  # the push state came too

    assert isinstance(panel._snap, RelayedSnapshot)  # the changes were worked out off the GUI thread
    assert model.resets == resets  # no rebuild
    assert removed == [] and inserted == []  # same level, same time raised: its place stays
    row = model.row_of(acted.key)
    assert changed_rows and {r for r in changed_rows} == {(row, row)}  # that row only (view, then push)
    # the selection and a persistent index of another row are where they were
    assert panel._selected_key() == chosen.key
    assert watched.isValid() and watched.data(KEY_ROLE) == views[-1].key
    # unchanged warnings are the very objects the list had
    assert all(a is b for a, b in zip(views, model.views, strict=True) if a.key != acted.key)


def test_a_warning_that_goes_away_removes_its_row_only(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    model = panel.model
    snap = terminal.warnings()
    views = list(snap.views)
    keep = views[-1]
    assert panel.select_key(keep.key)
    gone = views[len(views) // 3]
    resets = model.resets
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    fewer = _without(snap, gone)
    _show(qtbot, panel, relay_snapshot(fewer, relay.latest()))
    assert removed == [(len(views) // 3, len(views) // 3)]
    assert model.resets == resets and model.row_of(gone.key) is None
    assert panel._selected_key() == keep.key
    back = dataclasses.replace(snap, generation=snap.generation + 2)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    panel.set_snapshot(back)  # a plain snapshot (not through the relay): worked out here, same rows
    assert inserted == [(len(views) // 3, len(views) // 3)] and model.resets == resets
    assert [v.key for v in model.views] == [v.key for v in views]


def test_a_new_snapshot_shows_its_rows_when_their_words_are_read(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    # the rows change once, with their words (labels, departments, push states) read for them:
    # one change and one paint, not the rows without their words and then again with them
    panel = _panel(qtbot, terminal, reader, relay)
    model = panel.model
    snap = terminal.warnings()
    views = list(snap.views)
    gone = views[len(views) // 2]
    fewer = _without(snap, gone)
    relayed = relay_snapshot(fewer, relay.latest())
    asked: list[bool] = []
    model.rowsRemoved.connect(lambda *_a: asked.append(reader.pending("warnings.extras")))
    panel.set_snapshot(relayed)
    assert model.row_of(gone.key) is not None and panel._waiting is relayed  # its words are read first
    qtbot.waitUntil(lambda: model.row_of(gone.key) is None, timeout=WAIT_MS)
    assert asked == [False]  # the row went as the words were delivered, in the same pass
    assert panel._snap is relayed and panel._waiting is None


def test_a_snapshot_that_changes_rows_in_many_places_rebuilds_once_and_keeps_selection_and_scroll(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    # a sync brings warnings all through the list: one rebuild (not a row signal per place), and
    # the operator's place kept by key — the selected warning, and the warning at the top
    from PySide6.QtWidgets import QAbstractItemView

    from desktop.operator.warnings import RESET_ABOVE_PLACES

    panel = _panel(qtbot, terminal, reader, relay)
    model, table = panel.model, panel.table
    snap = terminal.warnings()
    views = list(snap.views)
    step = max(2, len(views) // (3 * RESET_ABOVE_PLACES))
    fewer = dataclasses.replace(snap, views=tuple(v for i, v in enumerate(views) if i % step != 1),
                                generation=snap.generation + 1)
    _show(qtbot, panel, relay_snapshot(fewer, relay.latest()))
    assert model.rowCount() == len(fewer.views)
    top, chosen = fewer.views[len(fewer.views) // 2], fewer.views[len(fewer.views) // 2 + 3]
    assert panel.select_key(chosen.key)
    table.scrollTo(panel.proxy.mapFromSource(model.index(model.row_of(top.key) or 0, 0)),
                   QAbstractItemView.ScrollHint.PositionAtTop)

    def top_key() -> str:
        return str(table.indexAt(table.viewport().rect().topLeft()).data(KEY_ROLE))

    assert top_key() == top.key
    resets = model.resets
    inserted: list[int] = []
    model.rowsInserted.connect(lambda _p, a, _b: inserted.append(a))
    back = dataclasses.replace(snap, generation=snap.generation + 2)
    _show(qtbot, panel, relay_snapshot(back, relay_snapshot(fewer, None)))
    assert model.resets == resets + 1 and inserted == []  # rebuilt once, no row signal per place
    assert [v.key for v in model.views] == [v.key for v in views]
    assert panel._selected_key() == chosen.key  # the same warning selected …
    assert top_key() == top.key  # … and the same warning at the top of the list
    assert table.selectionModel().currentIndex().data(KEY_ROLE) == chosen.key  # the keyboard goes on from it

    # scrolled to the top, the list stays at the top: the new warnings there are seen
    table.scrollToTop()
    _show(qtbot, panel, relay_snapshot(fewer, relay_snapshot(back, None)))
    assert model.resets == resets + 2
    assert table.verticalScrollBar().value() == 0 and panel._selected_key() == chosen.key


def test_the_warnings_table_answers_a_repaint_inside_one_call_into_python(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    # Qt asks the model for every cell it paints; each call into Python from Qt's C++ waits for the
    # GIL while the sync and the monitor run (a 5 ms repaint took 150-500 ms). The table's paint
    # is entered from Python, so the model's calls are nested in it: the GIL taken once a paint.
    import sys

    from desktop.operator.common import TableView

    panel = _panel(qtbot, terminal, reader, relay)
    model = panel.model
    nested: list[bool] = []
    multi = model.multiData

    def watching(index: Any, span: Any) -> None:
        frame: Any = sys._getframe(1)
        inside = False
        while frame is not None:
            if frame.f_code is TableView.paintEvent.__code__:
                inside = True
                break
            frame = frame.f_back
        nested.append(inside)
        multi(index, span)

    model.multiData = watching  # type: ignore[method-assign,assignment]
    panel.table.viewport().update()
    qtbot.waitUntil(lambda: len(nested) >= 20, timeout=WAIT_MS)  # the cells in sight, painted
    assert all(nested)


def test_the_lights_board_draws_again_only_when_a_light_changes(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    board = LightsBoard(reader)
    qtbot.addWidget(board)
    qtbot.waitUntil(lambda: terminal.warnings().generation > 0, timeout=WAIT_MS)
    snap = terminal.warnings()
    board.set_snapshot(snap)
    drawn = board.redraws
    assert drawn == 1
    board.set_snapshot(dataclasses.replace(snap, generation=snap.generation + 1))  # the same lights
    assert board.redraws == drawn
    window, level = next((w, lv) for w, lv in snap.by_window.items() if str(lv) != "red")
    other: dict[str, Any] = dict(snap.by_window)
    other[window] = "red"
    board.set_snapshot(dataclasses.replace(snap, by_window=other, generation=snap.generation + 2))
    assert board.redraws == drawn + 1 and board.level_of(window) == "red" != str(level)


def test_the_queue_keeps_its_rows_when_only_figures_change(qtbot: Any, reader: Reader) -> None:
    from desktop.operator.queries import queue_stats

    with reader.store.read() as s:
        st = queue_stats(s, NOW, SH)
    assert len(st.rows) > 1
    model = QueueModel()
    model.set_stats(st)
    assert model.resets == 1
    changed: list[int] = []
    model.dataChanged.connect(lambda a, _b, _roles=None: changed.append(a.row()))
    first = st.rows[0]
    more = dataclasses.replace(st, rows=(dataclasses.replace(first, waiting=first.waiting + 1), *st.rows[1:]))
    model.set_stats(more)
    assert model.resets == 1 and changed == [0]
    model.set_stats(dataclasses.replace(st, rows=st.rows[1:]))  # a business type left the queue
    assert model.resets == 2 and model.rowCount() == len(st.rows) - 1


def test_sorting_by_a_column_is_done_by_the_model_and_kept_across_snapshots(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    from PySide6.QtCore import Qt

    from desktop.operator.warnings import WarningsModel

    panel = _panel(qtbot, terminal, reader, relay)
    model = panel.model
    chosen = model.views[len(model.views) // 2]
    assert panel.select_key(chosen.key)
    calls = 0
    data = model.data

    def counting(index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        nonlocal calls
        calls += 1
        return data(index, role)

    model.data = counting  # type: ignore[method-assign]
    panel.table.sortByColumn(WarningsModel.SUBJECT, Qt.SortOrder.DescendingOrder)  # a header click
    texts = [model.text(v, WarningsModel.SUBJECT) for v in model.views]
    assert texts == sorted(texts, reverse=True)
    assert calls < 2000  # the rows painted, not a call per comparison of 10⁴ rows
    assert panel.proxy.sortColumn() == -1  # the proxy only filters, in the model's order
    # the proxy shows the model's order, and the selection followed its row
    shown = [panel.proxy.index(r, WarningsModel.SUBJECT).data() for r in range(panel.proxy.rowCount())]
    assert shown == texts
    assert panel._selected_key() == chosen.key

    # a new snapshot (an acknowledgement) keeps the rows sorted, without a rebuild
    resets, generation = model.resets, terminal.warnings().generation
    acted = next(v for v in model.views if str(v.state) == "active")
    terminal.acknowledge(acted.key, by="监察员甲")
    qtbot.waitUntil(lambda: panel._snap is not None and panel._snap.generation > generation, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: model.push_of(acted.key) is not None, timeout=WAIT_MS)
    texts = [model.text(v, WarningsModel.SUBJECT) for v in model.views]
    assert texts == sorted(texts, reverse=True) and model.resets == resets
    assert panel._selected_key() == chosen.key

    panel.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # back to the snapshot's order
    assert [v.key for v in model.views] == [v.key for v in terminal.warnings().views]


def test_a_new_red_through_the_relay_rings_once(
    qtbot: Any, terminal: Terminal, reader: Reader, relay: SnapshotRelay
) -> None:
    panel = _panel(qtbot, terminal, reader, relay)
    snap = terminal.warnings()
    red = next(v for v in snap.views if str(v.warning.level) == "red" and str(v.state) == "active")
    older = dataclasses.replace(snap, views=tuple(v for v in snap.views if v is not red),
                                generation=snap.generation + 1)
    relay.post(older)  # the red cleared …
    assert panel.alarm.rings == 0
    with qtbot.waitSignal(panel.alarm.rang, timeout=WAIT_MS) as sig:
        relay.post(dataclasses.replace(snap, generation=snap.generation + 2))  # … and is raised again
    latest = relay.latest()
    assert latest is not None and [v.key for v in latest.new_reds] == [red.key]  # found on the relay's side
    assert red.warning.subject in sig.args[1] and panel.alarm.rings == 1
    relay.post(dataclasses.replace(snap, generation=snap.generation + 3))  # nothing new
    assert panel.alarm.rings == 1


def test_the_relay_hands_over_at_most_one_snapshot_per_interval_the_newest(
    qtbot: Any, terminal: Terminal, reader: Reader
) -> None:
    qtbot.waitUntil(lambda: terminal.warnings().generation > 0, timeout=WAIT_MS)
    snap = terminal.warnings()
    views = list(snap.views)
    relay = SnapshotRelay(None, min_interval_ms=300)
    got: list[RelayedSnapshot] = []
    relay.snapshot.connect(got.append)
    try:
        relay.post(snap)
        assert [g.generation for g in got] == [snap.generation]  # the first at once
        burst = [dataclasses.replace(snap, views=tuple(views[:-n]), generation=snap.generation + n)
                 for n in (1, 2, 3)]
        t0 = time.monotonic()
        for b in burst:
            relay.post(b)
        assert len(got) == 1  # the burst waits …
        qtbot.waitUntil(lambda: len(got) == 2, timeout=WAIT_MS)
        assert time.monotonic() - t0 >= 0.25
        last = got[-1]
        assert last.generation == burst[-1].generation and relay.handed == 2  # … and only its newest comes
        assert last.base is snap.views  # worked out against what the GUI thread had
        assert _apply(views, list(last.views), last.changes) == list(last.views)
    finally:
        relay.close()


def test_the_gui_application_hands_the_gil_back_to_the_gui_thread_sooner(qtbot: Any) -> None:
    import sys

    from desktop.application import GUI_SWITCH_INTERVAL_S, create_application

    sys.setswitchinterval(0.005)  # Python's default
    create_application()
    assert GUI_SWITCH_INTERVAL_S < 0.005
    assert sys.getswitchinterval() == pytest.approx(GUI_SWITCH_INTERVAL_S)
