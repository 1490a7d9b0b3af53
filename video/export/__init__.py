"""Evidence export: recorded footage stream-copied into one MP4, with a signed manifest.

:func:`export` copies the packets of a camera's segments over a span into
``<camera>_<start>_<end>.mp4`` — remuxed, never re-encoded, ``+faststart`` so any player starts
it at once — and writes ``manifest.json`` beside it: what was asked for and what is there, the
source segments with their SHA-256, the gaps, the MP4's SHA-256, who exported it, why, when and
where, signed with the terminal's Ed25519 key. :func:`verify` checks a folder written so and
names each thing that changed. :func:`export_evidence` writes one folder of several cameras (an MP4
each) with records beside them as JSON files — a complaint's dossier (证据包) — under one manifest.
The manifest (format 2) lists every file of the folder with its size and SHA-256, so a byte changed
in any file, a file removed or one added is named; folders of format 1 (one MP4) still verify.
A progress callback hears the fraction done; a cancel callable stops an export midway, leaving nothing.

Evidence comes only from unaltered footage: every source segment is hashed again before it is
used, and a segment whose hash differs from the one the index recorded when it was closed stops
the export (and is marked corrupt in the index, so the gap it leaves says why).

The MP4's timeline keeps the wall clock: its time ``t`` shows ``covered.start + t``. Segments that
follow one another continue without a seam; a gap is not filled (the last frame before it lasts
until the footage resumes) and is listed in the manifest with its reason.

Nothing here imports Qt.

The package's modules, one seam each: :mod:`~video.export.keys` (the terminal's signing key),
:mod:`~video.export.manifest` (the format and the canonical JSON that is signed),
:mod:`~video.export.exporter` (:func:`export` of an :class:`ExportRequest`, :func:`export_evidence` of an
:class:`EvidenceRequest`),
:mod:`~video.export.verify` and :mod:`~video.export.errors`. This module re-exports their public names.
"""

from video.export.errors import (
    ExportCancelled,
    ExportError,
    NoFootageError,
    NotFound,
    SourceChangedError,
    SpanRequired,
)
from video.export.exporter import (
    CameraExport,
    EvidenceRequest,
    ExportGap,
    ExportRequest,
    ExportResult,
    export,
    export_evidence,
)
from video.export.keys import SigningKey, fingerprint_of, load_or_create_key
from video.export.manifest import FORMAT, FORMAT_VERSION, MANIFEST, canonical_json, default_who, local_time
from video.export.verify import FileCheck, FileState, VerifyResult, verify

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "CameraExport",
    "EvidenceRequest",
    "ExportCancelled",
    "ExportError",
    "ExportGap",
    "ExportRequest",
    "ExportResult",
    "FileCheck",
    "FileState",
    "NoFootageError",
    "NotFound",
    "SigningKey",
    "SourceChangedError",
    "SpanRequired",
    "VerifyResult",
    "canonical_json",
    "default_who",
    "export",
    "export_evidence",
    "fingerprint_of",
    "load_or_create_key",
    "local_time",
    "verify",
]
