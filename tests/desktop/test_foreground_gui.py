"""While the GUI thread paints a table, background threads give way (``supervision.foreground``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desktop.operator.common import TableView
from supervision import foreground


class _Rows(QAbstractTableModel):
    """A table whose every call for a cell's words notes whether background threads give way."""

    def __init__(self) -> None:
        super().__init__()
        self.gui_busy: list[bool] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 30

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 5

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            self.gui_busy.append(not foreground._idle.is_set())
            return f"{index.row()}/{index.column()}"
        return None


def _shown_table(qtbot: Any) -> tuple[TableView, _Rows]:
    model = _Rows()
    view = TableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def test_a_table_paints_with_background_threads_giving_way(qtbot: Any) -> None:
    view, model = _shown_table(qtbot)
    model.gui_busy.clear()
    view.grab()
    assert model.gui_busy and all(model.gui_busy), model.gui_busy  # every cell painted while they give way
    assert foreground._idle.is_set()  # and no longer once painted


def test_a_background_thread_waits_for_a_paint_in_progress(qtbot: Any) -> None:
    view, model = _shown_table(qtbot)
    waited: list[float] = []
    started = threading.Event()

    def worker() -> None:
        started.set()
        t0 = time.monotonic()
        foreground.give_way()
        waited.append(time.monotonic() - t0)

    original = model.data

    def slow_first_cell(index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and not started.is_set():
            thread.start()
            started.wait(1)
            time.sleep(foreground.MAX_WAIT_S / 2)  # the GUI thread is busy painting meanwhile
        return original(index, role)

    thread = threading.Thread(target=worker)
    model.data = slow_first_cell  # type: ignore[method-assign]
    view.grab()
    thread.join(5)
    assert waited and waited[0] >= foreground.MAX_WAIT_S / 4, waited
