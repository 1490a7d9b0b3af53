"""Synthetic live cameras for the demo, the tests and the benchmarks.

A :class:`SceneRenderer` draws a service-hall window (wall, floor, counter, the staff seat, citizens
passing by, the window label and the wall clock burnt in); a :class:`SyntheticEncoder` turns the
frames into H.264/HEVC in MPEG-TS chunks; :func:`write_file` writes a file with the same pictures and
encoder settings; :class:`SyntheticCameraServer` serves live MPEG-TS over HTTP on 127.0.0.1, so the
synthetic cameras travel the same code path (FFmpeg's HTTP client and MPEG-TS demuxer) as real ones.

Scene time ``t`` is in seconds. The server and :func:`write_file` pass the POSIX timestamp of the
burnt-in wall clock, so the ground truth for a frame showing wall time ``w`` is
``SceneRenderer(...).staff_present(w.timestamp())``.

Nothing here imports Qt.

The package's modules: :mod:`video.synthetic.scene` (the picture), :mod:`video.synthetic.encoder`
(the encoder and :func:`write_file`), :mod:`video.synthetic.clips` (pre-encoded looping clips) and
:mod:`video.synthetic.server` (the live cameras, ``…/sub`` sub-streams, looping main streams). This
module re-exports their public names.
"""

from video.synthetic.clips import Clip, ClipKey, ClipLibrary, TsRemuxer, build_clip, load_clip
from video.synthetic.encoder import SyntheticEncoder, TsChunk, write_file
from video.synthetic.scene import STAFF_BLOCK_S, SceneRenderer
from video.synthetic.server import SUB_SUFFIX, CameraSpec, CameraStats, SyntheticCameraServer

__all__ = [
    "STAFF_BLOCK_S",
    "SUB_SUFFIX",
    "CameraSpec",
    "CameraStats",
    "Clip",
    "ClipKey",
    "ClipLibrary",
    "SceneRenderer",
    "SyntheticCameraServer",
    "SyntheticEncoder",
    "TsChunk",
    "TsRemuxer",
    "build_clip",
    "load_clip",
    "write_file",
]
