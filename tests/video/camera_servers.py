"""Real camera-like servers on 127.0.0.1 for the video tests.

* :class:`RtspCamera` — GStreamer's RTSP server (``gst_rtsp_camera.py``, run by Debian's
  ``/usr/bin/python3``, which has ``gi``) serving a live H.264/H.265 test pattern, optionally behind
  RTSP Basic auth; can be stopped, killed (a crashed camera) and started again on the same port.
* :class:`SilentServer` — accepts TCP connections and never answers (a hung camera).
* :class:`GarbageServer` — accepts TCP connections and answers with endless random bytes.

The two TCP servers run on daemon threads and join them in ``stop()``; everything is closed there
(the suite runs with ``filterwarnings=error``, so an unclosed socket or pipe fails a test).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, Self

log = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
CAMERA_SCRIPT = Path(__file__).with_name("gst_rtsp_camera.py")
READY_TIMEOUT = 20.0  # seconds for the server to print READY
STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
_EXIT_ADDRESS_IN_USE = 3  # gst_rtsp_camera.py's exit code when the port is taken
_BIND_ATTEMPTS = 10
_BIND_RETRY_DELAY = 0.5

# One GStreamer registry cache for the whole run: the suite points HOME at a fresh folder per test,
# and without this every camera would rescan all plugins on start.
_GST_REGISTRY = Path(tempfile.gettempdir()) / f"hallwatch-test-gst-registry-{os.getuid()}.bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, or ``(no log)``."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def terminate(proc: subprocess.Popen[bytes], *, kill_now: bool, what: str) -> int | None:
    """SIGKILL at once (``kill_now``), or SIGTERM and SIGKILL after :data:`STOP_GRACE`; always waits (no
    zombie). Returns the exit code when the process ended on SIGTERM, else None."""
    if proc.poll() is not None:
        return None
    if not kill_now:
        proc.send_signal(signal.SIGCONT)  # a frozen (SIGSTOPped) process could not act on SIGTERM
        proc.terminate()
        try:
            return proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) ignored SIGTERM for %.0f s: killing", what, proc.pid, STOP_GRACE)
    proc.kill()
    proc.wait()
    return None


def established_to(port: int) -> int:
    """Established TCP connections (IPv4 and IPv6) whose local port is ``port``: the server's side
    of each client connection, read from the kernel's tables."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                n += 1
    return n


def _camera_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GST_REGISTRY", str(_GST_REGISTRY))
    env.setdefault("GST_DEBUG", "2")  # warnings and errors into the log shown on failure
    env.setdefault("GST_DEBUG_NO_COLOR", "1")
    return env


_check_cache: dict[str, str | None] = {}


def gst_rtsp_unavailable(codec: str = "h264") -> str | None:
    """Why :class:`RtspCamera` cannot run here (None when it can): Debian's python, ``gi``,
    GStreamer's RTSP server and the encoder for ``codec`` must all be installed. Cached per codec."""
    if codec not in _check_cache:
        _check_cache[codec] = _gst_check(codec)
    return _check_cache[codec]


