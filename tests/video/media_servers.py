"""Real streaming servers on 127.0.0.1 for the protocol tests (``test_source_protocols.py``).

* :class:`RtmpServer` — nginx with Debian's RTMP module (``libnginx-mod-rtmp``): an ``rtmp://`` live
  application, plus nginx-rtmp's statistics page on a second port to tell when a stream is published.
  Its own ``nginx.conf``, pid file, logs and temp folders live in one work folder; it runs in the
  foreground (``daemon off``, one process) and can be stopped, killed and started again on the same ports.
* :class:`FfmpegPublisher` — the ``ffmpeg`` command pushing a clip in a loop, at real time, as FLV to an
  RTMP URL (what an encoder or a camera with "RTMP push" does).
* :class:`MjpegServer` — HTTP ``multipart/x-mixed-replace`` with one JPEG per part, paced, like cheap
  IP cameras' ``/video.mjpg``.
* :class:`FlvHttpServer` — HTTP-FLV: a clip remuxed to FLV with PyAV, served as an endless live stream
  paced by its tag timestamps (the loop keeps them rising).
* :class:`TsHttpServer` — a clip's MPEG-TS looped at its bit rate, over HTTPS with a self-signed
  certificate (:func:`self_signed_certificate`, made by the openssl command) or plain HTTP.

The HTTP servers can close their clients' streams (:meth:`~_HttpStreamServer.drop_clients`, a camera
rebooting) and keep listening.

The HTTP servers run on daemon threads that ``stop()`` joins; every socket, pipe and process is closed
or reaped there (the suite runs with ``filterwarnings=error``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import logging
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Protocol, Self

import av
import cv2
import numpy as np

from tests.video.camera_servers import free_port, tail, terminate

log = logging.getLogger(__name__)

READY_TIMEOUT = 10.0  # seconds for nginx to listen
_BIND_ATTEMPTS = 5

_NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
_RTMP_MODULE_CANDIDATES = (
    "/usr/lib/nginx/modules/ngx_rtmp_module.so",  # Debian, Ubuntu
    "/usr/lib64/nginx/modules/ngx_rtmp_module.so",  # Fedora and friends
)
_MODULES_AVAILABLE = Path("/usr/share/nginx/modules-available/mod-rtmp.conf")  # Debian: "load_module modules/…;"
_DEBIAN_NGINX_PREFIX = Path("/usr/share/nginx")
_INSTALL_HINT = "(apt-get install nginx libnginx-mod-rtmp ffmpeg)"


# ------------------------------------------------------------------------------------------ lookups


def nginx_binary() -> str | None:
    """The nginx executable (``/usr/sbin`` is not on every user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((c for c in _NGINX_CANDIDATES if os.access(c, os.X_OK)), None)


def rtmp_module() -> Path | None:
    """Debian's ``ngx_rtmp_module.so``: a known place, or where ``modules-available`` says it is."""
    for candidate in _RTMP_MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    try:
        text = _MODULES_AVAILABLE.read_text()
    except OSError:
        return None
    m = re.search(r"^\s*load_module\s+(\S+?);", text, re.M)
    if m is None:
        return None
    path = Path(m.group(1))
    path = path if path.is_absolute() else _DEBIAN_NGINX_PREFIX / path
    return path if path.is_file() else None


@functools.cache
def _nginx_version(binary: str) -> tuple[int, ...]:
    r = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=False)
    m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", r.stderr + r.stdout)
    return tuple(int(g) for g in m.groups()) if m else (0, 0, 0)


_rtmp_check: list[str | None] = []


def nginx_rtmp_unavailable() -> str | None:
    """Why :class:`RtmpServer` and :class:`FfmpegPublisher` cannot run here (None when they can):
    nginx, its RTMP module and the ffmpeg command must be installed, and ``nginx -t`` must accept the
    configuration. Checked once per run."""
    if not _rtmp_check:
        _rtmp_check.append(_check_nginx_rtmp())
    return _rtmp_check[0]


