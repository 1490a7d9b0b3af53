"""Evidence export: recorded footage stream-copied into one MP4, with a signed manifest.

:func:`export` copies the packets of a camera's segments over a span into
``<camera>_<start>_<end>.mp4`` — remuxed, never re-encoded, ``+faststart`` so any player starts
it at once — and writes ``manifest.json`` beside it: what was asked for and what is there, the
source segments with their SHA-256, the gaps, the MP4's SHA-256, who exported it, why, when and
where, signed with the terminal's Ed25519 key. :func:`verify` checks a folder written so and
names each thing that changed.

Evidence comes only from unaltered footage: every source segment is hashed again before it is
used, and a segment whose hash differs from the one the index recorded when it was closed stops
the export (and is marked corrupt in the index, so the gap it leaves says why).

The MP4's timeline keeps the wall clock: its time ``t`` shows ``covered.start + t``. Segments that
follow one another continue without a seam; a gap is not filled (the last frame before it lasts
until the footage resumes) and is listed in the manifest with its reason.

Nothing here imports Qt.

The package's modules, one seam each: :mod:`~video.export.keys` (the terminal's signing key),
:mod:`~video.export.manifest` (the format and the canonical JSON that is signed),
:mod:`~video.export.exporter` (:func:`export` of an :class:`ExportRequest`),
:mod:`~video.export.verify` and :mod:`~video.export.errors`. This module re-exports their public names.
"""

from video.export.errors import ExportError, NoFootageError, SourceChangedError
from video.export.exporter import ExportGap, ExportRequest, ExportResult, export
from video.export.keys import SigningKey, fingerprint_of, load_or_create_key
from video.export.manifest import FORMAT, MANIFEST, canonical_json, default_who, local_time
from video.export.verify import VerifyResult, verify

__all__ = [
    "FORMAT",
    "MANIFEST",
    "ExportError",
    "ExportGap",
    "ExportRequest",
    "ExportResult",
    "NoFootageError",
    "SigningKey",
    "SourceChangedError",
    "VerifyResult",
    "canonical_json",
    "default_who",
    "export",
    "fingerprint_of",
    "load_or_create_key",
    "local_time",
    "verify",
]
