"""nginx as an HLS origin that accepts uploads: Debian's nginx with its DAV module on 127.0.0.1.

:class:`DavServer` serves ``http://127.0.0.1:<port>/hls/`` from a folder; ``PUT`` and ``DELETE`` write
there (``dav_methods PUT DELETE; create_full_put_path on``) — what a terminal's ``[relay] hls`` pushes
to. Its own ``nginx.conf``, pid file, logs and temp folders live in one work folder; it runs in the
foreground (one process) and can be stopped, killed and started again on the same port, keeping its
files (as a real server's disk does).

With ``rtmp=True`` the same nginx also runs the RTMP module's ``live`` application on a second port
(``rtmp_url``), for tests that push both ways into one server.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.ci import unavailable
from tests.video.camera_servers import free_port, tail, terminate
from tests.video.media_servers import (
    READY_TIMEOUT,
    _nginx_version,
    _wait_listening,
    nginx_binary,
    nginx_rtmp_unavailable,
    rtmp_module,
)

_INSTALL_HINT = "(apt-get install nginx libnginx-mod-rtmp)"


def nginx_dav_unavailable() -> str | None:
    """Why :class:`DavServer` cannot run here (None when it can)."""
    binary = nginx_binary()
    if binary is None:
        return f"nginx not found {_INSTALL_HINT}"
    r = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10, check=False)
    if "http_dav_module" not in r.stderr + r.stdout:
        return "this nginx was built without its DAV module (--with-http_dav_module)"
    return None


class DavServer:
    """nginx on ``http://127.0.0.1:<port>/hls/`` accepting ``PUT`` and ``DELETE`` into ``root``."""

    def __init__(self, *, work_dir: Path | None = None, rtmp: bool = False, upload_token: str | None = None) -> None:
        """``upload_token``: PUT and DELETE need ``?upload=<token>`` (403 otherwise), as the README's config."""
        self.upload_token = upload_token
        if work_dir is None:
            work_dir = Path(tempfile.mkdtemp(prefix="hw-nginx-dav-"))
            weakref.finalize(self, shutil.rmtree, work_dir, True)
        self.work_dir = work_dir
        self.root = work_dir / "www"
        self.port = free_port()
        self.rtmp_port = free_port() if rtmp else None
        self.conf_path = work_dir / "nginx.conf"
        self.error_log = work_dir / "logs" / "error.log"
        self.access_log = work_dir / "logs" / "access.log"
        self.stderr_log = work_dir / "logs" / "stderr.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def base(self) -> str:
        """What ``[relay] hls`` is set to."""
        return f"http://127.0.0.1:{self.port}/hls"

    @property
    def rtmp_base(self) -> str:
        """What ``[relay] push`` is set to (``rtmp=True`` only)."""
        if self.rtmp_port is None:
            raise RuntimeError("this server runs no RTMP")
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    def playlist(self, camera_id: str) -> str:
        return f"{self.base}/{camera_id}/index.m3u8"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def log_tail(self, lines: int = 30) -> str:
        return tail(self.error_log, lines) + "\n-- access:\n" + tail(self.access_log, lines)

    def files(self, camera_id: str) -> list[str]:
        folder = self.root / "hls" / camera_id
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def _config(self) -> str:
        d = self.work_dir
        temp = d / "temp"
        rtmp = ""
        load = ""
        if self.rtmp_port is not None:
            module = rtmp_module()
            if module is None:
                raise RuntimeError(f"nginx's RTMP module not found {_INSTALL_HINT}")
            load = f"load_module {module};"
            rtmp = f"""
rtmp {{
    access_log {d / "logs" / "rtmp-access.log"};
    server {{
        listen 127.0.0.1:{self.rtmp_port};
        chunk_size 4096;
        application live {{ live on; record off; }}
    }}
}}"""
        guard = check = ""
        if self.upload_token is not None:
            guard = (f'map "$request_method:$arg_upload" $hls_write_denied {{ "~^(PUT|DELETE):{self.upload_token}$" 0; '
                     '"~^(PUT|DELETE):" 1; default 0; }')
            check = "if ($hls_write_denied) { return 403; }"
        return f"""\
{load}
daemon off;
master_process off;
worker_processes 1;
pid {d / "nginx.pid"};
error_log {self.error_log} info;
events {{ worker_connections 512; }}
{rtmp}
http {{
    access_log {self.access_log};
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
    {guard}
    server {{
        listen 127.0.0.1:{self.port};
        {check}
        root {self.root};
        location /hls/ {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 64m;
            client_body_temp_path {temp / "dav"};
            location ~ \\.m3u8$ {{ dav_methods PUT DELETE; create_full_put_path on; expires -1; }}
        }}
    }}
}}
"""

    def _command(self) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError(f"nginx not found {_INSTALL_HINT}")
        for sub in ("logs", "temp", "temp/dav", "www/hls"):
            (self.work_dir / sub).mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self._config())
        cmd = [binary, "-c", str(self.conf_path), "-p", f"{self.work_dir}/"]
        if _nginx_version(binary) >= (1, 19, 5):
            cmd += ["-e", str(self.error_log)]
        return cmd

    def start(self) -> Self:
        """Start nginx and wait (≤ 10 s) until its ports accept; a port taken at the first start makes it
        pick new ones, a restart waits for its own."""
        if self.running:
            raise RuntimeError("nginx is already running")
        for attempt in range(5):
            cmd = self._command()
            with open(self.stderr_log, "ab") as err:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                        start_new_session=True)
            self._proc = proc
            ports = {self.port} | ({self.rtmp_port} if self.rtmp_port is not None else set())
            if _wait_listening(proc, ports, time.monotonic() + READY_TIMEOUT):
                self._started = True
                return self
            terminate(proc, kill_now=True, what="nginx")
            self._proc = None
            if "Address already in use" not in tail(self.error_log, 5) + tail(self.stderr_log, 5):
                break
            if not self._started:
                self.port = free_port()
                self.rtmp_port = free_port() if self.rtmp_port is not None else None
            else:
                time.sleep(0.5)
            del attempt
        raise RuntimeError(f"nginx did not start on 127.0.0.1:{self.port}:\n{self.log_tail()}\n"
                           f"{tail(self.stderr_log, 10)}")

    def stop(self) -> None:
        if self._proc is not None:
            terminate(self._proc, kill_now=False, what="nginx")
            self._proc = None

    def kill(self) -> None:
        """SIGKILL at once: every connection dies open."""
        if self._proc is not None:
            terminate(self._proc, kill_now=True, what="nginx")
            self._proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# -- for the fixtures of the test modules ----------------------------------------------------------


