"""The Qt binding must survive a working day: PySide6 6.12.0 on CPython 3.11 dropped a reference
to True on every Signal.emit() and to None on every void call, and the interpreter aborted after
a few thousand. pyproject pins around it; this test proves the installed binding is clean."""

from __future__ import annotations

import sys

import pytest

QtCore = pytest.importorskip("PySide6.QtCore")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")


class _Emitter(QtCore.QObject):  # type: ignore[misc]
    fired = QtCore.Signal(bool)


def test_100k_signal_emits_and_void_calls_keep_refcounts(qtbot: object) -> None:
    got = []
    e = _Emitter()
    e.fired.connect(lambda v: got.append(v) if len(got) < 1 else None)
    label = QtWidgets.QLabel()
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(100_000):
        e.fired.emit(True)
        label.setText("x" if i % 2 else "y")
    assert got == [True]
    # A leak of one reference per call would show as ~100 000 here; allow noise from the interpreter.
    assert abs(sys.getrefcount(True) - true_before) < 1000
    assert abs(sys.getrefcount(None) - none_before) < 1000
