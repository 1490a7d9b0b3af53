"""The video relay: relayed cameras served to leaders' terminals over HTTP as MPEG-TS, muxed once per
camera and fanned out (``server``, ``mux``); and pushing each camera once to a standard server
(``push``: RTMP, ``hls``: HLS over HTTP PUT)."""

from video.relay.mux import CameraFeed, FeedPool, TsMuxer
from video.relay.server import (
    Access,
    AccessCheck,
    AccessDenied,
    ChannelStatus,
    Forbidden,
    RelayedCamera,
    RelayServer,
    RelayStatus,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "Access",
    "AccessCheck",
    "AccessDenied",
    "CameraFeed",
    "ChannelStatus",
    "FeedPool",
    "Forbidden",
    "RelayServer",
    "RelayStatus",
    "RelayedCamera",
    "TsMuxer",
    "Unauthorized",
    "Unavailable",
]
