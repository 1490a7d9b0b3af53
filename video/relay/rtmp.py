"""Just enough of RTMP to publish a live FLV stream to a server such as nginx-rtmp.

FFmpeg's own ``rtmp://`` output, opened through PyAV, has no write timeout and cannot be interrupted
from another thread: a server that accepts the connection and then stops reading would block the
pushing thread for ever, and ``stop()`` could not join it. This client owns its socket instead: every
send has a timeout, and :meth:`RtmpPublisher.abort` shuts the socket down from any thread.

It speaks the protocol's plain handshake (the one nginx-rtmp, SRS and FFmpeg's own server accept),
the ``connect`` / ``createStream`` / ``publish`` commands in AMF0, and sends FLV tags (as PyAV's FLV
muxer writes them) as RTMP messages. It answers the server's pings and reads what the server says
(an ``onStatus`` error ends the publishing with the server's words).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RtmpError", "RtmpPublisher", "RtmpTarget", "parse_target"]

DEFAULT_PORT = 1935
_HANDSHAKE_SIZE = 1536
_OUT_CHUNK = 4096

# message types
_SET_CHUNK_SIZE, _ABORT, _ACK, _USER_CONTROL, _WINDOW_ACK, _PEER_BW = 1, 2, 3, 4, 5, 6
_AUDIO, _VIDEO, _DATA_AMF0, _COMMAND_AMF0 = 8, 9, 18, 20
_PING_REQUEST, _PING_RESPONSE = 6, 7

# chunk stream ids
_CS_CONTROL, _CS_COMMAND, _CS_DATA, _CS_VIDEO = 2, 3, 4, 6


class RtmpError(Exception):
    """The server could not be reached, refused, or went away; the message says which, in words."""


@dataclass(frozen=True, slots=True)
class RtmpTarget:
    host: str
    port: int
    app: str  # the application, e.g. "live"
    stream: str  # the stream name given to ``publish``, with the push URL's query (a stream key) if any
    tc_url: str  # rtmp://host:port/app
    tls: bool = False  # rtmps://

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def parse_target(base: str, name: str) -> RtmpTarget:
    """The publishing target ``<base>/<name>``: ``base`` is ``rtmp://HOST[:PORT]/APP[?QUERY]``; a query
    (a stream key, a signature) goes on the stream name, as RTMP servers expect it."""
    parts = urlsplit(base)
    if parts.scheme not in ("rtmp", "rtmps"):
        raise ValueError("the push address must start with rtmp:// or rtmps://")
    if not parts.hostname:
        raise ValueError("the push address has no host")
    app = parts.path.strip("/")
    if not app:
        raise ValueError("the push address has no application (rtmp://HOST/live)")
    try:
        port = parts.port or (443 if parts.scheme == "rtmps" else DEFAULT_PORT)
    except ValueError:
        raise ValueError("the push address has an invalid port") from None
    stream = name + (f"?{parts.query}" if parts.query else "")
    tc_url = f"{parts.scheme}://{parts.hostname}:{port}/{app}"
    return RtmpTarget(parts.hostname, port, app, stream, tc_url, tls=parts.scheme == "rtmps")


# -- AMF0 -----------------------------------------------------------------------------------------


def amf_encode(*values: Any) -> bytes:
    out = bytearray()
    for v in values:
        _amf_put(out, v)
    return bytes(out)


def _amf_put(out: bytearray, v: Any) -> None:
    if v is None:
        out += b"\x05"
    elif isinstance(v, bool):
        out += b"\x01" + (b"\x01" if v else b"\x00")
    elif isinstance(v, (int, float)):
        out += b"\x00" + struct.pack(">d", float(v))
    elif isinstance(v, str):
        raw = v.encode()
        if len(raw) > 0xFFFF:
            out += b"\x0c" + struct.pack(">I", len(raw)) + raw
        else:
            out += b"\x02" + struct.pack(">H", len(raw)) + raw
    elif isinstance(v, dict):
        out += b"\x03"
        for k, item in v.items():
            key = str(k).encode()
            out += struct.pack(">H", len(key)) + key
            _amf_put(out, item)
        out += b"\x00\x00\x09"
    else:
        raise TypeError(f"cannot encode {type(v).__name__} in AMF0")


def amf_decode(data: bytes) -> list[Any]:
    """Every AMF0 value in ``data`` (the types RTMP servers send in commands)."""
    values: list[Any] = []
    pos = 0
    while pos < len(data):
        v, pos = _amf_get(data, pos)
        values.append(v)
    return values


def _amf_get(data: bytes, pos: int) -> tuple[Any, int]:
    marker = data[pos]
    pos += 1
    if marker == 0x00:
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if marker == 0x01:
        return data[pos] != 0, pos + 1
    if marker == 0x02:
        (n,) = struct.unpack_from(">H", data, pos)
        return data[pos + 2 : pos + 2 + n].decode(errors="replace"), pos + 2 + n
    if marker == 0x0C:
        (n,) = struct.unpack_from(">I", data, pos)
        return data[pos + 4 : pos + 4 + n].decode(errors="replace"), pos + 4 + n
    if marker in (0x05, 0x06):
        return None, pos
    if marker in (0x03, 0x08):
        if marker == 0x08:
            pos += 4  # the ECMA array's count, a hint
        obj: dict[str, Any] = {}
        while pos + 3 <= len(data):
            (n,) = struct.unpack_from(">H", data, pos)
            if n == 0 and data[pos + 2] == 0x09:
                return obj, pos + 3
            key = data[pos + 2 : pos + 2 + n].decode(errors="replace")
            obj[key], pos = _amf_get(data, pos + 2 + n)
        return obj, len(data)
    if marker == 0x0A:
        (n,) = struct.unpack_from(">I", data, pos)
        pos += 4
        items = []
        for _ in range(n):
            item, pos = _amf_get(data, pos)
            items.append(item)
        return items, pos
    raise ValueError(f"AMF0 type {marker:#x} not understood")


# -- chunks -----------------------------------------------------------------------------------------


@dataclass
class _InStream:
    timestamp: int = 0
    length: int = 0
    type: int = 0
    msid: int = 0
    extended: bool = False
    body: bytearray | None = None


@dataclass(frozen=True, slots=True)
class _Message:
    type: int
    msid: int
    timestamp: int
    body: bytes


class _ChunkReader:
    """Incoming chunks → whole messages (fed with whatever bytes arrived)."""

    def __init__(self) -> None:
        self.chunk_size = 128
        self._buf = bytearray()
        self._streams: dict[int, _InStream] = {}

    def feed(self, data: bytes) -> list[_Message]:
        self._buf += data
        out: list[_Message] = []
        while True:
            m = self._one()
            if m is None:
                return out
            if m is not _INCOMPLETE_CHUNK:
                if m.type == _SET_CHUNK_SIZE and len(m.body) >= 4:
                    self.chunk_size = struct.unpack(">I", m.body[:4])[0] & 0x7FFFFFFF
                out.append(m)

    def _one(self) -> _Message | None:
        b = self._buf
        if not b:
            return None
        fmt, csid, pos = b[0] >> 6, b[0] & 0x3F, 1
        if csid == 0:
            if len(b) < 2:
                return None
            csid, pos = 64 + b[1], 2
        elif csid == 1:
            if len(b) < 3:
                return None
            csid, pos = 64 + b[1] + 256 * b[2], 3
        st = self._streams.setdefault(csid, _InStream())
        ts, length, mtype, ext = 0, st.length, st.type, 0
        head = (11, 7, 3, 0)[fmt]
        if len(b) < pos + head:
            return None
        if fmt <= 2:
            ts = int.from_bytes(b[pos : pos + 3], "big")
        if fmt <= 1:
            length = int.from_bytes(b[pos + 3 : pos + 6], "big")
            mtype = b[pos + 6]
        msid = int.from_bytes(b[pos + 7 : pos + 11], "little") if fmt == 0 else st.msid
        pos += head
        extended = (fmt <= 2 and ts == 0xFFFFFF) or (fmt == 3 and st.extended)
        if extended:
            if len(b) < pos + 4:
                return None
            ext = int.from_bytes(b[pos : pos + 4], "big")
            pos += 4
        have = 0 if st.body is None else len(st.body)
        size = min(self.chunk_size, length - have)
        if len(b) < pos + size:
            return None
        # the whole chunk is here: commit the header
        if fmt <= 2:
            t = ext if extended else ts
            st.timestamp = t if fmt == 0 else st.timestamp + t
            st.extended = extended
        if fmt <= 1:
            st.length, st.type = length, mtype
        st.msid = msid
        if st.body is None:
            st.body = bytearray()
        st.body += b[pos : pos + size]
        del b[: pos + size]
        if len(st.body) >= st.length:
            m = _Message(st.type, st.msid, st.timestamp, bytes(st.body))
            st.body = None
            return m
        return _INCOMPLETE_CHUNK


_INCOMPLETE_CHUNK = _Message(-1, 0, 0, b"")


def _chunks(csid: int, mtype: int, msid: int, timestamp: int, body: bytes, chunk_size: int) -> bytes:
    ts = timestamp & 0xFFFFFFFF
    extended = ts >= 0xFFFFFF
    head = bytes([csid & 0x3F]) + (0xFFFFFF if extended else ts).to_bytes(3, "big")
    head += len(body).to_bytes(3, "big") + bytes([mtype]) + msid.to_bytes(4, "little")
    ext = ts.to_bytes(4, "big") if extended else b""
    out = bytearray(head + ext + body[:chunk_size])
    cont = bytes([0xC0 | (csid & 0x3F)]) + ext
    for i in range(chunk_size, len(body), chunk_size):
        out += cont + body[i : i + chunk_size]
    return bytes(out)


# -- the publisher -----------------------------------------------------------------------------------


class RtmpPublisher:
    """One publishing session: :meth:`connect`, then :meth:`send_tag` for each FLV tag, :meth:`close`.

    Blocking calls wait at most ``timeout`` seconds each; :meth:`abort` (any thread) ends a blocked call
    at once. Errors are :class:`RtmpError` with the reason in words (never the stream key)."""

    def __init__(self, target: RtmpTarget, *, timeout: float = 5.0) -> None:
        self.target = target
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader = _ChunkReader()
        self._txn = 0
        self._msid = 0
        self._aborted = threading.Event()
        self._early = bytearray()  # bytes received with the handshake's last part
        self._pending: list[_Message] = []  # messages read but not yet looked at
        self.bytes_sent = 0

    # -- session

    def connect(self) -> None:
        t = self.target
        try:
            sock = socket.create_connection((t.host, t.port), timeout=self.timeout)
        except ConnectionRefusedError:
            raise RtmpError(f"connection refused: nothing is listening at {t.address}") from None
        except TimeoutError:
            raise RtmpError(f"no answer from {t.address} within {self.timeout:g} s") from None
        except OSError as e:
            raise RtmpError(f"cannot reach {t.address}: {e.strerror or e}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if t.tls:
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=t.host)
            except (ssl.SSLError, OSError) as e:
                sock.close()
                raise RtmpError(f"TLS with {t.address} failed: {getattr(e, 'reason', None) or e}") from None
        self._sock = sock
        if self._aborted.is_set():
            self.close()
            raise RtmpError("stopped")
        deadline = time.monotonic() + self.timeout
        self._handshake(deadline)
        self._send(_CS_CONTROL, _SET_CHUNK_SIZE, 0, 0, struct.pack(">I", _OUT_CHUNK))
        self._command("connect", {
            "app": t.app, "type": "nonprivate", "flashVer": "FMLE/3.0 (compatible; HallWatch)",
            "tcUrl": t.tc_url,
        })
        self._expect_result(1, deadline, "connect")
        self._command("createStream", None)
        result = self._expect_result(2, deadline, "createStream")
        self._msid = int(result[3]) if len(result) > 3 and isinstance(result[3], float) else 1
        self._command("publish", None, t.stream, "live", msid=self._msid)
        self._expect_status("NetStream.Publish.Start", deadline)

    def send_tag(self, tag_type: int, timestamp: int, body: bytes) -> None:
        """One FLV tag as an RTMP message (script data gets the ``@setDataFrame`` wrapper servers expect)."""
        if tag_type == _DATA_AMF0:
            body = amf_encode("@setDataFrame") + body
            self._send(_CS_DATA, _DATA_AMF0, self._msid, timestamp, body)
        elif tag_type in (_VIDEO, _AUDIO):
            self._send(_CS_VIDEO if tag_type == _VIDEO else _CS_DATA + 1, tag_type, self._msid, timestamp, body)
        self._poll()

    def close(self) -> None:
        """Say goodbye (best effort) and close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._msid and not self._aborted.is_set():
            with contextlib.suppress(OSError, RtmpError):
                sock.settimeout(0.5)
                self._sock = sock
                self._command("deleteStream", None, float(self._msid))
                self._sock = None
        with contextlib.suppress(OSError):
            sock.close()

    def abort(self) -> None:
        """From any thread: end a blocked connect or send now (it raises :class:`RtmpError`)."""
        self._aborted.set()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # -- plumbing

    def _handshake(self, deadline: float) -> None:
        c1 = struct.pack(">II", 0, 0) + os.urandom(_HANDSHAKE_SIZE - 8)
        self._sendall(b"\x03" + c1)
        s0s1 = self._recv_exact(1 + _HANDSHAKE_SIZE, deadline)
        if s0s1[0] != 3:
            raise RtmpError(f"{self.target.address} does not speak RTMP")
        self._sendall(s0s1[1:])  # C2 echoes S1
        self._recv_exact(_HANDSHAKE_SIZE, deadline)  # S2
        early, self._early = bytes(self._early), bytearray()
        self._pending = self._handle(self._reader.feed(early))

    def _command(self, name: str, obj: dict[str, Any] | None, *args: Any, msid: int = 0) -> None:
        self._txn += 1
        self._send(_CS_COMMAND, _COMMAND_AMF0, msid, 0, amf_encode(name, float(self._txn), obj, *args))

    def _send(self, csid: int, mtype: int, msid: int, timestamp: int, body: bytes) -> None:
        chunk = _OUT_CHUNK if mtype != _SET_CHUNK_SIZE else 128
        self._sendall(_chunks(csid, mtype, msid, timestamp, body, chunk))
        self.bytes_sent += len(body)

    def _sendall(self, data: bytes) -> None:
        sock = self._sock
        if sock is None or self._aborted.is_set():
            raise RtmpError("stopped")
        try:
            sock.sendall(data)
        except TimeoutError:
            raise RtmpError(f"{self.target.address} stopped reading for {self.timeout:g} s") from None
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            raise RtmpError("the server closed the connection") from None
        except OSError as e:
            if self._aborted.is_set():
                raise RtmpError("stopped") from None
            raise RtmpError(f"sending failed: {e.strerror or e}") from None

    def _recv(self, deadline: float) -> bytes:
        sock = self._sock
        if sock is None or self._aborted.is_set():
            raise RtmpError("stopped")
        left = deadline - time.monotonic()
        if left <= 0:
            raise RtmpError(f"no answer from {self.target.address} within {self.timeout:g} s")
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            raise RtmpError(f"no answer from {self.target.address} within {self.timeout:g} s") from None
        except OSError as e:
            raise RtmpError(f"the connection was cut: {e.strerror or e}") from None
        finally:
            sock.settimeout(self.timeout)
        if not data:
            raise RtmpError("stopped" if self._aborted.is_set() else "the server closed the connection")
        return data

    def _recv_exact(self, n: int, deadline: float) -> bytes:
        """``n`` bytes of the handshake; what came after them stays in ``_early`` for the chunk reader."""
        buf = self._early
        while len(buf) < n:
            buf += self._recv(deadline)
        out = bytes(buf[:n])
        del buf[:n]
        return out

    def _messages(self, deadline: float) -> list[_Message]:
        return self._handle(self._reader.feed(self._recv(deadline)))

    def _handle(self, messages: list[_Message]) -> list[_Message]:
        """Answer pings; raise on an error status; the rest for the caller."""
        rest = []
        for m in messages:
            if m.type == _USER_CONTROL and len(m.body) >= 6 and struct.unpack(">H", m.body[:2])[0] == _PING_REQUEST:
                self._send(_CS_CONTROL, _USER_CONTROL, 0, 0, struct.pack(">H", _PING_RESPONSE) + m.body[2:6])
            elif m.type == _COMMAND_AMF0:
                values = _safe_decode(m.body)
                info = values[3] if len(values) > 3 and isinstance(values[3], dict) else {}
                failed = values and values[0] == "onStatus" and str(info.get("level", "")) == "error"
                if failed or (values and values[0] == "_error"):
                    raise RtmpError(_refused(info))
                rest.append(m)
            else:
                rest.append(m)
        return rest

    def _expect_result(self, txn: int, deadline: float, what: str) -> list[Any]:
        pending, self._pending = self._pending, []
        while True:
            for i, m in enumerate(pending):
                if m.type == _COMMAND_AMF0:
                    values = _safe_decode(m.body)
                    if len(values) > 1 and values[0] == "_result" and values[1] == float(txn):
                        self._pending = pending[i + 1 :]
                        return values
            try:
                pending = self._messages(deadline)
            except RtmpError as e:
                raise RtmpError(f"{what}: {e}") from None

    def _expect_status(self, code: str, deadline: float) -> None:
        pending, self._pending = self._pending, []
        while True:
            for m in pending:
                values = _safe_decode(m.body) if m.type == _COMMAND_AMF0 else []
                if values and values[0] == "onStatus" and len(values) > 3 and isinstance(values[3], dict) \
                        and values[3].get("code") == code:
                    return
            try:
                pending = self._messages(deadline)
            except RtmpError as e:
                raise RtmpError(f"publish: {e}") from None

    def _poll(self) -> None:
        """Read what the server sent meanwhile, without waiting (pings, a closing status)."""
        sock = self._sock
        if sock is None:
            raise RtmpError("stopped")
        while True:
            try:
                ready, _, _ = select.select([sock], [], [], 0)
            except (OSError, ValueError):
                raise RtmpError("stopped" if self._aborted.is_set() else "the connection was cut") from None
            if not ready:
                return
            self._messages(time.monotonic() + self.timeout)

    def poll(self) -> None:
        """Between packets: answer the server and notice a closed connection."""
        self._poll()


def _refused(info: dict[str, Any]) -> str:
    words = f"{info.get('code', '?')} {info.get('description', '')}".strip()
    return f"the server refused: {words}"


def _safe_decode(body: bytes) -> list[Any]:
    try:
        return amf_decode(body)
    except (ValueError, IndexError, struct.error):
        return []
