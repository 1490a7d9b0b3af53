"""Menu entries every window offers the same way: the theme and the language, switched live."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from desktop.i18n import translate

__all__ = ["add_look_menus"]


def _slot(setter: Callable[[str], None], key: str) -> Callable[..., None]:
    def run(*_checked: object) -> None:
        setter(key)
    return run


def add_look_menus(view: QMenu, owner: QWidget, *, theme: str, language: str,
                   set_theme: Callable[[str], None], set_language: Callable[[str], None]) -> None:
    """View → Theme (dark control room / light) and View → Language (中文 / English)."""
    for title, current, setter, choices in (
        (translate("Menus", "&Theme"), theme, set_theme,
         (("dark", translate("Menus", "Dark (control room)")), ("light", translate("Menus", "Light")))),
        (translate("Menus", "&Language"), language, set_language, (("zh_CN", "中文"), ("en", "English"))),
    ):
        menu = view.addMenu(title)
        group = QActionGroup(owner)
        for key, text in choices:
            a = QAction(text, owner)
            a.setCheckable(True)
            a.setChecked(current == key)
            a.triggered.connect(_slot(setter, key))
            menu.addAction(a)
            group.addAction(a)
