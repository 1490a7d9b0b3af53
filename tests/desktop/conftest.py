"""Fixtures of the desktop tests: the video tests' real cameras are used here too, and every test
starts in the source language (English) whatever translation an earlier test installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.video.conftest import rtsp_camera_factory  # noqa: F401 - a fixture, found by pytest by name


@pytest.fixture(autouse=True)
def _no_translation_left() -> Iterator[None]:
    yield
    from PySide6.QtWidgets import QApplication

    from desktop.application import Localization

    app = QApplication.instance()
    if isinstance(app, QApplication):
        Localization(app).switch("en")  # removes every translator the application installed

