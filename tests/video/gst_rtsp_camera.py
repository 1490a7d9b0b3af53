# mypy: ignore-errors
"""A camera-like RTSP server for the video tests: GStreamer's RTSP server on 127.0.0.1 serving a live
test pattern as H.264 or H.265, optionally behind RTSP Basic auth.

Run by Debian's python (``/usr/bin/python3``, which has ``gi``), not by the project's venv::

    /usr/bin/python3 tests/video/gst_rtsp_camera.py --port 8554 [--codec h265] [--user u --password p]

Prints ``READY <port>`` on stdout once the server listens, then serves until SIGTERM or SIGINT.
``--check`` only verifies that GStreamer, its RTSP server and the encoder are installed.

Exit codes: 0 stopped cleanly (or ``--check`` passed), 1 something is missing, 2 the server could not
start, 3 the port is in use (the caller may retry).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

log = logging.getLogger("gst_rtsp_camera")

EXIT_MISSING = 1
EXIT_START = 2
EXIT_ADDRESS_IN_USE = 3

ROLE = "camera-user"
ELEMENTS = {
    "h264": ("videotestsrc", "x264enc", "rtph264pay"),
    "h265": ("videotestsrc", "x265enc", "rtph265pay"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (required unless --check)")
    p.add_argument("--codec", choices=sorted(ELEMENTS), default="h264")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--path", default="/cam", help="mount point, e.g. /cam")
    p.add_argument("--user", default=None)
    p.add_argument("--password", default=None)
    p.add_argument("--check", action="store_true", help="only check that the needed elements exist")
    args = p.parse_args(argv)
    if not args.check and not 0 < args.port < 65536:
        p.error("--port is required (1..65535)")
    if (args.user is None) != (args.password is None):
        p.error("--user and --password go together")
    if not args.path.startswith("/"):
        args.path = "/" + args.path
    return args


def launch_line(codec: str, width: int, height: int, fps: int) -> str:
    """The media factory's pipeline: a moving live pattern, a keyframe every second, headers in-band."""
    src = (
        f"videotestsrc is-live=true pattern=ball "
        f"! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
    )
    if codec == "h264":
        enc = (
            f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} "
            f"! rtph264pay name=pay0 pt=96 config-interval=-1"
        )
    else:
        enc = (
            f"! x265enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} "
            f'option-string="repeat-headers=1" '
            f"! rtph265pay name=pay0 pt=96 config-interval=-1"
        )
    return f"( {src}{enc} )"


def missing_elements(codec: str) -> list[str]:
    return [name for name in ELEMENTS[codec] if Gst.ElementFactory.find(name) is None]


def build_server(args: argparse.Namespace) -> tuple[GstRtspServer.RTSPServer, GstRtspServer.RTSPMediaFactory]:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args.codec, args.width, args.height, args.fps))
    factory.set_shared(True)

    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        # Only the role of that user's token may see and construct the media; anonymous clients
        # get 401 (no default token), wrong credentials too.
        factory.add_role_from_structure(
            Gst.Structure.new_from_string(
                f"{ROLE}, {GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS}=(boolean)true, "
                f"{GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT}=(boolean)true"
            )
        )

    server.get_mount_points().add_factory(args.path, factory)
    return server, factory


def prepare_anchor(
    server: GstRtspServer.RTSPServer, factory: GstRtspServer.RTSPMediaFactory, port: int, path: str
) -> GstRtspServer.RTSPMedia | None:
    """Construct and prepare the shared media once and keep it prepared, like a camera whose encoder
    always runs. Without this the media is torn down when its last client leaves, and a client that
    connects in that millisecond gets the dying media and a 503 (each client has its own thread)."""
    _res, url = GstRtsp.RTSPUrl.parse(f"rtsp://127.0.0.1:{port}{path}")
    media = factory.construct(url)
    if media is None:
        return None
    thread = server.get_thread_pool().get_thread(GstRtspServer.RTSPThreadType.MEDIA, GstRtspServer.RTSPContext())
    if thread is None or not media.prepare(thread):
        return None
    return media


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    Gst.init(None)

    missing = missing_elements(args.codec)
    if missing:
        log.error("GStreamer elements missing for %s: %s", args.codec, ", ".join(missing))
        return EXIT_MISSING
    if args.check:
        log.info("%s: all elements present (%s)", args.codec, Gst.version_string())
        return 0

    server, factory = build_server(args)
    try:
        # The server binds with SO_REUSEADDR itself (g_socket_bind(..., allow_reuse=TRUE)), so a port
        # left in TIME_WAIT by a previous run is reusable; one still listening is not.
        source = server.create_source(None)
    except GLib.Error as e:
        log.error("cannot listen on 127.0.0.1:%d: %s", args.port, e.message)
        in_use = "in use" in e.message.lower()
        return EXIT_ADDRESS_IN_USE if in_use else EXIT_START
    source.attach(None)
    media = prepare_anchor(server, factory, args.port, args.path)
    if media is None:
        log.error("the %s pipeline could not be prepared: %s", args.codec, launch_line(
            args.codec, args.width, args.height, args.fps))
        source.destroy()
        return EXIT_START

    loop = GLib.MainLoop()

    def on_signal(signum: int) -> bool:
        log.info("signal %d: stopping", signum)
        loop.quit()
        return GLib.SOURCE_REMOVE

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, on_signal, signum)

    log.info(
        "serving %s %dx%d@%d on rtsp://127.0.0.1:%d%s%s",
        args.codec, args.width, args.height, args.fps, args.port, args.path,
        " (basic auth)" if args.user is not None else "",
    )
    print(f"READY {args.port}", flush=True)
    try:
        loop.run()
    finally:
        # Close the listener and drop the clients (tears their media down) before the interpreter exits.
        source.destroy()
        server.client_filter(lambda _server, _client: GstRtspServer.RTSPFilterResult.REMOVE)
        media.unprepare()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
