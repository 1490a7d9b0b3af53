"""Why an evidence export could not be made, as exceptions whose messages say it in words.

Each class has a ``code`` for the desktop to word the headline in the user's language (the message
is English, for logs and the command line).
"""

from __future__ import annotations

from collections.abc import Sequence


class ExportError(RuntimeError):
    """The export could not be made; the message says why in words."""

    code = "failed"


class NoFootageError(ExportError):
    """No readable footage of the camera in the span."""

    code = "no_footage"


class SourceChangedError(ExportError):
    """A source segment is missing or differs from the index (its SHA-256 or size)."""

    code = "source_changed"

    def __init__(self, message: str, segments: Sequence[str]) -> None:
        super().__init__(message)
        self.segments = list(segments)


class ExportCancelled(ExportError):
    """The export was cancelled; nothing was left behind."""

    code = "cancelled"


class SpanRequired(ExportError):
    """A complaint dossier needs a span: the complaint does not say when it is about."""

    code = "span_required"


class NotFound(ExportError):
    """What the export is about (a complaint) is not in the store."""

    code = "not_found"
