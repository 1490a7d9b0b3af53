"""Real viewers of the relay for the tests: ffmpeg reading ``/live/<camera>.ts`` and reporting its
progress, and a viewer that connects and never reads."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from urllib.parse import urlsplit


class FfmpegViewer:
    """``ffmpeg -i URL -c copy -f null -`` with its progress (frames over time) read on a joined thread."""

    def __init__(self, url: str, *, seconds: float | None = None, decode: bool = False) -> None:
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1", "-stats_period", "0.25",
               "-i", url, "-map", "0:v:0"]
        if not decode:
            cmd += ["-c", "copy"]
        if seconds is not None:
            cmd += ["-t", str(seconds)]
        cmd += ["-f", "null", "-"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.samples: list[tuple[float, int]] = []  # (time.monotonic(), frames so far)
        self._lock = threading.Lock()
        self._err = b""
        self._out_thread = threading.Thread(target=self._read_progress, name="ffmpeg-viewer-progress")
        self._err_thread = threading.Thread(target=self._read_err, name="ffmpeg-viewer-stderr")
        self._out_thread.start()
        self._err_thread.start()

    def _read_progress(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(b"frame="):
                with self._lock:
                    self.samples.append((time.monotonic(), int(line[6:].strip() or 0)))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self._err = self.proc.stderr.read()

    @property
    def frames(self) -> int:
        with self._lock:
            return self.samples[-1][1] if self.samples else 0

    def frames_at(self, t: float) -> int:
        """Frames received by ``t`` (time.monotonic()), from the progress reports."""
        with self._lock:
            return max((f for at, f in self.samples if at <= t), default=0)

    def fps(self, t0: float, t1: float) -> float:
        return (self.frames_at(t1) - self.frames_at(t0)) / (t1 - t0)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self._join()
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._join()

    @property
    def stderr(self) -> str:
        return self._err.decode(errors="replace")[-2000:]

    def _join(self) -> None:
        self._out_thread.join(10)
        self._err_thread.join(10)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


class StalledViewer:
    """Opens a stream and never reads it (a viewer whose player hung), with a tiny receive buffer."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    def closed_by_server(self) -> bool:
        """Whether the server has cut the connection (reads what is buffered to find out)."""
        self.sock.setblocking(False)
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    return True
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.setblocking(True)

    def close(self) -> None:
        self.sock.close()


def probe(url: str) -> dict[str, object]:
    """ffprobe's view of the stream's video: codec_name, width, height."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height",
         "-of", "json", url],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert out.returncode == 0, out.stderr
    streams = json.loads(out.stdout)["streams"]
    assert streams, out.stderr
    return dict(streams[0])
