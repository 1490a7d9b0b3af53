"""A tile's state in the operator's words (translatable), from what ``video`` reports.

``video.Source`` gives a :class:`~video.source.SourceState` and its last error as English text for
logs; the grid shows both in the user's language. Each English message ``video.source`` produces
is matched here and worded again through Qt's translation; one not matched is shown as a generic
sentence (the English original goes to the tooltip and the log, never onto a Chinese screen).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication

from desktop.i18n import fmt
from video.display import DisplayMode
from video.source import SourceState

__all__ = ["light_text", "mode_text", "reason_text", "state_text", "state_words"]


def state_words(state: SourceState) -> str:
    """The state alone: live, connecting, reconnecting, stalled, failed, ended, stopped."""
    if state is SourceState.LIVE:
        return QCoreApplication.translate("CameraGrid", "live")
    if state is SourceState.CONNECTING:
        return QCoreApplication.translate("CameraGrid", "connecting")
    if state is SourceState.RECONNECTING:
        return QCoreApplication.translate("CameraGrid", "reconnecting")
    if state is SourceState.STALLED:
        return QCoreApplication.translate("CameraGrid", "stalled")
    if state is SourceState.FAILED:
        return QCoreApplication.translate("CameraGrid", "failed")
    if state is SourceState.ENDED:
        return QCoreApplication.translate("CameraGrid", "ended")
    return QCoreApplication.translate("CameraGrid", "stopped")


def _fixed(text: Callable[[], str]) -> Callable[[re.Match[str]], str]:
    return lambda _m: text()


# (pattern over video.source's English message, its words). Keep in step with Source._classify.
_REASONS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"refused the user name or password"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the camera refused the user name or password"))),
    (re.compile(r"refused access"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the camera refused access"))),
    (re.compile(r"no stream at this address"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "no stream at this address"))),
    (re.compile(r"no video for ([\d.]+) s"), lambda m: fmt(QCoreApplication.translate(
        "CameraGrid", "no video for %1 s"), m.group(1))),
    (re.compile(r"no answer within ([\d.]+) s"), lambda m: fmt(QCoreApplication.translate(
        "CameraGrid", "no answer within %1 s"), m.group(1))),
    (re.compile(r"connection refused: nothing is listening at (\S+)"), lambda m: fmt(QCoreApplication.translate(
        "CameraGrid", "connection refused: nothing listens at %1"), m.group(1))),
    (re.compile(r"connection was cut"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the connection was cut"))),
    (re.compile(r"closed the stream"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the camera closed the stream"))),
    (re.compile(r"not a video stream"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the server sent data that is not a video stream"))),
    (re.compile(r"has no video"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the stream has no video"))),
    (re.compile(r"not supported"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "this kind of stream is not supported"))),
    (re.compile(r"file not found"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "file not found"))),
    (re.compile(r"file ended"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the file ended"))),
    (re.compile(r"^decoding failed"), _fixed(lambda: QCoreApplication.translate(
        "CameraGrid", "the picture could not be decoded"))),
)


def reason_text(error: str | None) -> str | None:
    """An error message from ``video`` in the user's words (None for none)."""
    if not error:
        return None
    for pattern, words in _REASONS:
        m = pattern.search(error)
        if m is not None:
            return words(m)
    return QCoreApplication.translate("CameraGrid", "connection error (details in the log)")


def state_text(state: SourceState, error: str | None = None) -> str:
    """What a tile says about its camera: the state and, when not live, the reason in words."""
    words = state_words(state)
    reason = reason_text(error) if state in (SourceState.RECONNECTING, SourceState.STALLED, SourceState.FAILED,
                                             SourceState.ENDED) else None
    if reason is None:
        return words
    return fmt(QCoreApplication.translate("CameraGrid", "%1: %2"), words, reason)


def mode_text(mode: DisplayMode) -> str | None:
    """What a tile says about how it is decoded, when that is not every frame."""
    if mode is DisplayMode.KEYFRAMES:
        return QCoreApplication.translate("CameraGrid", "keyframes only")
    return None


def light_text(light: str | None) -> str | None:
    """A window's light in words (the tooltip beside the coloured dot)."""
    if light == "green":
        return QCoreApplication.translate("CameraGrid", "green light")
    if light == "notice":
        return QCoreApplication.translate("CameraGrid", "notice")
    if light == "yellow":
        return QCoreApplication.translate("CameraGrid", "yellow light")
    if light == "red":
        return QCoreApplication.translate("CameraGrid", "red light")
    return None
