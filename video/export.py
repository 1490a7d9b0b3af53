"""Evidence export: recorded footage stream-copied into one MP4, with a signed manifest.

:func:`export` copies the packets of a camera's segments over a span into
``<camera>_<start>_<end>.mp4`` — remuxed, never re-encoded, ``+faststart`` so any player starts
it at once — and writes ``manifest.json`` beside it: what was asked for and what is there, the
source segments with their SHA-256, the gaps, the MP4's SHA-256, who exported it, why, when and
where, signed with the terminal's Ed25519 key. :func:`verify` checks a folder written so and
names each thing that changed.

Evidence comes only from unaltered footage: every source segment is hashed again before it is
used, and a segment whose hash differs from the one the index recorded when it was closed stops
the export (and is marked corrupt in the index, so the gap it leaves says why).

The MP4's timeline keeps the wall clock: its time ``t`` shows ``covered.start + t``. Segments that
follow one another continue without a seam; a gap is not filled (the last frame before it lasts
until the footage resumes) and is listed in the manifest with its reason.

Nothing here imports Qt.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import av
import av.error
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from supervision.config import HallConfig
from supervision.store.footage import SegmentStatus
from supervision.store.models import CameraRow, Window
from video.footage import FootageIndex, SegmentInfo, safe_name, sha256_file

__all__ = [
    "FORMAT",
    "MANIFEST",
    "ExportError",
    "ExportResult",
    "Gap",
    "NoFootageError",
    "SigningKey",
    "SourceChangedError",
    "VerifyResult",
    "canonical_json",
    "default_who",
    "export",
    "fingerprint_of",
    "load_or_create_key",
    "local_time",
    "verify",
]

log = logging.getLogger(__name__)

FORMAT = "hallwatch-evidence"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEY_FILE = Path("keys") / "terminal.ed25519"
#: Holes shorter than this between segments are the capture-clock estimate's jitter, not gaps.
GAP_TOLERANCE = timedelta(milliseconds=500)
_PARTIAL = ".partial"

Progress = Callable[[float, str], None]


# -- errors ---------------------------------------------------------------------------------------


class ExportError(RuntimeError):
    """The export could not be made; the message says why in words."""


class NoFootageError(ExportError):
    """No readable footage of the camera in the span."""


class SourceChangedError(ExportError):
    """A source segment is missing or differs from the index (its SHA-256 or size)."""

    def __init__(self, message: str, segments: Sequence[str]) -> None:
        super().__init__(message)
        self.segments = list(segments)


# -- the terminal's key ---------------------------------------------------------------------------


def fingerprint_of(public_raw: bytes) -> str:
    """A public key's fingerprint: the SHA-256 of its 32 raw bytes, in hex."""
    return hashlib.sha256(public_raw).hexdigest()