def _gst_check(codec: str) -> str | None:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} not found (the RTSP camera runs on Debian's python with gi)"
    try:
        r = subprocess.run(
            [SYSTEM_PYTHON, "-I", str(CAMERA_SCRIPT), "--check", "--codec", codec],
            capture_output=True, text=True, timeout=60, env=_camera_env(), check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{SYSTEM_PYTHON} {CAMERA_SCRIPT.name} --check timed out"
    if r.returncode == 0:
        return None
    tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
    return (
        f"GStreamer RTSP server not usable from {SYSTEM_PYTHON} for {codec}: {tail} "
        "(apt-get install python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0 "
        "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad)"
    )


class RtspCamera:
    """A real RTSP camera on ``rtsp://[user:password@]127.0.0.1:<port>/cam``: a moving test pattern,
    a keyframe every second, parameter sets in-band. The port is chosen once and kept across restarts."""

    def __init__(
        self,
        codec: str = "h264",
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 25,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        path: str = "/cam",
        log_dir: Path | None = None,
    ) -> None:
        if codec not in ("h264", "h265"):
            raise ValueError(f"codec must be 'h264' or 'h265', not {codec!r}")
        if (user is None) != (password is None):
            raise ValueError("user and password go together")
        self.codec = codec
        self.width = width
        self.height = height
        self.fps = fps
        self.user = user
        self.password = password
        self.port = port if port is not None else free_port()
        self.path = path if path.startswith("/") else "/" + path
        if log_dir is None:
            log_dir = Path(tempfile.mkdtemp(prefix="hw-rtsp-cam-"))
            weakref.finalize(self, shutil.rmtree, log_dir, True)
        self.log_dir = log_dir
        self.log_path = log_dir / f"camera-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    # -- state

    @property
    def url(self) -> str:
        cred = f"{self.user}:{self.password}@" if self.user is not None else ""
        return f"rtsp://{cred}127.0.0.1:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the camera's stderr (all its runs, each headed by a ``--- start`` line)."""
        return tail(self.log_path, lines)

    def sessions(self) -> int:
        """Clients connected to the camera now: established TCP connections to its port (an RTSP
        session over TCP, as the application uses, is one connection carrying requests and media)."""
        return established_to(self.port)

    # -- lifecycle

    def start(self) -> Self:
        """Start the server and wait (≤ 20 s) until it listens; retries while the port is still taken."""
        if self.running:
            raise RuntimeError(f"camera on port {self.port} is already running")
        self._reap()
        code = -1
        for attempt in range(1, _BIND_ATTEMPTS + 1):
            result = self._start_once()
            if result is None:
                return self
            code = result
            if code != _EXIT_ADDRESS_IN_USE or attempt == _BIND_ATTEMPTS:
                break
            log.info("port %d still in use (attempt %d), retrying", self.port, attempt)
            time.sleep(_BIND_RETRY_DELAY)
        why = {-1: f", no READY within {READY_TIMEOUT:.0f} s", _EXIT_ADDRESS_IN_USE: ", port in use"}.get(code, "")
        raise RuntimeError(
            f"RTSP camera did not start on 127.0.0.1:{self.port} (exit code {code}{why}); "
            f"stderr tail ({self.log_path}):\n{self.log_tail()}"
        )

    def _start_once(self) -> int | None:
        """Launch once; None when READY came, else the exit code (-1: no READY in time)."""
        self._starts += 1
        cmd = [
            SYSTEM_PYTHON, "-I", str(CAMERA_SCRIPT),
            "--port", str(self.port), "--codec", self.codec,
            "--width", str(self.width), "--height", str(self.height), "--fps", str(self.fps),
            "--path", self.path,
        ]
        if self.user is not None and self.password is not None:
            cmd += ["--user", self.user, "--password", self.password]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as err:
            err.write(f"--- start #{self._starts}: {' '.join(cmd)}\n".encode())
            err.flush()
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                env=_camera_env(), start_new_session=True,
            )
        self._proc = proc
        assert proc.stdout is not None
        if self._wait_ready(proc.stdout, time.monotonic() + READY_TIMEOUT):
            log.info("RTSP camera %s ready (pid %d)", self.url, proc.pid)
            return None
        if proc.poll() is None:  # no READY in time: give up on this one
            self._terminate(kill_now=True)
            return -1
        code = proc.wait()
        self._close_pipe()
        self._proc = None
        return code

    def _wait_ready(self, stdout: IO[bytes], deadline: float) -> bool:
        fd = stdout.fileno()
        expected = f"READY {self.port}".encode()
        buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:  # EOF: the process exited
                return False
            buf += chunk
            if any(line.strip() == expected for line in buf.split(b"\n")[:-1]):
                return True

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s; waits for the process. No-op when not running."""
        self._terminate(kill_now=False)

    def kill(self) -> None:
        """SIGKILL at once, as if the camera crashed or lost power. No-op when not running."""
        self._terminate(kill_now=True)

    def send_signal(self, sig: signal.Signals) -> None:
        """Send a signal to the camera process (e.g. SIGSTOP/SIGCONT to freeze and thaw it)."""
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError("camera is not running")
        self._proc.send_signal(sig)

    def _terminate(self, *, kill_now: bool) -> None:
        proc = self._proc
        if proc is None:
            return
        code = terminate(proc, kill_now=kill_now, what="camera")
        if code:
            log.warning("camera pid %d exited with %d on SIGTERM:\n%s", proc.pid, code, self.log_tail(10))
        self._close_pipe()
        self._proc = None

    def _reap(self) -> None:
        """Forget a process that exited on its own (collect it and close its pipe)."""
        if self._proc is not None and self._proc.poll() is not None:
            self._close_pipe()
            self._proc = None

    def _close_pipe(self) -> None:
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RtspCamera({self.codec}, {self.url}, {'running' if self.running else 'stopped'})"


class CameraFactory(Protocol):
    """The ``rtsp_camera_factory`` fixture: start a camera (stopped at teardown)."""

    def __call__(
        self,
        codec: str = "h264",
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 25,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        path: str = "/cam",
    ) -> RtspCamera: ...


class _TcpServer:
    """A listener on 127.0.0.1 (free port) with an accept thread, listening from construction on;
    subclasses handle the connections."""

    _kind = "tcp"

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepted = 0
        self._thread: threading.Thread | None = None
        self.start()

    @property
    def accepted(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return self._accepted

    def url(self, scheme: str = "rtsp") -> str:
        """``rtsp://127.0.0.1:<port>/cam``, ``http://127.0.0.1:<port>/live.ts`` or ``tcp://127.0.0.1:<port>``."""
        if scheme == "rtsp":
            return f"rtsp://127.0.0.1:{self.port}/cam"
        if scheme == "http":
            return f"http://127.0.0.1:{self.port}/live.ts"
        if scheme == "tcp":
            return f"tcp://127.0.0.1:{self.port}"
        raise ValueError(f"unknown scheme {scheme!r}")

    def start(self) -> Self:
        """Listen and start the accept thread (the constructor already does; idempotent)."""
        if self._thread is not None:
            return self
        if self._stop.is_set():
            raise RuntimeError("a stopped server cannot be started again")
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept_loop, name=f"{self._kind}-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed
                return
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._accepted += 1
                self._conns.append(conn)
                n = self._accepted
            self._on_accept(conn, n)

    def _on_accept(self, conn: socket.socket, n: int) -> None:
        """Called on the accept thread for connection number ``n`` (1-based); holds it by default."""

    def stop(self) -> None:
        """Close the listener and every connection; join the threads (within about 1 s). Idempotent."""
        self._stop.set()
        self._listener.close()
        if self._thread is not None:
            self._thread.join(timeout=1)
        with self._lock:
            conns, self._conns = self._conns, []
            threads, self._threads = self._threads, []
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()
        for t in threads:
            t.join(timeout=1)
        alive = [t.name for t in [self._thread, *threads] if t is not None and t.is_alive()]
        if alive:
            log.warning("%s server threads still alive after stop: %s", self._kind, alive)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SilentServer(_TcpServer):
    """Accepts connections and never sends a byte; holds them open until :meth:`stop` (a hung camera)."""

    _kind = "silent"


class GarbageServer(_TcpServer):
    """Accepts connections, (optionally) reads and discards the request, then sends seeded random bytes
    in chunks until the client closes or the server stops. Connection ``n`` uses ``Random(seed, n)``."""

    _kind = "garbage"

    def __init__(
        self, *, seed: int = 0, chunk_size: int = 4096, interval: float = 0.005, read_request: bool = True
    ) -> None:
        self.seed = seed
        self.chunk_size = chunk_size
        self.interval = interval
        self.read_request = read_request
        super().__init__()  # starts accepting: the settings above must be in place

    def _on_accept(self, conn: socket.socket, n: int) -> None:
        t = threading.Thread(target=self._serve, args=(conn, n), name=f"garbage-conn-{self.port}-{n}", daemon=True)
        with self._lock:
            self._threads.append(t)
        t.start()

    def _serve(self, conn: socket.socket, n: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + n)
        conn.settimeout(0.1)
        try:
            if self.read_request and not self._discard_request(conn):
                return  # the client closed first
            while not self._stop.is_set():
                data = memoryview(rng.randbytes(self.chunk_size))
                while data and not self._stop.is_set():
                    try:
                        sent = conn.send(data)
                    except TimeoutError:  # the client is not reading: keep checking for stop
                        continue
                    data = data[sent:]
                if self.interval:
                    self._stop.wait(self.interval)
        except OSError:  # the client closed (EPIPE, ECONNRESET) or stop() closed the socket
            return

    def _discard_request(self, conn: socket.socket) -> bool:
        """Read what the client sends first (up to a blank line, or 0.5 s); False if it closed."""
        buf = b""
        deadline = time.monotonic() + 0.5
        while b"\r\n\r\n" not in buf and len(buf) < 65536 and time.monotonic() < deadline:
            if self._stop.is_set():
                return False
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return False
            buf += chunk
        return True
