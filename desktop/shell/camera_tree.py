"""The camera tree (hall → window → camera): drag a camera onto a grid tile, double-click to show it.

Built from the terminal's camera registry (in memory) and the store's halls and windows, read on a
background thread. The drag carries the camera id as ``application/x-hallwatch-camera``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

__all__ = ["CAMERA_MIME", "CameraRow", "CameraTree"]

CAMERA_MIME = "application/x-hallwatch-camera"
CAMERA_ROLE = Qt.ItemDataRole.UserRole + 1
WINDOW_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True, slots=True)
class CameraRow:
    camera_id: str
    camera_name: str
    hall_id: str | None
    hall_name: str
    window_id: str | None
    window_label: str  # "A01 综合窗口"; "" for a camera without a window


class _Model(QStandardItemModel):
    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME]

    def mimeData(self, indexes: Iterable[QModelIndex | QPersistentModelIndex]) -> QMimeData:
        data = QMimeData()
        for index in indexes:
            cid = index.data(CAMERA_ROLE)
            if cid:
                data.setData(CAMERA_MIME, str(cid).encode("utf-8"))
                data.setText(str(cid))
                break
        return data


MIN_WIDTH_EM = 15


class CameraTree(QTreeView):
    """Halls, their windows and cameras; ``camera_activated(id)`` on double-click or Enter."""

    camera_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = _Model(self)
        self.setModel(self._model)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Never narrower than a window's number and the start of its name (a dock laid out before
        # the window had its size once left 120 px of "A01 企业…" rows).
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * MIN_WIDTH_EM)
        self.activated.connect(self._activated)
        self._rows: list[CameraRow] = []
        self._window: str | None = None
        self._state_of: Callable[[str], str] = lambda _cid: ""

    def set_rows(self, rows: list[CameraRow]) -> None:
        self._rows = rows
        self._rebuild()

    def set_state_provider(self, state_of: Callable[[str], str]) -> None:
        """``state_of(camera_id)`` → a few words shown after the camera's name ("" when live)."""
        self._state_of = state_of

    def filter_window(self, window_id: str | None) -> None:
        """Show only the cameras of one window (None: all)."""
        self._window = window_id
        self._rebuild()

    def refresh_states(self) -> None:
        for hall in range(self._model.rowCount()):
            h = self._model.item(hall)
            for w in range(h.rowCount()):
                win = h.child(w)
                for c in range(win.rowCount()):
                    item = win.child(c)
                    cid = item.data(CAMERA_ROLE)
                    name = item.data(Qt.ItemDataRole.UserRole + 3)
                    state = self._state_of(cid)
                    item.setText(f"{name}  · {state}" if state else name)

    def _rebuild(self) -> None:
        self._model.clear()
        halls: dict[str, QStandardItem] = {}
        windows: dict[tuple[str, str], QStandardItem] = {}
        for r in sorted(self._rows, key=lambda r: (r.hall_name, r.window_label, r.camera_name)):
            if self._window is not None and r.window_id != self._window:
                continue
            hall = halls.get(r.hall_name)
            if hall is None:
                hall = QStandardItem(r.hall_name or self.tr("Cameras"))
                hall.setDragEnabled(False)
                halls[r.hall_name] = hall
                self._model.appendRow(hall)
            label = r.window_label or self.tr("No window")
            win = windows.get((r.hall_name, label))
            if win is None:
                win = QStandardItem(label)
                win.setDragEnabled(False)
                win.setData(r.window_id, WINDOW_ROLE)
                windows[(r.hall_name, label)] = win
                hall.appendRow(win)
            cam = QStandardItem(r.camera_name)
            cam.setData(r.camera_id, CAMERA_ROLE)
            cam.setData(r.camera_name, Qt.ItemDataRole.UserRole + 3)
            cam.setData(r.window_id, WINDOW_ROLE)
            cam.setToolTip(self.tr("Drag onto a tile, or double-click to show it"))
            win.appendRow(cam)
        self.expandAll()
        self.refresh_states()

    def _activated(self, index: QModelIndex) -> None:
        cid = index.data(CAMERA_ROLE)
        if cid:
            self.camera_activated.emit(str(cid))
