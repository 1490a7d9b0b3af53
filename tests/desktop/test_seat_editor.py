"""The tile's "Edit seat regions…" mode (desktop/video/seats.py) over a real terminal and a real
synthetic camera: opened from the tile's menu, a seat drawn with the mouse for the picked window,
saved through the terminal's writer thread into the store, selected and deleted; a camera whose
seats the config sets is shown read-only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from app.terminal import Terminal
from desktop.video.grid import CameraGrid
from desktop.video.seats import SeatEditor, install_seat_editing
from supervision.config import CameraEntry, Config, SeatEntry
from supervision.seats import Seat, stored_regions
from supervision.store.models import OrgUnit, Window

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")  # raise(), grabbing the keyboard (offscreen)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    cfg = Config(cameras=[
        CameraEntry(id="cam-A01", name="A01", url="synthetic://window/A01", window_id="win-A01"),
        CameraEntry(id="cam-A02", name="A02", url="synthetic://window/A02", window_id="win-A02",
                    seats=[SeatEntry(window_id="win-A02", x=0.5, y=0.2, w=0.2, h=0.3)]),
    ])
    t = Terminal(cfg, tmp_path / "data", command="test", record=False, sync=False, lock=False)
    with t.store.write() as s:
        s.add(OrgUnit(id="hall-1", version=1, deleted=False, name="大厅", level="hall"))
        for n in ("A01", "A02", "A03"):
            s.add(Window(id=f"win-{n}", version=1, deleted=False, hall_id="hall-1", number=n, name=f"窗口{n}"))
    t.start()
    try:
        yield t
    finally:
        assert t.stop(time.monotonic() + 10)


@pytest.fixture
def grid(qtbot: Any, terminal: Terminal) -> Iterator[CameraGrid]:
    g = CameraGrid(terminal.cameras.get, layout="2x2")
    qtbot.addWidget(g)
    install_seat_editing(g, terminal, by="张三")
    g.set_cameras(["cam-A01", "cam-A02"])
    g.resize(960, 560)
    g.show()
    qtbot.waitExposed(g)
    yield g
    g.shutdown()


def open_from_menu(qtbot: Any, grid: CameraGrid, index: int) -> SeatEditor:
    """Right-click the tile and pick "Edit seat regions…" in its menu."""
    picked: list[str] = []

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, pick)
            return
        for action in menu.actions():
            if action.text() == "Edit seat regions…":
                picked.append(action.text())
                action.trigger()
        menu.close()

    QTimer.singleShot(20, pick)
    centre = grid.tile_rect(index).center()
    QApplication.sendEvent(grid, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, centre, grid.mapToGlobal(centre)))
    assert picked == ["Edit seat regions…"]
    editors = [e for e in grid.findChildren(SeatEditor) if e.isVisible()]
    assert len(editors) == 1
    editor = editors[0]
    qtbot.waitUntil(lambda: editor.loaded, timeout=5000)
    return editor


def drag(qtbot: Any, editor: SeatEditor, a: QPoint, b: QPoint) -> None:
    qtbot.mousePress(editor, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(editor, pos=(a + b) / 2)
    qtbot.mouseMove(editor, pos=b)
    qtbot.mouseRelease(editor, Qt.MouseButton.LeftButton, pos=b)


def test_a_seat_is_drawn_for_the_picked_window_saved_and_deleted(
    qtbot: Any, grid: CameraGrid, terminal: Terminal
) -> None:
    editor = open_from_menu(qtbot, grid, 0)
    assert editor.geometry() == grid.tile_rect(0)
    assert editor.current_window() == "win-A01"  # the camera's own window comes first
    assert editor.save_button.isEnabled() and not editor.configured
    editor.window_box.setCurrentIndex(editor.window_box.findData("win-A03"))
    pic = editor.picture()
    a = QPoint(round(pic.x() + 0.25 * pic.width()), round(pic.y() + 0.40 * pic.height()))
    b = QPoint(round(pic.x() + 0.75 * pic.width()), round(pic.y() + 0.90 * pic.height()))
    drag(qtbot, editor, a, b)
    [seat] = editor.seats
    assert seat.window_id == "win-A03"
    assert seat.x == pytest.approx(0.25, abs=0.01) and seat.y == pytest.approx(0.40, abs=0.01)
    assert seat.w == pytest.approx(0.50, abs=0.01) and seat.h == pytest.approx(0.50, abs=0.01)
    with qtbot.waitSignal(editor.saved, timeout=5000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert stored_regions(terminal.store) == {"cam-A01": (seat,)}
    qtbot.waitUntil(lambda: not _alive(editor), timeout=2000)  # closed and deleted

    # Again: the stored seat is shown; click it, Delete, save: gone.
    editor = open_from_menu(qtbot, grid, 0)
    assert editor.seats == [seat]
    middle = editor.to_widget(seat).center().toPoint()
    qtbot.mouseClick(editor, Qt.MouseButton.LeftButton, pos=middle)
    assert editor.selected == 0 and editor.current_window() == "win-A03"
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    assert editor.seats == []
    with qtbot.waitSignal(editor.saved, timeout=5000):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert stored_regions(terminal.store) == {}


def test_a_seat_is_moved_resized_by_its_corner_and_nudged_and_stays_inside_the_picture(
    qtbot: Any, grid: CameraGrid, terminal: Terminal
) -> None:
    terminal.seats.save_regions("cam-A01", [Seat("win-A01", 0.2, 0.2, 0.2, 0.2)], by="张三")
    editor = open_from_menu(qtbot, grid, 0)
    pic = editor.picture()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(round(pic.x() + fx * pic.width()), round(pic.y() + fy * pic.height()))

    # Dragged by its middle a tenth to the right and down: moved, same size.
    drag(qtbot, editor, at(0.3, 0.3), at(0.4, 0.4))
    [seat] = editor.seats
    assert editor.selected == 0
    assert (seat.x, seat.y) == (pytest.approx(0.3, abs=0.01), pytest.approx(0.3, abs=0.01))
    assert (seat.w, seat.h) == (0.2, 0.2)
    # Its bottom-right handle dragged out: the top-left corner stays.
    drag(qtbot, editor, at(0.5, 0.5), at(0.7, 0.6))
    [seat] = editor.seats
    assert (seat.x, seat.y) == (pytest.approx(0.3, abs=0.01), pytest.approx(0.3, abs=0.01))
    assert (seat.w, seat.h) == (pytest.approx(0.4, abs=0.01), pytest.approx(0.3, abs=0.01))
    # Its top-left handle dragged past the bottom-right: never inside out, a few pixels at least.
    drag(qtbot, editor, at(0.3, 0.3), at(0.95, 0.95))
    [seat] = editor.seats
    assert seat.w > 0 and seat.h > 0 and seat.problem() is None
    assert seat.x + seat.w == pytest.approx(0.7, abs=0.01) and seat.y + seat.h == pytest.approx(0.6, abs=0.01)
    # Grown again by its bottom-right handle, then moved past the picture's edge (to the tile's far
    # corner): it stops at the edge, whole.
    small = seat
    drag(qtbot, editor, at(0.7, 0.6), at(0.85, 0.85))  # the small seat's handles overlap: the nearest is taken
    [seat] = editor.seats
    assert (seat.x, seat.y) == (small.x, small.y)
    assert seat.x + seat.w == pytest.approx(0.85, abs=0.01) and seat.y + seat.h == pytest.approx(0.85, abs=0.01)
    centre = editor.to_widget(seat).center().toPoint()
    drag(qtbot, editor, centre, QPoint(editor.width() - 1, editor.height() - 1))
    [seat] = editor.seats
    assert seat.x + seat.w == pytest.approx(1.0, abs=0.002) and seat.y + seat.h == pytest.approx(1.0, abs=0.002)
    assert seat.problem() is None
    # Arrow keys nudge: a pixel, ten with Shift.
    before = editor.seats[0]
    qtbot.keyClick(editor, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(editor, Qt.Key.Key_Up)
    after = editor.seats[0]
    assert after.x == pytest.approx(before.x - 10 / pic.width(), abs=0.0002)
    assert after.y == pytest.approx(before.y - 1 / pic.height(), abs=0.0002)
    with qtbot.waitSignal(editor.saved, timeout=5000):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert stored_regions(terminal.store) == {"cam-A01": (after,)}


def test_esc_leaves_the_seats_as_they_were(qtbot: Any, grid: CameraGrid, terminal: Terminal) -> None:
    terminal.seats.save_regions("cam-A01", [Seat("win-A01", 0.1, 0.1, 0.2, 0.2)], by="张三")
    editor = open_from_menu(qtbot, grid, 0)
    drag(qtbot, editor, editor.to_widget(Seat("x", 0.5, 0.5, 0.1, 0.1)).topLeft().toPoint(),
         editor.to_widget(Seat("x", 0.5, 0.5, 0.3, 0.3)).bottomRight().toPoint())
    assert len(editor.seats) == 1 and editor.seats[0].x == pytest.approx(0.5, abs=0.01)  # win-A01's, redrawn
    with qtbot.waitSignal(editor.closed, timeout=2000):
        qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert stored_regions(terminal.store) == {"cam-A01": (Seat("win-A01", 0.1, 0.1, 0.2, 0.2),)}


def test_seats_set_in_the_config_are_shown_read_only(qtbot: Any, grid: CameraGrid, terminal: Terminal) -> None:
    editor = open_from_menu(qtbot, grid, 1)
    assert editor.configured and editor.seats == [Seat("win-A02", 0.5, 0.2, 0.2, 0.3)]
    assert not editor.save_button.isEnabled() and "config file" in editor.message.text()
    pic = editor.picture()
    drag(qtbot, editor, QPoint(round(pic.x() + 5), round(pic.y() + 5)),
         QPoint(round(pic.x() + pic.width() / 3), round(pic.y() + pic.height() / 3)))
    assert editor.seats == [Seat("win-A02", 0.5, 0.2, 0.2, 0.3)]
    with pytest.raises(ValueError, match="config file"):
        terminal.seats.save_regions("cam-A02", [], by="张三")
    assert stored_regions(terminal.store) == {}


def _alive(w: SeatEditor) -> bool:
    import shiboken6

    return bool(shiboken6.isValid(w))
