"""The reference server in a background thread, for tests and the embedded demo.

    with ServerThread(CentralStore(tmp_path / "server.db")) as server:
        requests.get(server.url + "/api/v1/changes", headers=...)

uvicorn serves ``create_app(store)`` on 127.0.0.1 on a free port (or the one given), over TLS
when a certificate is given, with the guards of ``sync.server.protocol`` (read timeouts,
connections per address). ``stop()`` (or leaving the block) asks uvicorn to exit and waits
for it: open keep-alive connections are closed after at most a second. The store stays open:
it belongs to the caller.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from sync.server.app import create_app
from sync.server.middleware import DEFAULT_MAX_BODY
from sync.server.protocol import Guards, guarded_protocol
from sync.server.store import CentralStore

log = logging.getLogger(__name__)

_START_TIMEOUT = 10.0


class ServerThread:
    def __init__(
        self,
        store: CentralStore,
        *,
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        guards: Guards | None = None,
    ) -> None:
        self.store = store
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the proto
        # says TCP, and without it every keep-alive request waits ~40 ms (Nagle and delayed ACKs).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind(("127.0.0.1", port))
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if ssl_certfile else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(store, max_body_bytes=max_body_bytes),
            log_config=None,  # leave logging to the application (and to pytest's caplog)
            lifespan="off",
            ws="none",
            loop="asyncio",
            http=guarded_protocol(guards),  # h11 with read timeouts and a cap per address
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> ServerThread:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name=f"server-{self.port}"
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError("the server failed to start (see the log)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start within {_START_TIMEOUT:.0f} s")
            time.sleep(0.01)
        log.info("server listening at %s", self.url)
        return self

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._server.should_exit = True
            thread.join(timeout=5)
            if thread.is_alive():  # pragma: no cover - uvicorn gave up its graceful shutdown
                self._server.force_exit = True
                thread.join(timeout=2)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
