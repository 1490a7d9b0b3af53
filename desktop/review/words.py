"""The review window's words for what the Qt-free archive says in English (gaps on a screen)."""

from __future__ import annotations

from app.review import classify_gap
from desktop.i18n import translate
from desktop.review.timeline import gap_reason_text
from video.archive import ArchiveGap

__all__ = ["archive_gap_words"]


def archive_gap_words(gap: ArchiveGap) -> str:
    """What a screen says over a gap the archive reader reports (its own words are English, for logs)."""
    text = gap.reason.lower()
    if gap.start is None and gap.end is None:
        return translate("Review", "No footage of this camera")
    if gap.start is None:
        return translate("Review", "No older footage (never recorded, or removed by retention)")
    if gap.end is None:
        if "still being recorded" in text:
            return translate("Review", "No more footage yet: the camera is still being recorded")
        return translate("Review", "No later footage")
    if "missing" in text or "no such file" in text:
        return gap_reason_text("file_missing")
    if "could not be shown" in text or "cannot be read" in text or "decoded" in text or "corrupt" in text \
            or "sha-256" in text or "reading failed" in text:
        return gap_reason_text("corrupt")
    return gap_reason_text(classify_gap(gap.reason))
