"""Fixtures of the desktop tests: the video tests' real cameras are used here too."""

from tests.video.conftest import rtsp_camera_factory  # noqa: F401 - a fixture, found by pytest by name
