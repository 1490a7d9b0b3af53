"""The help dialog (keyboard shortcuts) and the About dialog (versions)."""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

__all__ = ["AboutDialog", "ShortcutsDialog", "versions"]


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def versions() -> list[tuple[str, str]]:
    """What an administrator or a bug report needs to know about this installation."""
    import av
    import cv2

    return [
        ("HallWatch", _version("hallwatch")),
        ("Python", f"{platform.python_version()} ({sys.platform})"),
        ("Qt / PySide6", f"{qVersion()} / {pyside_version}"),
        ("FFmpeg (PyAV)", f"{'.'.join(str(x) for x in av.library_versions.get('libavformat', ()))} ({av.__version__})"),
        ("OpenCV", cv2.__version__),
        ("SQLAlchemy", _version("SQLAlchemy")),
        ("pyqtgraph", _version("pyqtgraph")),
    ]


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut of the window, from the actions themselves (so the list cannot lie)."""

    def __init__(self, shortcuts: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        table = QTableWidget(len(shortcuts), 2, self)
        table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Keys")])
        table.verticalHeader().hide()
        for i, (what, keys) in enumerate(shortcuts):
            table.setItem(i, 0, QTableWidgetItem(what))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(520, 480)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About HallWatch"))
        title = QLabel(self.tr("<h2>HallWatch</h2><p>Electronic supervision of government service halls</p>"), self)
        title.setTextFormat(Qt.TextFormat.RichText)
        rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{v}</td></tr>" for name, v in versions())
        table = QLabel(f"<table>{rows}</table>", self)
        table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(table)
        layout.addWidget(buttons)