class SigningKey:
    """The terminal's Ed25519 private key. Its repr shows only the public fingerprint."""

    __slots__ = ("_key", "fingerprint", "path", "public_raw")

    def __init__(self, key: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._key = key
        self.path = path
        self.public_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.fingerprint = fingerprint_of(self.public_raw)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode("ascii")

    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(fingerprint={self.fingerprint[:16]}…)"

    __str__ = __repr__


def load_or_create_key(data_dir: Path) -> SigningKey:
    """The terminal's signing key, ``DATA/keys/terminal.ed25519`` (PEM, PKCS#8, mode 0600).

    Created on first use. Two processes starting at once agree on one key: the new key is written
    to a private temporary file and hard-linked into place, so the file appears whole or not at all,
    and the loser of the race reads the winner's. An unreadable key file is an error, never
    replaced: exports signed with it would no longer match the terminal's fingerprint.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_synced(fd, pem)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return _load_key(path)  # another process made one first: use theirs
            except OSError:  # a file system without hard links: create it exclusively instead
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    return _load_key(path)
                _write_synced(fd, pem)
            created = SigningKey(key, path)
            log.info("created this terminal's signing key %s (fingerprint %s)", path, created.fingerprint)
            return created
        finally:
            tmp.unlink(missing_ok=True)
    return _load_key(path)


def _write_synced(fd: int, data: bytes) -> None:
    """Write ``data`` to a newly created file, flush it to disk and close it."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _load_key(path: Path) -> SigningKey:
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("the signing key %s was readable by others (mode %o); now 0600", path, mode)
            os.chmod(path, 0o600)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not an unencrypted PEM private key"
        raise ExportError(f"the terminal's signing key {path} is unusable: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ExportError(f"the terminal's signing key {path} is not an Ed25519 key")
    return SigningKey(key, path)


def _public_key_of(text: str) -> bytes | None:
    """Raw public key bytes from base64 (32 bytes) or PEM text; None when neither."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            pub = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return None
        if not isinstance(pub, Ed25519PublicKey):
            return None
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def trusted_fingerprint(key: str) -> str:
    """A trusted key given as a fingerprint (64 hex digits), base64 public key or PEM, as a fingerprint."""
    k = key.strip().lower().replace(":", "")
    if len(k) == 64 and all(c in "0123456789abcdef" for c in k):
        return k
    raw = _public_key_of(key)
    if raw is None:
        raise ValueError("not an Ed25519 public key (PEM or base64) nor a fingerprint (64 hex digits)")
    return fingerprint_of(raw)


# -- manifest -------------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, UTF-8. The manifest holds no floats."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _iso(t: datetime) -> str:
    """UTC, millisecond precision, with a Z."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def local_time(t: datetime, zone: tzinfo, *, date: bool = True) -> str:
    """An instant in a zone for people: seconds, and milliseconds only when there are any."""
    t = t.astimezone(zone)
    text = t.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return text + (f".{t.microsecond // 1000:03d}" if t.microsecond // 1000 else "")


def _ms(d: timedelta) -> int:
    return round(d.total_seconds() * 1000)


def _software() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"HallWatch {version('hallwatch')}"
    except PackageNotFoundError:
        return "HallWatch (version unknown)"


def default_who() -> str:
    """The OS user, for when no operator is configured."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@dataclass(frozen=True, slots=True)
class Gap:
    start: datetime
    end: datetime
    reason: str

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_json(self) -> dict[str, Any]:
        return {"start": _iso(self.start), "end": _iso(self.end), "duration_ms": _ms(self.end - self.start),
                "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ExportResult:
    out_dir: Path
    video: Path
    manifest_path: Path
    manifest: Mapping[str, Any]
    requested: tuple[datetime, datetime]
    covered: tuple[datetime, datetime]
    video_bytes: int
    video_sha256: str
    frames: int
    segments: int
    gaps: tuple[Gap, ...]
    fingerprint: str
    elapsed_s: float

    @property
    def seconds(self) -> float:
        return (self.covered[1] - self.covered[0]).total_seconds()


# -- export ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Source:
    info: SegmentInfo
    rel: str
    size: int
    mtime_ns: int
    used_from: datetime | None = None
    used_to: datetime | None = None
    packets: int = 0


class _Reporter:
    """Progress as a fraction and words; calls at most every 0.1 s unless the words change."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last = 0.0
        self._words = ""

    def __call__(self, fraction: float, words: str, *, force: bool = False) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if force or words != self._words or now - self._last >= 0.1:
            self._last, self._words = now, words
            self._progress(min(1.0, max(0.0, fraction)), words)


def export(
    index: FootageIndex,
    camera_id: str,
    start: datetime,
    end: datetime,
    out_dir: Path,
    *,
    reason: str,
    who: str,
    terminal: str,
    key: SigningKey,
    progress: Progress | None = None,
    zone: tzinfo | None = None,
) -> ExportResult:
    """Export ``camera_id``'s footage over ``[start, end)`` into ``out_dir`` (created; must be empty).

    Raises :class:`NoFootageError` when the span holds no readable footage,
    :class:`SourceChangedError` when a source segment is gone or differs from the index, and
    :class:`ExportError` for anything else (the folder is not empty, the stream changed format
    inside the span, writing failed). On failure nothing is left behind in ``out_dir``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end <= start:
        raise ExportError(f"the span is empty: its end ({_iso(end)}) is not after its start ({_iso(start)})")
    zone = zone or ZoneInfo(HallConfig().timezone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    began = time.monotonic()
    report = _Reporter(progress)
    report(0.0, "looking up footage", force=True)

    created_dir = _prepare_dir(out_dir)
    name = f"{safe_name(camera_id)}_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.mp4"
    video = out_dir / name
    partial = out_dir / (name + _PARTIAL)
    manifest_path = out_dir / MANIFEST
    try:
        all_segments = index.segments(camera_id, start, end)
        usable = [s for s in all_segments if s.status in (SegmentStatus.CLOSED, SegmentStatus.RECOVERED)]
        if not usable:
            raise NoFootageError(_no_footage(camera_id, start, end, zone, all_segments))
        sources = _check_sources(index, usable, report)
        copy = _copy(sources, start, end, partial, report)
        if copy.frames == 0:
            raise NoFootageError(_no_footage(camera_id, start, end, zone, all_segments))
        report(0.92, "hashing the exported video")
        os.replace(partial, video)
        video_sha = sha256_file(video)
        video_bytes = video.stat().st_size
        used = [s for s in sources if s.packets]
        gaps = _gaps(index, camera_id, start, end, used, all_segments)
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "camera": _camera_json(index, camera_id),
            "requested": {"start": _iso(start), "end": _iso(end), "duration_ms": _ms(end - start)},
            "covered": {"start": _iso(copy.covered[0]), "end": _iso(copy.covered[1]),
                        "duration_ms": _ms(copy.covered[1] - copy.covered[0])},
            "timeline": "wall clock: the video's time t shows covered.start + t; gaps are not filled "
                        "(the last frame before a gap lasts until the footage resumes)",
            "video": {
                "file": name, "bytes": video_bytes, "sha256": video_sha, "container": "mp4",
                "codec": copy.codec, "profile": copy.profile, "width": copy.width, "height": copy.height,
                "frames": copy.frames, "duration_ms": copy.duration_ms, "reencoded": False,
            },
            "sources": [
                {"path": s.rel, "start": _iso(s.info.start), "end": _iso(s.info.end), "bytes": s.size,
                 "sha256": s.info.sha256, "status": s.info.status.value,
                 "used_from": _iso(s.used_from) if s.used_from else None,
                 "used_to": _iso(s.used_to) if s.used_to else None}
                for s in used
            ],
            "gaps": [g.as_json() for g in gaps],
            "exported": {
                "by": who, "reason": reason, "at": _iso(now),
                "at_local": now.astimezone(zone).isoformat(timespec="seconds"), "zone": str(zone),
                "terminal": terminal, "software": _software(),
            },
            "signer": {"algorithm": "Ed25519", "public_key": key.public_b64, "fingerprint": key.fingerprint},
        }
        report(0.98, "signing the manifest")
        signature = base64.b64encode(key.sign(canonical_json(body))).decode("ascii")
        manifest = {**body, "signature": signature}
        tmp = out_dir / (MANIFEST + _PARTIAL)
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, manifest_path)
    except BaseException:
        for f in (partial, video, manifest_path, out_dir / (MANIFEST + _PARTIAL)):
            f.unlink(missing_ok=True)
        if created_dir:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    elapsed = time.monotonic() - began
    report(1.0, "done", force=True)
    log.info("exported %s %s–%s to %s: %d frames from %d segments, %d gaps, %.2f s", camera_id, _iso(start),
             _iso(end), video, copy.frames, len(used), len(gaps), elapsed)
    return ExportResult(
        out_dir=out_dir, video=video, manifest_path=manifest_path, manifest=manifest, requested=(start, end),
        covered=copy.covered, video_bytes=video_bytes, video_sha256=video_sha, frames=copy.frames,
        segments=len(used), gaps=tuple(gaps), fingerprint=key.fingerprint, elapsed_s=elapsed,
    )


def _prepare_dir(out_dir: Path) -> bool:
    """Create ``out_dir`` or check that it is an empty folder; True when it was created."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ExportError(f"{out_dir} exists and is not a folder")
        if any(out_dir.iterdir()):
            raise ExportError(f"{out_dir} is not empty: evidence goes into a folder of its own")
        return False
    try:
        out_dir.mkdir(parents=True)
    except OSError as e:
        raise ExportError(f"cannot create {out_dir}: {e.strerror}") from None
    return True


def _no_footage(camera_id: str, start: datetime, end: datetime, zone: tzinfo, segments: Sequence[SegmentInfo]) -> str:
    span = f"{local_time(start, zone)} and {local_time(end, zone)} ({zone})"
    msg = f"no footage of camera {camera_id} between {span}"
    open_ = [s for s in segments if s.status is SegmentStatus.OPEN]
    bad = [s for s in segments if s.status in (SegmentStatus.MISSING, SegmentStatus.CORRUPT)]
    if open_:
        msg += "; the footage there is still being recorded (try again once its segment has closed)"
    if bad:
        msg += f"; {len(bad)} segments there are {'/'.join(sorted({s.status.value for s in bad}))}"
    return msg


def _check_sources(index: FootageIndex, segments: Sequence[SegmentInfo], report: _Reporter) -> list[_Source]:
    """Hash every source segment again; refuse (and mark in the index) any that is gone or changed."""
    total = sum(max(s.bytes, 1) for s in segments)
    done = 0
    sources: list[_Source] = []
    bad: list[str] = []
    for i, seg in enumerate(segments):
        rel = _relpath(index, seg.path)
        report(0.4 * done / total, f"checking source segment {i + 1} of {len(segments)}")
        problem: str | None = None
        status = SegmentStatus.CORRUPT
        st: os.stat_result | None = None
        try:
            st = seg.path.stat()
        except FileNotFoundError:
            problem, status = "the file is gone", SegmentStatus.MISSING
        if st is not None:
            if seg.sha256 is None:
                problem = "no SHA-256 was recorded for it, so it cannot be checked"
            elif st.st_size != seg.bytes:
                problem = f"the file has {st.st_size} bytes, {seg.bytes} were recorded"
            elif sha256_file(seg.path) != seg.sha256:
                problem = "the file's SHA-256 differs from the one recorded when it was closed"
        if problem is not None or st is None:
            problem = problem or "unreadable"
            bad.append(f"{rel}: {problem}")
            if seg.sha256 is not None:  # a file without a recorded hash is not known to be corrupt
                index.mark(seg.id, status, f"{problem} (found by an evidence export)")
            log.info("evidence export: source segment %s: %s", rel, problem)
        else:
            sources.append(_Source(info=seg, rel=rel, size=st.st_size, mtime_ns=st.st_mtime_ns))
        done += max(seg.bytes, 1)
    if bad:
        names = "; ".join(bad)
        raise SourceChangedError(
            f"refused: {len(bad)} source segment{'s' if len(bad) > 1 else ''} failed the integrity check — {names}",
            [b.split(":", 1)[0] for b in bad],
        )
    return sources


def _relpath(index: FootageIndex, path: Path) -> str:
    try:
        return path.relative_to(index.root).as_posix()
    except ValueError:
        return path.name


@dataclass(slots=True)
class _Copy:
    frames: int = 0
    covered: tuple[datetime, datetime] = (datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))
    duration_ms: int = 0
    codec: str = ""
    profile: str | None = None
    width: int = 0
    height: int = 0
    skipped: int = 0


class _Writer:
    """The output MP4 and its timeline (see :func:`_copy`). Per packet only integer arithmetic."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.out = av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"})
        self.stream: Any = None
        self.tb = Fraction(1, 90000)
        self.tolerance = 0
        self.origin: datetime | None = None  # the wall time of output dts 0
        self.last_dts: int | None = None
        self.next_dts: int | None = None  # where the next packet follows without a seam
        self.end = 0  # the output's end: max(pts + duration)
        self.first_wall: datetime | None = None
        self.last_wall: datetime | None = None
        self.frames = 0
        # the segment being copied: timestamps relative to its zero, in output ticks
        self._seg_start = datetime.min.replace(tzinfo=UTC)
        self._ratio = Fraction(1)  # input ticks → output ticks
        self._zero = 0
        self._offset: int | None = None
        self._default_dur = 1
        self._lo: int | None = None  # earliest presentation in the segment
        self._hi = 0  # latest presentation end in the segment

    def add_stream(self, template: Any, tb: Fraction) -> None:
        self.stream = self.out.add_stream_from_template(template)
        if template.codec_context.name == "hevc":
            self.stream.codec_tag = "hvc1"  # what Apple's players require; others take either
        self.tb = tb
        self.stream.time_base = tb
        self.tolerance = round(GAP_TOLERANCE.total_seconds() / tb)

    def begin_segment(self, seg_start: datetime, tb: Fraction, zero: int, default_dur: int) -> None:
        self._seg_start, self._ratio, self._zero = seg_start, tb / self.tb, zero
        self._default_dur = default_dur  # input ticks
        self._offset, self._lo, self._hi = None, None, 0

    def write(self, packet: Any) -> None:
        in_dts = packet.dts if packet.dts is not None else packet.pts
        in_pts = packet.pts if packet.pts is not None else in_dts
        rel_dts, rel_pts, dur = in_dts - self._zero, in_pts - self._zero, packet.duration or self._default_dur
        if self._ratio != 1:
            rel_dts, rel_pts, dur = round(rel_dts * self._ratio), round(rel_pts * self._ratio), round(dur * self._ratio)
        if self.origin is None:
            self.origin = self._seg_start + timedelta(seconds=float(rel_dts * self.tb))
        if self._offset is None:
            offset = round((self._seg_start - self.origin).total_seconds() / self.tb)
            first = offset + rel_dts
            if self.next_dts is not None and first - self.next_dts <= self.tolerance:
                offset += self.next_dts - first  # contiguous, jittered or overlapping: no seam, never back
            self._offset = offset
        dts = self._offset + rel_dts
        if self.last_dts is not None and dts <= self.last_dts:
            dts = self.last_dts + 1  # a repeated timestamp must not stop the muxer
        pts = max(self._offset + rel_pts, dts)
        self._lo = rel_pts if self._lo is None else min(self._lo, rel_pts)
        self._hi = max(self._hi, rel_pts + dur)
        packet.stream = self.stream
        packet.time_base = self.tb
        packet.dts, packet.pts, packet.duration = dts, pts, dur
        self.out.mux(packet)
        self.last_dts, self.next_dts = dts, dts + dur
        self.end = max(self.end, pts + dur)
        self.frames += 1

    def end_segment(self, src: _Source, packets: int) -> None:
        """Note which part of the segment went into the output (by its own wall clock)."""
        src.packets = packets
        if self._lo is None:
            return
        tick = float(self.tb)
        src.used_from = self._seg_start + timedelta(seconds=self._lo * tick)
        src.used_to = self._seg_start + timedelta(seconds=self._hi * tick)
        self.first_wall = src.used_from if self.first_wall is None else min(self.first_wall, src.used_from)
        self.last_wall = src.used_to if self.last_wall is None else max(self.last_wall, src.used_to)

    def close(self) -> None:
        self.out.close()


def _copy(sources: Sequence[_Source], start: datetime, end: datetime, target: Path, report: _Reporter) -> _Copy:
    """Remux the sources' packets over ``[start, end)`` into ``target`` (MP4, faststart).

    The first packet written is the keyframe at or before ``start``; the last is the last one whose
    decode time is before ``end``. Output time 0 is the first frame's wall time; each segment is
    placed at its own wall time, snapped onto the previous segment's end when within
    :data:`GAP_TOLERANCE` of it (so contiguous footage has no seam and timestamps never go back).
    """
    result = _Copy()
    total = sum(max(s.size, 1) for s in sources)
    done = 0
    w = _Writer(target)
    try:
        for n, src in enumerate(sources):
            words = f"copying segment {n + 1} of {len(sources)}"
            report(0.4 + 0.5 * done / total, words)
            base = done

            def at(pos: int, base: int = base, words: str = words) -> None:
                report(0.4 + 0.5 * (base + pos) / total, words)

            _copy_segment(w, src, start, end, result, at)
            done += max(src.size, 1)
        w.close()
    except BaseException as e:
        with contextlib.suppress(av.error.FFmpegError, OSError):
            w.close()
        if isinstance(e, av.error.FFmpegError):
            raise ExportError(f"writing {target.name} failed: {e.strerror or e}") from None
        raise
    result.frames = w.frames
    if w.first_wall is not None and w.last_wall is not None:
        result.covered = (w.first_wall, w.last_wall)
        result.duration_ms = round(w.end * w.tb * 1000)
    if result.skipped:
        log.warning("evidence export: %d packets without timestamps were left out", result.skipped)
    return result


def _copy_segment(
    w: _Writer, src: _Source, start: datetime, end: datetime, result: _Copy, at: Callable[[int], None]
) -> None:
    seg = src.info
    st = seg.path.stat()
    if (st.st_size, st.st_mtime_ns) != (src.size, src.mtime_ns):
        raise SourceChangedError(f"refused: source segment {src.rel} changed during the export", [src.rel])
    try:
        container = av.open(str(seg.path))
    except av.error.FFmpegError as e:
        raise ExportError(f"cannot read source segment {src.rel}: {e.strerror or e}") from None
    with container:
        if not container.streams.video:
            raise ExportError(f"source segment {src.rel} holds no video")
        v = container.streams.video[0]
        cc = v.codec_context
        tb = Fraction(v.time_base) if v.time_base else Fraction(1, 90000)
        if w.stream is None:
            w.add_stream(v, tb)
            result.codec, result.profile, result.width, result.height = cc.name, cc.profile, cc.width, cc.height
        elif (cc.name, cc.width, cc.height) != (result.codec, result.width, result.height):
            raise ExportError(
                f"the stream changes from {result.codec} {result.width}×{result.height} to {cc.name} "
                f"{cc.width}×{cc.height} at {_iso(seg.start)} (segment {src.rel}): export the spans before and "
                "after that moment separately"
            )
        rate = v.average_rate or v.guessed_rate or 25
        default_dur = max(1, round(1 / (Fraction(rate) * tb)))
        tick = float(tb)
        rel_start = (start - seg.start).total_seconds() / tick  # in input ticks from the segment's zero
        rel_end = (end - seg.start).total_seconds() / tick
        started = w.last_dts is not None  # something is written: this segment goes from its first keyframe
        keyed = False  # this segment's first keyframe was seen
        pending: list[Any] | None = None  # before anything is written: the GOP that may hold `start`
        zero: int | None = None
        before = w.frames
        for p in container.demux(v):
            if p.size == 0:
                continue
            ts = p.dts if p.dts is not None else p.pts
            if ts is None:
                result.skipped += 1
                continue
            if zero is None:
                zero = p.pts if p.pts is not None else ts
                w.begin_segment(seg.start, tb, zero, default_dur)
            if ts - zero >= rel_end:
                break
            if p.pos is not None and p.pos > 0 and p.is_keyframe:
                at(min(p.pos, src.size))
            if not started:
                pts = p.pts if p.pts is not None else ts
                if p.is_keyframe and pts - zero <= rel_start:
                    pending = [p]  # a later keyframe at or before `start` replaces it
                    continue
                if not p.is_keyframe:
                    if pending is not None:
                        pending.append(p)
                    continue
                started = keyed = True
                for q in pending or ():
                    w.write(q)
                pending = None
            keyed = keyed or p.is_keyframe
            if keyed:  # (leading frames without their keyframe cannot be decoded)
                w.write(p)
        if not started and pending:
            for q in pending:  # `start` lies in this segment's last GOP
                w.write(q)
        w.end_segment(src, w.frames - before)


def _gaps(
    index: FootageIndex, camera_id: str, start: datetime, end: datetime, used: Sequence[_Source],
    all_segments: Sequence[SegmentInfo],
) -> list[Gap]:
    """The parts of ``[start, end)`` without exported footage, each with the reasons the store knows."""
    holes: list[tuple[datetime, datetime]] = []
    cursor = start
    for s in used:
        assert s.used_from is not None and s.used_to is not None
        if s.used_from - cursor > GAP_TOLERANCE:
            holes.append((cursor, s.used_from))
        cursor = max(cursor, s.used_to)
    if end - cursor > GAP_TOLERANCE:
        holes.append((cursor, end))
    if not holes:
        return []
    known: list[tuple[datetime, datetime, str]] = [(a, b if b is not None else end, why)
                                                   for a, b, why in index.gaps(camera_id, start, end)]
    for seg in all_segments:
        if seg.status is SegmentStatus.OPEN:
            known.append((seg.start, seg.end, f"still being recorded ({seg.path.name} is not closed yet)"))
        elif seg.status in (SegmentStatus.MISSING, SegmentStatus.CORRUPT):
            known.append((seg.start, seg.end,
                          f"{seg.path.name} is {seg.status.value}" + (f": {seg.problem}" if seg.problem else "")))
    gaps: list[Gap] = []
    for a, b in holes:
        gaps.extend(_explained(a, b, known))
    return gaps


def _explained(a: datetime, b: datetime, known: Sequence[tuple[datetime, datetime, str]]) -> list[Gap]:
    """The hole ``[a, b)`` cut where what the store knows about it changes, each piece with its reasons.

    Footage pruned for space, a recording failure and a span never recorded are different gaps
    even when they touch: one reason must not stand for the whole hole. Pieces shorter than
    :data:`GAP_TOLERANCE` (clock jitter at the edges) join their neighbour.
    """
    inside = [(max(a, s), min(b, e), why) for s, e, why in known if s < b and e > a]
    cuts = sorted({a, b, *(s for s, _e, _w in inside), *(e for _s, e, _w in inside)})
    pieces: list[tuple[datetime, datetime, list[str]]] = []
    for lo, hi in pairwise(cuts):
        reasons: list[str] = []
        for s, e, why in inside:
            if s <= lo and e >= hi and why not in reasons:
                reasons.append(why)
        if pieces and (pieces[-1][2] == reasons or hi - lo < GAP_TOLERANCE):
            pieces[-1] = (pieces[-1][0], hi, pieces[-1][2])
        elif pieces and pieces[-1][1] - pieces[-1][0] < GAP_TOLERANCE:
            pieces[-1] = (pieces[-1][0], hi, reasons)
        else:
            pieces.append((lo, hi, reasons))
    return [Gap(lo, hi, "; ".join(reasons) or "no footage was recorded") for lo, hi, reasons in pieces]


def _camera_json(index: FootageIndex, camera_id: str) -> dict[str, Any]:
    """The camera's id, and its name and window when the store knows them."""
    out: dict[str, Any] = {"id": camera_id, "name": None, "window_id": None, "window": None}
    with index.store.read() as s:
        cam = s.scalars(select(CameraRow).where(CameraRow.id == camera_id, CameraRow.deleted.is_(False))).first()
        if cam is None:
            return out
        out["name"], out["window_id"] = cam.name, cam.window_id
        if cam.window_id:
            win = s.scalars(select(Window).where(Window.id == cam.window_id, Window.deleted.is_(False))).first()
            if win is not None:
                out["window"] = " ".join(x for x in (win.number, win.name) if x) or None
    return out


# -- verify ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify` found: ``ok``, or ``problems`` in words (each names what changed)."""

    out_dir: Path
    problems: tuple[str, ...]
    manifest: Mapping[str, Any] | None = None  # as read (None when unreadable)
    signature_valid: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fingerprint(self) -> str | None:
        signer = (self.manifest or {}).get("signer")
        fp = signer.get("fingerprint") if isinstance(signer, Mapping) else None
        return fp if isinstance(fp, str) else None

    def summary(self) -> list[str]:
        """The manifest in a few lines (camera, span, who, why, when, signer) for people to read."""
        m = self.manifest
        if not isinstance(m, Mapping):
            return []
        try:
            exported = m["exported"]
            zone: tzinfo
            try:
                zone = ZoneInfo(str(exported.get("zone") or "UTC"))
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC

            def t(text: str) -> str:
                return local_time(datetime.fromisoformat(text), zone)

            cam = m["camera"]
            name = ", ".join(str(x) for x in (cam.get("name"), cam.get("window")) if x)
            req, cov, video = m["requested"], m["covered"], m["video"]
            lines = [
                f"camera:  {cam['id']}" + (f" ({name})" if name else ""),
                f"span:    {t(req['start'])} – {t(req['end'])} {zone} requested; "
                f"covered {t(cov['start'])} – {t(cov['end'])} ({cov['duration_ms'] / 1000:.1f} s)",
                f"video:   {video['file']}, {video['codec']} {video['width']}×{video['height']}, "
                f"{video['frames']} frames, {video['bytes']} bytes, SHA-256 {video['sha256']}",
                f"sources: {len(m['sources'])} segments; gaps: {len(m['gaps'])}",
            ]
            lines += [f"  gap {t(g['start'])} – {t(g['end'])}: {g['reason']}" for g in m["gaps"]]
            lines += [
                f"who:     {exported['by']}",
                f"why:     {exported['reason'] or '(no reason given)'}",
                f"when:    {t(exported['at'])} {zone} on terminal {exported['terminal']} ({exported['software']})",
                f"signed:  Ed25519 key {self.fingerprint}",
            ]
            return lines
        except (KeyError, TypeError, ValueError, AttributeError):
            return ["(the manifest's fields are not all readable)"]


_REQUIRED: dict[str, type] = {
    "format": str, "version": int, "camera": dict, "requested": dict, "covered": dict, "video": dict,
    "sources": list, "gaps": list, "exported": dict, "signer": dict, "signature": str,
}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"the key {k!r} appears twice")
        seen[k] = v
    return seen


def _not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is not evidence (a symbolic link, a folder, a device…), or None for a regular file.

    Evidence is regular files inside the folder: a link could point anywhere, and what it points at
    can change without the folder changing.
    """
    try:
        st = path.lstat()
    except OSError as e:
        return f"cannot be read: {e.strerror}"
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"is a symbolic link (to {_clip(target, 200)}), not a file in the evidence folder"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return None


def _clip(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters of ``text`` (a hostile manifest can make error text very long)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verify(out_dir: Path, *, trusted: str | None = None) -> VerifyResult:
    """Check an evidence folder written by :func:`export`.

    Names each problem: the manifest missing, unparseable or not a manifest; its signature invalid
    (the manifest changed after it was signed); the video missing or changed (size or SHA-256); the
    manifest or the video not a regular file in the folder (a symbolic link to anywhere is not
    evidence); a file in the folder the manifest does not list; the signer not the ``trusted`` key
    (a fingerprint, or an Ed25519 public key as PEM or base64).
    """
    problems: list[str] = []
    trusted_fp: str | None = None
    if trusted is not None:
        try:
            trusted_fp = trusted_fingerprint(trusted)
        except ValueError as e:
            problems.append(f"the trusted key given is unusable: {e}")
    if not out_dir.is_dir():
        return VerifyResult(out_dir, (*problems, f"{out_dir} is not a folder"))
    mpath = out_dir / MANIFEST
    if not os.path.lexists(mpath):
        names = sorted(p.name for p in out_dir.iterdir())
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is missing" + (
            f" (the folder holds {', '.join(names)})" if names else " (the folder is empty)")))
    not_evidence = _not_a_regular_file(mpath)
    if not_evidence is not None:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} {not_evidence}"))
    try:
        raw = json.loads(mpath.read_bytes().decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is unparseable: not UTF-8 text (it was changed)"))
    except RecursionError:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is unparseable: nested too deeply (it was changed)"))
    except ValueError as e:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is unparseable: {_clip(str(e))} (it was changed)"))
    if not isinstance(raw, dict):
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is not an evidence manifest (not a JSON object)"))
    manifest: dict[str, Any] = raw
    wrong = [k for k, typ in _REQUIRED.items() if not isinstance(manifest.get(k), typ)]
    if manifest.get("format") != FORMAT:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is not a HallWatch evidence manifest"), manifest)
    if wrong:
        return VerifyResult(out_dir, (*problems, f"{MANIFEST} is not a complete evidence manifest: "
                                      f"{', '.join(wrong)} missing or of the wrong type (it was changed)"), manifest)
    if manifest["version"] != FORMAT_VERSION:
        problems.append(f"{MANIFEST} has format version {manifest['version']}; this HallWatch reads {FORMAT_VERSION}")

    # The signature over everything else.
    signature_valid = False
    signer = manifest["signer"]
    public_raw = _public_key_of(str(signer.get("public_key", "")))
    if signer.get("algorithm") != "Ed25519" or public_raw is None:
        problems.append(f"{MANIFEST}: the signer's public key is unusable (it was changed)")
    else:
        if signer.get("fingerprint") != fingerprint_of(public_raw):
            problems.append(f"{MANIFEST}: the signer's fingerprint does not belong to its public key (it was changed)")
        body = {k: v for k, v in manifest.items() if k != "signature"}
        try:
            Ed25519PublicKey.from_public_bytes(public_raw).verify(
                base64.b64decode(manifest["signature"], validate=True), canonical_json(body))
            signature_valid = True
        except (InvalidSignature, ValueError):
            problems.append(f"{MANIFEST} was changed after it was signed: the signature is invalid")
        fp = fingerprint_of(public_raw)
        if trusted_fp is not None and fp != trusted_fp:
            problems.append(f"signed by key {fp}, not by the trusted key {trusted_fp}")

    # The video it describes.
    video = manifest["video"]
    name = video.get("file")
    listed = {MANIFEST}
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        problems.append(f"{MANIFEST} names no valid video file (it was changed)")
    else:
        listed.add(name)
        vpath = out_dir / name
        not_evidence = _not_a_regular_file(vpath) if os.path.lexists(vpath) else None
        if not os.path.lexists(vpath):
            problems.append(f"the video {name} is missing")
        elif not_evidence is not None:
            problems.append(f"the video {name} {not_evidence}")
        else:
            size = vpath.stat().st_size
            if size != video.get("bytes"):
                problems.append(
                    f"the video {name} was changed: it has {size} bytes, the manifest says {video.get('bytes')}"
                )
            elif sha256_file(vpath) != video.get("sha256"):
                problems.append(f"the video {name} was changed: its SHA-256 differs from the manifest's")

    # Nothing else belongs in the folder.
    for p in sorted(out_dir.iterdir()):
        if p.name not in listed:
            kind = "symbolic link" if p.is_symlink() else "folder" if p.is_dir() else "file"
            problems.append(f"unknown {kind} {p.name} in the evidence folder (not listed in the manifest)")
    return VerifyResult(out_dir, tuple(problems), manifest, signature_valid)