@contextlib.contextmanager
def running_dav_server(work_dir: Path, *, rtmp: bool = False, upload_token: str | None = None) -> Iterator[DavServer]:
    """nginx accepting HLS uploads on ``.base`` (http://127.0.0.1:<port>/hls), its files under
    ``work_dir``; stopped on leaving. Skips (fails under CI) without nginx's DAV (or RTMP) module."""
    reason = nginx_dav_unavailable() or (nginx_rtmp_unavailable() if rtmp else None)
    if reason is not None:
        unavailable(reason, "nginx and libnginx-mod-rtmp")
    server = DavServer(work_dir=work_dir, rtmp=rtmp, upload_token=upload_token)
    try:
        yield server.start()
    finally:
        server.stop()


def ffprobe_video(url: str, timeout: float = 20.0) -> tuple[str, int, int] | str:
    """``(codec, width, height)`` of ``url``'s video as the ffprobe command reads it, or its error."""
    cmd = ["ffprobe", "-v", "error", "-rw_timeout", "5000000", "-select_streams", "v:0",
           "-show_entries", "stream=codec_name,width,height", "-of", "json", url]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"ffprobe did not finish within {timeout:g} s"
    try:
        (s,) = json.loads(r.stdout)["streams"]
        return str(s["codec_name"]), int(s["width"]), int(s["height"])
    except (ValueError, KeyError, TypeError):
        return f"ffprobe exit {r.returncode}: {r.stderr.strip()[-500:]}"
