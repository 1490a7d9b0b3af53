"""Why an evidence export could not be made, as exceptions whose messages say it in words."""

from __future__ import annotations

from collections.abc import Sequence


class ExportError(RuntimeError):
    """The export could not be made; the message says why in words."""


class NoFootageError(ExportError):
    """No readable footage of the camera in the span."""


class SourceChangedError(ExportError):
    """A source segment is missing or differs from the index (its SHA-256 or size)."""

    def __init__(self, message: str, segments: Sequence[str]) -> None:
        super().__init__(message)
        self.segments = list(segments)
