"""The review window's words for what the Qt-free archive says in codes or English (gaps, notes)."""

from __future__ import annotations

from app.review import GapReason
from desktop.i18n import translate
from video.archive import ArchiveGap

__all__ = ["archive_gap_reason", "archive_gap_words", "gap_reason_words"]


def gap_reason_words(reason: GapReason) -> str:
    """Why there is no footage, in the user's language."""
    t = {
        GapReason.CAMERA_DOWN: translate("Review", "The camera was down or sent no video"),
        GapReason.DISK_FULL: translate("Review", "Recording stopped: the disk was full"),
        GapReason.RECORDER_BEHIND: translate("Review", "The recorder fell behind or was paused"),
        GapReason.FILE_MISSING: translate("Review", "The footage file is missing"),
        GapReason.CORRUPT: translate("Review", "The footage file is damaged and cannot be played"),
        GapReason.PRUNED: translate("Review", "Removed by retention (older than the keep period)"),
        GapReason.NOT_RECORDING: translate("Review", "Nothing was recording"),
    }
    return t.get(reason, translate("Review", "No footage"))


def archive_gap_reason(gap: ArchiveGap) -> GapReason | None:
    """The reason code of a gap the archive reader reports (its words are English, for logs);
    None for the edges of the footage (before the oldest, after the newest)."""
    text = gap.reason.lower()
    if "no space" in text or "disk is full" in text or "disk full" in text:
        return GapReason.DISK_FULL
    if "missing" in text or "no such file" in text or "is gone" in text:
        return GapReason.FILE_MISSING
    if "corrupt" in text or "cannot be read" in text or "could not be shown" in text or "decoded" in text \
            or "sha-256" in text or "size" in text or "reading failed" in text:
        return GapReason.CORRUPT
    if "fell behind" in text or "paused" in text or "dropped" in text:
        return GapReason.RECORDER_BEHIND
    if "pruned" in text and "never recorded" not in text:
        return GapReason.PRUNED
    if "camera" in text and ("reconnect" in text or "no video" in text or "down" in text or "failed" in text):
        return GapReason.CAMERA_DOWN
    if "recording failed" in text or "recording stopped" in text:
        return GapReason.NOT_RECORDING
    return None


def archive_gap_words(gap: ArchiveGap) -> str:
    """What a screen says over a gap."""
    text = gap.reason.lower()
    if gap.start is None and gap.end is None:
        return translate("Review", "No footage of this camera")
    if gap.start is None:
        return translate("Review", "No older footage (never recorded, or removed by retention)")
    if gap.end is None:
        if "still being recorded" in text:
            return translate("Review", "No more footage yet: the camera is still being recorded")
        return translate("Review", "No later footage")
    reason = archive_gap_reason(gap)
    if reason is None:
        return translate("Review", "No footage here")
    return gap_reason_words(reason)
