"""Just enough of H.264/H.265 Annex B to know whether a keyframe carries its parameter sets.

Segments, relayed streams and late consumers start at a keyframe and must be decodable from it
alone, so every keyframe the source hands out carries SPS/PPS (and VPS for H.265) in-band.
"""

from __future__ import annotations

__all__ = ["has_parameter_sets", "is_annexb", "nal_types"]

_H264_SPS = 7
_HEVC_VPS, _HEVC_SPS = 32, 33


def is_annexb(data: bytes) -> bool:
    """Whether ``data`` starts with an Annex B start code (rather than avcC/hvcC or a length prefix)."""
    return data[:3] == b"\x00\x00\x01" or data[:4] == b"\x00\x00\x00\x01"


def nal_types(data: bytes, codec: str, limit: int = 16) -> list[int]:
    """The types of the first ``limit`` NAL units of an Annex B buffer."""
    types: list[int] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0 and len(types) < limit and i + 3 < len(data):
        header = data[i + 3]
        types.append(header & 0x1F if codec == "h264" else (header >> 1) & 0x3F)
        i = data.find(b"\x00\x00\x01", i + 3)
    return types


def has_parameter_sets(data: bytes, codec: str) -> bool:
    """Whether an Annex B access unit carries its SPS (H.264) or VPS and SPS (H.265)."""
    types = nal_types(data, codec)
    if codec == "h264":
        return _H264_SPS in types
    if codec == "hevc":
        return _HEVC_VPS in types and _HEVC_SPS in types
    return True