def _check_nginx_rtmp() -> str | None:
    if nginx_binary() is None:
        return f"nginx not found {_INSTALL_HINT}"
    if rtmp_module() is None:
        return f"nginx's RTMP module (ngx_rtmp_module.so) not found {_INSTALL_HINT}"
    if shutil.which("ffmpeg") is None:
        return f"the ffmpeg command (the RTMP publisher) not found {_INSTALL_HINT}"
    with tempfile.TemporaryDirectory(prefix="hw-nginx-check-") as d:
        server = RtmpServer(port=1, http_port=2, work_dir=Path(d))
        try:
            r = subprocess.run(
                [*server._command(), "-t"], capture_output=True, text=True, timeout=20, check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return "nginx -t timed out"
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
        return f"nginx does not accept the RTMP configuration: {tail} {_INSTALL_HINT}"
    return None


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on (IPv4), from ``/proc``: proof that it is *this* process
    that accepts there, not whatever else holds the port while nginx retries its bind."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports: set[int] = set()
    with open("/proc/net/tcp") as f:
        next(f)  # the header
        for line in f:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _wait_listening(proc: subprocess.Popen[bytes], ports: set[int], deadline: float) -> bool:
    """Until ``proc`` listens on all of ``ports`` (True), exits, or the deadline passes."""
    while time.monotonic() < deadline and proc.poll() is None:
        if ports <= listening_ports(proc.pid):
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------------------------------- nginx-rtmp


class RtmpServer:
    """nginx with the RTMP module on ``rtmp://127.0.0.1:<port>/live/<stream>`` (live, not recorded).

    ``http_port`` serves nginx-rtmp's statistics (``/stat``), which :meth:`publishing` reads. Both ports
    are chosen once and kept across restarts; everything nginx writes stays in ``work_dir``.
    """

    def __init__(
        self, *, port: int | None = None, http_port: int | None = None, work_dir: Path | None = None, app: str = "live"
    ) -> None:
        self._chosen_ports = port is None and http_port is None  # free to choose again if taken
        self.port = port if port is not None else free_port()
        self.http_port = http_port if http_port is not None else free_port()
        self.app = app
        if work_dir is None:
            work_dir = Path(tempfile.mkdtemp(prefix="hw-nginx-rtmp-"))
            weakref.finalize(self, shutil.rmtree, work_dir, True)
        self.work_dir = work_dir
        self.conf_path = work_dir / "nginx.conf"
        self.error_log = work_dir / "logs" / "error.log"
        self.stderr_log = work_dir / "logs" / "stderr.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self._started = False  # once up, the ports are the server's address: restarts keep them

    def url(self, stream: str = "cam") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{self.app}/{stream}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The end of nginx's error log (info level: connects, publishes, plays)."""
        return tail(self.error_log, lines)

    # -- configuration

    def _config(self) -> str:
        module = rtmp_module()
        if module is None:
            raise RuntimeError(f"nginx's RTMP module not found {_INSTALL_HINT}")
        d = self.work_dir
        temp = d / "temp"
        return f"""\
load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {d / "nginx.pid"};
error_log {self.error_log} info;
events {{ worker_connections 256; }}
rtmp {{
    access_log {d / "logs" / "rtmp-access.log"};
    server {{
        listen 127.0.0.1:{self.port};
        chunk_size 4096;
        application {self.app} {{
            live on;
            record off;
        }}
    }}
}}
http {{
    access_log {d / "logs" / "http-access.log"};
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    server {{
        listen 127.0.0.1:{self.http_port};
        location /stat {{ rtmp_stat all; }}
    }}
}}
"""

    def _command(self) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError(f"nginx not found {_INSTALL_HINT}")
        (self.work_dir / "logs").mkdir(parents=True, exist_ok=True)
        (self.work_dir / "temp").mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self._config())
        cmd = [binary, "-c", str(self.conf_path), "-p", f"{self.work_dir}/"]
        if _nginx_version(binary) >= (1, 19, 5):
            cmd += ["-e", str(self.error_log)]  # else the start-up log goes to /var/log/nginx/error.log
        return cmd

    # -- lifecycle

    def start(self) -> Self:
        """Start nginx and wait (≤ 10 s) until both ports accept. When a port is taken, the first start
        picks new free ports (unless they were given); a restart waits for its own ports."""
        if self.running:
            raise RuntimeError(f"nginx on port {self.port} is already running")
        why = ""
        for attempt in range(1, _BIND_ATTEMPTS + 1):
            cmd = self._command()
            self._starts += 1
            with open(self.stderr_log, "ab") as err:
                err.write(f"--- start #{self._starts}: {' '.join(cmd)}\n".encode())
                err.flush()
                proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True
                )
            self._proc = proc
            if _wait_listening(proc, {self.port, self.http_port}, time.monotonic() + READY_TIMEOUT):
                log.info("nginx-rtmp on 127.0.0.1:%d (stat on %d), pid %d", self.port, self.http_port, proc.pid)
                self._started = True
                return self
            terminate(proc, kill_now=True, what="nginx")
            self._proc = None
            why = f"exit code {proc.returncode}"
            if "Address already in use" not in self.log_tail(5) + tail(self.stderr_log, 5):
                break
            log.info("nginx: port %d or %d in use (attempt %d), retrying", self.port, self.http_port, attempt)
            if self._chosen_ports and not self._started:
                self.port, self.http_port = free_port(), free_port()
            else:
                time.sleep(0.5)
        raise RuntimeError(
            f"nginx did not start on 127.0.0.1:{self.port}/{self.http_port} ({why}); "
            f"error log:\n{self.log_tail()}\nstderr:\n{tail(self.stderr_log, 10)}"
        )

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown), SIGKILL after 3 s. No-op when not running."""
        if self._proc is not None:
            terminate(self._proc, kill_now=False, what="nginx")
            self._proc = None

    def kill(self) -> None:
        """SIGKILL at once: the server dies with every connection open. No-op when not running."""
        if self._proc is not None:
            terminate(self._proc, kill_now=True, what="nginx")
            self._proc = None

    # -- what the server says

    def stats(self) -> ET.Element | None:
        """nginx-rtmp's statistics as XML, or None when the server does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/stat", timeout=2) as r:
                return ET.fromstring(r.read())
        except (OSError, ET.ParseError):
            return None

    def publishing(self, stream: str = "cam") -> bool:
        """Whether a publisher is pushing ``stream`` with video (its metadata has arrived)."""
        root = self.stats()
        if root is None:
            return False
        for app in root.iter("application"):
            if app.findtext("name") != self.app:
                continue
            for s in app.iter("stream"):
                if s.findtext("name") == stream and s.find("publishing") is not None:
                    return s.find("meta/video") is not None
        return False

    def wait_publishing(self, stream: str = "cam", timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.publishing(stream):
                return True
            time.sleep(0.1)
        return self.publishing(stream)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RtmpServer({self.url('')}, {'running' if self.running else 'stopped'})"


class FfmpegPublisher:
    """``ffmpeg -re -stream_loop -1 -i <clip> -c copy -f flv <url>``: pushes the clip for ever, at real
    time. It exits by itself when the server goes away; :meth:`start` may then be called again."""

    def __init__(self, clip: Path, url: str, *, log_path: Path) -> None:
        self.clip = clip
        self.url = url
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        return tail(self.log_path, lines)

    def start(self) -> Self:
        if self.running:
            raise RuntimeError("the publisher is already running")
        self._reap()
        cmd = [
            "ffmpeg", "-nostdin", "-hide_banner", "-v", "error",
            "-re", "-stream_loop", "-1", "-i", str(self.clip),
            "-c", "copy", "-f", "flv", self.url,
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as err:
            err.write(f"--- {' '.join(cmd)}\n".encode())
            err.flush()
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        return self

    def stop(self) -> None:
        """SIGTERM (ffmpeg finishes the stream), SIGKILL after 3 s; reaps a publisher that already exited."""
        if self._proc is not None:
            terminate(self._proc, kill_now=False, what="ffmpeg publisher")
            self._proc = None

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None

    def __repr__(self) -> str:
        return f"FfmpegPublisher({self.clip.name} -> {self.url}, {'running' if self.running else 'stopped'})"


class PublisherFactory(Protocol):
    """The ``rtmp_publisher_factory`` fixture: push a clip to an RTMP URL (stopped at teardown)."""

    def __call__(self, clip: Path, url: str) -> FfmpegPublisher: ...


# ---------------------------------------------------------------------------------------- HTTP servers


Writer = Callable[[bytes], object]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, owner: _HttpStreamServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    timeout = 5  # a client that stops reading does not hold a handler for ever
    protocol_version = "HTTP/1.0"  # the stream ends when the connection closes, as cameras do

    def setup(self) -> None:
        super().setup()  # applies the timeout
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, not in the accept loop, so one slow client blocks no other

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path.split("?", 1)[0] != owner.path:
            self.send_error(404)
            return
        stop = owner._attach(self.connection)
        try:
            self.send_response(200)
            self.send_header("Content-Type", owner.content_type)
            self.send_header("Cache-Control", "no-cache, no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            owner._stream(self.wfile.write, stop)
        except OSError as e:  # the client went away, or drop_clients()/stop() shut the socket
            log.debug("%s: client connection ended: %s", type(owner).__name__, e)
        finally:
            owner._detach(self.connection)
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _HttpStreamServer:
    """An endless HTTP stream at ``http://127.0.0.1:<port><path>`` (``https://`` with ``tls``); subclasses
    write the body."""

    path: ClassVar[str] = "/"
    content_type = "application/octet-stream"

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._clients: dict[socket.socket, tuple[threading.Event, threading.Thread]] = {}
        self._requests = 0
        self._httpd = _HTTPServer(self)
        self.port = int(self._httpd.server_address[1])
        self.scheme = "http"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"{type(self).__name__}-{self.port}", daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{self.path}"

    @property
    def requests(self) -> int:
        """How many stream requests were answered so far."""
        with self._lock:
            return self._requests

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def _stream(self, write: Writer, stop: threading.Event) -> None:
        raise NotImplementedError

    def _attach(self, conn: socket.socket) -> threading.Event:
        stop = threading.Event()
        with self._lock:
            self._requests += 1
            self._clients[conn] = (stop, threading.current_thread())
            if self._stopping.is_set():
                stop.set()
        return stop

    def _detach(self, conn: socket.socket) -> None:
        with self._lock:
            self._clients.pop(conn, None)

    def drop_clients(self) -> int:
        """Close every open stream from the server's side (a camera rebooting); returns how many.
        The server keeps listening."""
        with self._lock:
            clients = dict(self._clients)
        for conn, (stop, _thread) in clients.items():
            stop.set()
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _stop, thread in clients.values():
            thread.join(2)
        return len(clients)

    def stop(self) -> None:
        """Stop listening, close every stream and join the threads (within about 2 s). Idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._thread.join(2)
        self._httpd.server_close()
        self.drop_clients()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _pace(stop: threading.Event, started: float, at: float) -> bool:
    """Wait until ``started + at`` (monotonic); False when ``stop`` was set meanwhile."""
    delay = started + at - time.monotonic()
    if delay > 0:
        return not stop.wait(delay)
    return not stop.is_set()


def mjpeg_frames(width: int, height: int, count: int, quality: int = 80) -> list[bytes]:
    """``count`` JPEG pictures of a simple moving scene (gradient, a sliding box, the frame number)."""
    ramp = np.linspace(40, 200, width, dtype=np.float32)
    base = np.empty((height, width, 3), dtype=np.uint8)
    base[..., 0] = ramp[None, :].astype(np.uint8)
    base[..., 1] = np.linspace(60, 160, height, dtype=np.float32)[:, None].astype(np.uint8)
    base[..., 2] = 90
    box = max(8, height // 4)
    frames: list[bytes] = []
    for i in range(count):
        img = base.copy()
        x = int((width - box) * i / max(1, count - 1))
        cv2.rectangle(img, (x, height // 3), (x + box, height // 3 + box), (20, 220, 240), -1)
        cv2.putText(img, f"MJPEG {i:04d}", (10, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("cv2.imencode failed")
        frames.append(jpeg.tobytes())
    return frames


class MjpegServer(_HttpStreamServer):
    """``GET /video.mjpg``: ``multipart/x-mixed-replace; boundary=<boundary>``, one JPEG per part with
    its own Content-Type and (unless ``part_length=False``, as some cameras do) Content-Length, ``fps``
    parts a second, for ever (the pictures loop). Each part starts with the line ``delimiter``, by
    default ``--<boundary>`` as RFC 2046 says; some cameras put the dashes in the header's boundary too
    and repeat it verbatim (``boundary="--x", delimiter="--x"``)."""

    path = "/video.mjpg"

    def __init__(
        self,
        *,
        width: int = 640,
        height: int = 360,
        fps: float = 12,
        boundary: str = "hallwatchframe",
        part_length: bool = True,
        delimiter: str | None = None,
    ) -> None:
        self.part_length = part_length
        self.delimiter = delimiter if delimiter is not None else f"--{boundary}"
        self.width = width
        self.height = height
        self.fps = fps
        self.boundary = boundary
        self.content_type = f"multipart/x-mixed-replace; boundary={boundary}"
        self.frames = mjpeg_frames(width, height, count=max(2, round(fps * 2)))
        super().__init__()

    def part(self, jpeg: bytes) -> bytes:
        length = f"Content-Length: {len(jpeg)}\r\n" if self.part_length else ""
        return f"{self.delimiter}\r\nContent-Type: image/jpeg\r\n{length}\r\n".encode() + jpeg + b"\r\n"

    def _stream(self, write: Writer, stop: threading.Event) -> None:
        started = time.monotonic()
        n = 0
        while _pace(stop, started, n / self.fps):
            write(self.part(self.frames[n % len(self.frames)]))
            n += 1


# -- HTTP-FLV


_FLV_AUDIO, _FLV_VIDEO, _FLV_SCRIPT = 8, 9, 18


def flv_bytes(clip: Path) -> bytes:
    """``clip``'s video remuxed (not re-encoded) into an FLV file, in memory, with PyAV."""
    buf = io.BytesIO()
    # No duration or file size in onMetaData: a live stream has neither.
    options = {"flvflags": "no_duration_filesize"}
    with av.open(str(clip)) as src, av.open(buf, "w", format="flv", options=options) as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        for packet in src.demux(vin):
            if packet.dts is None:  # the flush packet
                continue
            packet.stream = vout
            dst.mux(packet)
    return buf.getvalue()


def _flv_tag(tag_type: int, ts_ms: int, body: bytes) -> bytes:
    head = struct.pack(">B", tag_type) + len(body).to_bytes(3, "big")
    head += (ts_ms & 0xFFFFFF).to_bytes(3, "big") + bytes([(ts_ms >> 24) & 0xFF]) + b"\0\0\0"
    return head + body + struct.pack(">I", 11 + len(body))


def split_flv(data: bytes) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """An FLV file as (the header with its script and sequence-header tags, the media tags as
    ``(type, timestamp ms, body)``)."""
    if data[:3] != b"FLV":
        raise ValueError("not an FLV file")
    header_size = int.from_bytes(data[5:9], "big")
    pos = header_size + 4  # PreviousTagSize0
    head = bytearray(data[:pos])
    tags: list[tuple[int, int, bytes]] = []
    while pos + 11 <= len(data):
        tag_type = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        ts = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        body = data[pos + 11 : pos + 11 + size]
        end = pos + 11 + size + 4
        is_config = tag_type == _FLV_SCRIPT or (tag_type == _FLV_VIDEO and len(body) > 1 and body[1] == 0)
        if is_config and not tags:
            head += data[pos:end]
        elif tag_type in (_FLV_AUDIO, _FLV_VIDEO) and not is_config:
            tags.append((tag_type, ts, body))
        pos = end
    return bytes(head), tags


class FlvHttpServer(_HttpStreamServer):
    """``GET /live.flv``: HTTP-FLV as relays and some cameras serve it — the FLV header and the AVC
    sequence header, then the clip's frames, looped for ever with rising timestamps, at real time."""

    path = "/live.flv"
    content_type = "video/x-flv"

    def __init__(self, clip: Path) -> None:
        self.head, self.tags = split_flv(flv_bytes(clip))
        if not self.tags:
            raise ValueError(f"{clip} has no video")
        first = self.tags[0][1]
        self.tags = [(t, ts - first, body) for t, ts, body in self.tags]
        steps = sorted(b[1] - a[1] for a, b in itertools.pairwise(self.tags) if b[1] > a[1])
        step = steps[len(steps) // 2] if steps else 40
        self.loop_ms = self.tags[-1][1] + step  # one clip's length: the next loop's offset
        super().__init__()

    def _stream(self, write: Writer, stop: threading.Event) -> None:
        write(self.head)
        started = time.monotonic()
        loop = 0
        while True:
            for tag_type, ts, body in self.tags:
                at = loop * self.loop_ms + ts
                if not _pace(stop, started, at / 1000):
                    return
                write(_flv_tag(tag_type, at, body))
            loop += 1


# -- MPEG-TS over HTTPS


def openssl_unavailable() -> str | None:
    """Why :func:`self_signed_certificate` cannot run here (None when it can)."""
    return None if shutil.which("openssl") else "the openssl command not found (apt-get install openssl)"


def self_signed_certificate(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (made by ``openssl``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class TsHttpServer(_HttpStreamServer):
    """``GET /live.ts``: a clip's MPEG-TS bytes, looped for ever at the clip's bit rate (``seconds`` is
    the clip's length), over HTTPS when given a TLS context."""

    path = "/live.ts"
    content_type = "video/mp2t"

    def __init__(self, clip: Path, *, seconds: float, tls: ssl.SSLContext | None = None) -> None:
        self.data = clip.read_bytes()
        self.seconds = seconds
        super().__init__(tls=tls)

    def _stream(self, write: Writer, stop: threading.Event) -> None:
        chunk = 188 * 7  # whole TS packets, about as many as one UDP datagram carries
        rate = len(self.data) / self.seconds
        started = time.monotonic()
        sent = 0
        while True:
            for i in range(0, len(self.data), chunk):
                if not _pace(stop, started, sent / rate):
                    return
                piece = self.data[i : i + chunk]
                write(piece)
                sent += len(piece)


class TsServerFactory(Protocol):
    """The ``ts_server_factory`` fixture: serve a clip as endless MPEG-TS over HTTP(S) (stopped at teardown)."""

    def __call__(self, clip: Path, *, seconds: float, tls: bool = False) -> TsHttpServer: ...
