"""Evidence export: recorded footage stream-copied into an MP4 per camera, with records and one signed manifest."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import av.error
from sqlalchemy import select

from supervision.config import HallConfig
from supervision.store.footage import SegmentStatus
from supervision.store.models import CameraRow, Window
from video.export.errors import ExportCancelled, ExportError, NoFootageError, SourceChangedError
from video.export.keys import SigningKey
from video.export.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    canonical_json,
    duration_ms,
    iso_utc,
    local_time,
    software_name,
)
from video.footage import FootageIndex, SegmentInfo, safe_name, sha256_file

log = logging.getLogger(__name__)


#: Holes shorter than this between segments are the capture-clock estimate's jitter, not gaps.
GAP_TOLERANCE = timedelta(milliseconds=500)


_PARTIAL = ".partial"


Progress = Callable[[float, str], None]


Cancel = Callable[[], bool]


@dataclass(frozen=True, slots=True)
class ExportGap:
    """A span of an export without footage, and why (the manifest lists each)."""

    start: datetime
    end: datetime
    reason: str

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_json(self) -> dict[str, Any]:
        return {"start": iso_utc(self.start), "end": iso_utc(self.end),
                "duration_ms": duration_ms(self.end - self.start), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CameraExport:
    """One camera's footage in an export: its MP4 and what went into it."""

    camera_id: str
    video: Path
    covered: tuple[datetime, datetime]
    video_bytes: int
    video_sha256: str
    frames: int
    segments: int
    gaps: tuple[ExportGap, ...]

    @property
    def seconds(self) -> float:
        return (self.covered[1] - self.covered[0]).total_seconds()


