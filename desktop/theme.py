"""The two themes: a dark control-room theme (default) and a light one.

Colours live in one :class:`Palette` per theme; the style sheet ``resources/themes/theme.qss``
takes them as ``@name@`` placeholders, and widgets that paint themselves (lights, the grid's
overlays, charts) read the same palette, so a theme switch changes everything at once.
"""

from __future__ import annotations

import gc
from dataclasses import asdict, dataclass
from importlib.resources import files
from typing import Literal

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["DARK", "LIGHT", "Palette", "Theme", "apply_theme", "current_palette", "palette_for"]

Theme = Literal["dark", "light"]


@dataclass(frozen=True, slots=True)
class Palette:
    name: str
    background: str
    base: str  # inputs, tables
    alternate: str  # alternate table rows
    panel: str  # title bars, headers, status bar
    border: str
    text: str
    muted: str
    accent: str
    text_on_accent: str
    green: str  # 绿灯: no warning
    notice: str  # 预警
    yellow: str  # 黄牌
    red: str  # 红牌
    video_background: str

    def color(self, name: str) -> QColor:
        return QColor(str(getattr(self, name)))

    def level_color(self, level: str | None) -> QColor:
        """The light colour of a warning level (None or "none": green)."""
        return self.color({"notice": "notice", "yellow": "yellow", "red": "red"}.get(level or "", "green"))


DARK = Palette(
    name="dark", background="#15181d", base="#1c2027", alternate="#20252d", panel="#232932", border="#343c48",
    text="#e6e9ee", muted="#8b95a5", accent="#3d7bd9", text_on_accent="#ffffff",
    green="#2fb36b", notice="#4a9df0", yellow="#f2c230", red="#e5484d", video_background="#000000",
)
LIGHT = Palette(
    name="light", background="#f4f5f7", base="#ffffff", alternate="#f7f8fa", panel="#e9ecf0", border="#c9ced6",
    text="#1d232b", muted="#5f6b7a", accent="#2f6fd0", text_on_accent="#ffffff",
    green="#1f9d57", notice="#2f7fd9", yellow="#d9a400", red="#d13438", video_background="#101214",
)

_current: Palette = DARK


def palette_for(theme: str) -> Palette:
    return LIGHT if theme == "light" else DARK


def current_palette() -> Palette:
    """The palette of the theme in force (widgets that paint themselves read it on paint)."""
    return _current


def apply_theme(app: QApplication, theme: str) -> Palette:
    """Style the whole application: Qt's palette for native parts, the style sheet for the rest.

    Qt walks every widget to restyle them, and Python code runs inside that walk (polish and
    change events), which may start the cyclic GC: a collection there can destroy a widget that
    only an old reference cycle kept (a closed window's) under Qt's walk — a crash. So the GC is
    held off for the restyle (its cycles are collected after), and the style, Fusion once set,
    is not made again (a new style object re-polishes every widget)."""
    global _current
    p = palette_for(theme)
    _current = p
    collecting = gc.isenabled()
    gc.disable()
    try:
        _restyle(app, p)
    finally:
        if collecting:
            gc.enable()
    return p


_FUSION = "hallwatchFusion"


def _restyle(app: QApplication, p: Palette) -> None:
    # app.style() is the style sheet's own style once a sheet is set (its name says nothing):
    # the application remembers that it has Fusion
    if app.property(_FUSION) is not True:
        app.setStyle("Fusion")
        app.setProperty(_FUSION, True)
    qp = QPalette()
    for role, name in (
        (QPalette.ColorRole.Window, "background"), (QPalette.ColorRole.WindowText, "text"),
        (QPalette.ColorRole.Base, "base"), (QPalette.ColorRole.AlternateBase, "alternate"),
        (QPalette.ColorRole.Text, "text"), (QPalette.ColorRole.Button, "panel"),
        (QPalette.ColorRole.ButtonText, "text"), (QPalette.ColorRole.Highlight, "accent"),
        (QPalette.ColorRole.HighlightedText, "text_on_accent"), (QPalette.ColorRole.ToolTipBase, "panel"),
        (QPalette.ColorRole.ToolTipText, "text"), (QPalette.ColorRole.PlaceholderText, "muted"),
    ):
        qp.setColor(role, p.color(name))
    qp.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, p.color("muted"))
    qp.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, p.color("muted"))
    app.setPalette(qp)
    sheet = files("resources").joinpath("themes", "theme.qss").read_text(encoding="utf-8")
    for key, value in asdict(p).items():
        sheet = sheet.replace(f"@{key}@", str(value))
    app.setStyleSheet(sheet)
