"""Translation helpers. Strings are marked where they are used — ``self.tr("…")`` in widgets,
``translate("Context", "…")`` elsewhere (``pyside6-lupdate`` finds both) — with English as the
source language; ``resources/i18n/`` holds the Chinese (zh_CN, the default) translations."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

__all__ = ["fmt", "translate"]

translate = QCoreApplication.translate


def fmt(text: str, *args: object) -> str:
    """Fill Qt-style placeholders ``%1`` … ``%9`` (one pass: an argument containing "%2" stays as is)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%" and i + 1 < len(text) and text[i + 1].isdigit() and text[i + 1] != "0":
            n = int(text[i + 1])
            out.append(str(args[n - 1]) if n <= len(args) else text[i : i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)