@dataclass(frozen=True, slots=True)
class ExportResult:
    """An evidence folder written: a video per camera with footage, the records, the signed manifest.

    ``missing`` names the cameras asked for that had no footage in the span (with why, in words);
    ``files`` every file of the folder besides the manifest. The single-camera properties
    (``video``, ``covered``, ``frames``…) are the first camera's.
    """

    out_dir: Path
    manifest_path: Path
    manifest: Mapping[str, Any]
    requested: tuple[datetime, datetime]
    videos: tuple[CameraExport, ...]
    missing: tuple[tuple[str, str], ...]
    files: tuple[str, ...]
    fingerprint: str
    elapsed_s: float

    @property
    def video(self) -> Path:
        return self.videos[0].video

    @property
    def covered(self) -> tuple[datetime, datetime]:
        return self.videos[0].covered

    @property
    def video_bytes(self) -> int:
        return self.videos[0].video_bytes

    @property
    def video_sha256(self) -> str:
        return self.videos[0].video_sha256

    @property
    def frames(self) -> int:
        return self.videos[0].frames

    @property
    def segments(self) -> int:
        return self.videos[0].segments

    @property
    def gaps(self) -> tuple[ExportGap, ...]:
        return self.videos[0].gaps

    @property
    def seconds(self) -> float:
        return self.videos[0].seconds


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
    """Progress as a fraction and words; calls at most every 0.1 s unless the words change.

    Every call first asks ``cancel``: once it says so, :class:`ExportCancelled` is raised (the
    export then removes what it wrote). ``scale`` maps a part's own 0..1 into the whole's.
    """

    def __init__(self, progress: Progress | None, cancel: Cancel | None = None) -> None:
        self._progress = progress
        self._cancel = cancel
        self._last = 0.0
        self._words = ""
        self._lo, self._hi, self._prefix = 0.0, 1.0, ""

    def part(self, lo: float, hi: float, prefix: str = "") -> None:
        """From now on a fraction f means lo + f·(hi − lo) of the whole, and words get ``prefix``."""
        self._lo, self._hi, self._prefix = lo, hi, prefix

    def check(self) -> None:
        if self._cancel is not None and self._cancel():
            raise ExportCancelled("the export was cancelled")

    def __call__(self, fraction: float, words: str, *, force: bool = False) -> None:
        self.check()
        if self._progress is None:
            return
        fraction = self._lo + (self._hi - self._lo) * min(1.0, max(0.0, fraction))
        words = self._prefix + words
        now = time.monotonic()
        if force or words != self._words or now - self._last >= 0.1:
            self._last, self._words = now, words
            self._progress(min(1.0, max(0.0, fraction)), words)


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export and on whose word: ``camera_id``'s footage over ``[start, end)`` (aware instants)
    into ``out_dir`` (created; must be empty), why, by whom, on which terminal, signed with ``key``.

    ``zone`` is the hall's, for the manifest's local times (default: the configuration's default);
    ``progress`` is told the fraction done and what is happening, in words; ``cancel`` is asked
    now and then whether to give up (then nothing is left behind and :class:`ExportCancelled` is raised).
    """

    camera_id: str
    start: datetime
    end: datetime
    out_dir: Path
    reason: str
    who: str
    terminal: str
    key: SigningKey
    zone: tzinfo | None = None
    progress: Progress | None = None
    cancel: Cancel | None = None


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    """An evidence folder of several cameras over one span, with records beside the footage.

    ``cameras``: the camera ids, in order (at least one; duplicates are dropped). ``records``: file
    name → JSON value, each written as that file (a plain name ending in ``.json``) and listed in
    the manifest. ``kind`` says what the folder is ("footage", "complaint_dossier") and ``subject``
    what it is about (the dossier's complaint and how its span was chosen); both go into the
    signed manifest. The rest as in :class:`ExportRequest`.
    """

    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    out_dir: Path
    reason: str
    who: str
    terminal: str
    key: SigningKey
    zone: tzinfo | None = None
    progress: Progress | None = None
    cancel: Cancel | None = None
    kind: str = "footage"
    subject: Mapping[str, Any] | None = None
    records: Mapping[str, Any] = field(default_factory=dict)


def export(index: FootageIndex, request: ExportRequest) -> ExportResult:
    """Export the request's camera's footage over ``[start, end)`` into its ``out_dir`` (created; must be empty).

    Raises :class:`NoFootageError` when the span holds no readable footage,
    :class:`SourceChangedError` when a source segment is gone or differs from the index,
    :class:`ExportCancelled` when ``cancel`` said so, and :class:`ExportError` for anything else
    (the folder is not empty, the stream changed format inside the span, writing failed). On
    failure nothing is left behind in ``out_dir``.
    """
    r = request
    return export_evidence(index, EvidenceRequest(
        (r.camera_id,), r.start, r.end, r.out_dir, reason=r.reason, who=r.who, terminal=r.terminal, key=r.key,
        zone=r.zone, progress=r.progress, cancel=r.cancel,
    ))


def export_evidence(index: FootageIndex, request: EvidenceRequest) -> ExportResult:
    """Write an evidence folder (manifest format 2): a stream-copied MP4 per camera with footage in
    ``[start, end)``, the request's records as JSON files, and ``manifest.json`` listing every file
    with its size and SHA-256, signed.

    A camera without footage in the span is named in the manifest (``missing``) — unless none has
    any: then :class:`NoFootageError`. Otherwise raises as :func:`export` does; on failure or
    cancellation nothing is left behind in ``out_dir`` (and a folder it created is removed).
    """
    start, end, out_dir, key = request.start, request.end, request.out_dir, request.key
    cameras = tuple(dict.fromkeys(request.cameras))
    if not cameras:
        raise ExportError("no camera to export")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end <= start:
        raise ExportError(f"the span is empty: its end ({iso_utc(end)}) is not after its start ({iso_utc(start)})")
    for name in request.records:
        if not _plain_name(name) or not name.endswith(".json") or name == MANIFEST:
            raise ValueError(f"not a record file name: {name!r}")
    zone = request.zone or ZoneInfo(HallConfig().timezone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    began = time.monotonic()
    report = _Reporter(request.progress, request.cancel)
    report(0.0, "looking up footage", force=True)

    created_dir = _prepare_dir(out_dir)
    manifest_path = out_dir / MANIFEST
    written: list[Path] = []  # everything this export put in out_dir (removed again on failure)
    try:
        videos: list[CameraExport] = []
        camera_parts: list[dict[str, Any]] = []
        missing: list[tuple[str, str]] = []
        n = len(cameras)
        for i, camera_id in enumerate(cameras):
            report.part(0.9 * i / n, 0.9 * (i + 1) / n, f"camera {i + 1} of {n}: " if n > 1 else "")
            try:
                part, video = _export_camera(index, camera_id, start, end, out_dir, zone, report, written)
            except NoFootageError as e:
                if n == 1:
                    raise
                missing.append((camera_id, str(e)))
                camera_parts.append({"camera": _camera_json(index, camera_id), "missing": str(e)})
                continue
            videos.append(video)
            camera_parts.append(part)
        report.part(0.9, 1.0)
        if not videos:
            raise NoFootageError("; ".join(why for _c, why in missing))
        files: dict[str, dict[str, Any]] = {
            v.video.name: {"path": v.video.name, "bytes": v.video_bytes, "sha256": v.video_sha256} for v in videos
        }
        records: list[dict[str, Any]] = []
        for name, value in request.records.items():
            report(0.5, f"writing {name}")
            data = (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
            path = out_dir / name
            written.append(path)
            with path.open("xb") as out:
                out.write(data)
            files[name] = {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            records.append({"file": name})
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": request.kind,
            "requested": {"start": iso_utc(start), "end": iso_utc(end), "duration_ms": duration_ms(end - start)},
            "timeline": "wall clock: each video's time t shows its covered.start + t; gaps are not filled "
                        "(the last frame before a gap lasts until the footage resumes)",
            "cameras": camera_parts,
            "records": records,
            "files": [files[k] for k in sorted(files)],
            "exported": {
                "by": request.who, "reason": request.reason, "at": iso_utc(now),
                "at_local": now.astimezone(zone).isoformat(timespec="seconds"), "zone": str(zone),
                "terminal": request.terminal, "software": software_name(),
            },
            "signer": {"algorithm": "Ed25519", "public_key": key.public_b64, "fingerprint": key.fingerprint},
        }
        if request.subject is not None:
            body["subject"] = dict(request.subject)
        report(0.98, "signing the manifest")
        signature = base64.b64encode(key.sign(canonical_json(body))).decode("ascii")
        manifest = {**body, "signature": signature}
        tmp = out_dir / (MANIFEST + _PARTIAL)
        written += [tmp, manifest_path]
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        report.check()
        os.replace(tmp, manifest_path)
    except BaseException as e:
        for leftover in written:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        if created_dir:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        if isinstance(e, ExportCancelled):
            log.info("evidence export to %s cancelled; nothing was left behind", out_dir)
        raise
    elapsed = time.monotonic() - began
    report(1.0, "done", force=True)
    log.info("exported %s %s–%s to %s: %d videos (%d frames), %d records, %d cameras without footage, %.2f s",
             ", ".join(cameras), iso_utc(start), iso_utc(end), out_dir, len(videos), sum(v.frames for v in videos),
             len(records), len(missing), elapsed)
    return ExportResult(
        out_dir=out_dir, manifest_path=manifest_path, manifest=manifest, requested=(start, end),
        videos=tuple(videos), missing=tuple(missing), files=tuple(sorted(files)), fingerprint=key.fingerprint,
        elapsed_s=elapsed,
    )


def _plain_name(name: str) -> bool:
    return bool(name) and Path(name).name == name and name not in (".", "..") and "\\" not in name


def _export_camera(
    index: FootageIndex, camera_id: str, start: datetime, end: datetime, out_dir: Path, zone: tzinfo,
    report: _Reporter, written: list[Path],
) -> tuple[dict[str, Any], CameraExport]:
    """One camera's MP4 in ``out_dir`` and its part of the manifest (files it writes go into ``written``)."""
    name = f"{safe_name(camera_id)}_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.mp4"
    video = out_dir / name
    partial = out_dir / (name + _PARTIAL)
    written += [partial, video]
    report(0.0, "looking up footage")
    all_segments = index.segments(camera_id, start, end)
    usable = [s for s in all_segments if s.status in (SegmentStatus.CLOSED, SegmentStatus.RECOVERED)]
    if not usable:
        raise NoFootageError(_no_footage(camera_id, start, end, zone, all_segments))
    sources = _check_sources(index, usable, report)
    copy = _copy(sources, start, end, partial, report)
    if copy.frames == 0:
        partial.unlink(missing_ok=True)
        raise NoFootageError(_no_footage(camera_id, start, end, zone, all_segments))
    report(0.92, "hashing the exported video")
    os.replace(partial, video)
    video_sha = sha256_file(video)
    video_bytes = video.stat().st_size
    report.check()
    used = [s for s in sources if s.packets]
    gaps = _gaps(index, camera_id, start, end, used, all_segments)
    part: dict[str, Any] = {
        "camera": _camera_json(index, camera_id),
        "covered": {"start": iso_utc(copy.covered[0]), "end": iso_utc(copy.covered[1]),
                    "duration_ms": duration_ms(copy.covered[1] - copy.covered[0])},
        "video": {
            "file": name, "bytes": video_bytes, "sha256": video_sha, "container": "mp4",
            "codec": copy.codec, "profile": copy.profile, "width": copy.width, "height": copy.height,
            "frames": copy.frames, "duration_ms": copy.duration_ms, "reencoded": False,
        },
        "sources": [
            {"path": s.rel, "start": iso_utc(s.info.start), "end": iso_utc(s.info.end), "bytes": s.size,
             "sha256": s.info.sha256, "status": s.info.status.value,
             "used_from": iso_utc(s.used_from) if s.used_from else None,
             "used_to": iso_utc(s.used_to) if s.used_to else None}
            for s in used
        ],
        "gaps": [g.as_json() for g in gaps],
    }
    log.info("exported %s %s–%s to %s: %d frames from %d segments, %d gaps", camera_id, iso_utc(start),
             iso_utc(end), video, copy.frames, len(used), len(gaps))
    return part, CameraExport(camera_id, video, copy.covered, video_bytes, video_sha, copy.frames, len(used),
                              tuple(gaps))


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
                f"{cc.width}×{cc.height} at {iso_utc(seg.start)} (segment {src.rel}): export the spans before and "
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
) -> list[ExportGap]:
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
    gaps: list[ExportGap] = []
    for a, b in holes:
        gaps.extend(_explained(a, b, known))
    return gaps


def _explained(a: datetime, b: datetime, known: Sequence[tuple[datetime, datetime, str]]) -> list[ExportGap]:
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
    return [ExportGap(lo, hi, "; ".join(reasons) or "no footage was recorded") for lo, hi, reasons in pieces]


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
