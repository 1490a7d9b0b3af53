"""Evidence export and verification: stream copy, manifest, signature, tamper detection, the CLI.

The footage is made without a camera: synthetic clips written at the paths the recorder would use
and indexed through :class:`FootageIndex`, five 3 s segments of one camera at 09:00:00 (hall time),
09:00:03, 09:00:06, then a gap (the camera reconnected), 09:00:12 and 09:00:15, and from 09:00:18 one
still being recorded. The clips are H.264,
25 fps, a keyframe every second, so a GOP is 1 s.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import pytest

from supervision.store import open_store
from supervision.store.footage import SegmentStatus
from supervision.store.models import CameraRow, Window
from tests.video.tmpfs import fill, small_disk
from video.export import (
    MANIFEST,
    EvidenceRequest,
    ExportCancelled,
    ExportError,
    ExportRequest,
    NoFootageError,
    SigningKey,
    SourceChangedError,
    canonical_json,
    export,
    export_evidence,
    load_or_create_key,
    verify,
)
from video.footage import FootageIndex, safe_name, segment_relpath
from video.retention import Retention, RetentionPolicy
from video.synthetic import write_file

ROOT = Path(__file__).resolve().parents[2]
CAMERA = "hall-1/A01"
CAMERA2 = "hall-1/overview"
FORMAT_1 = Path(__file__).parent / "data" / "evidence_format1"  # written by the format-1 exporter (commit 920607b)
T0 = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)  # 09:00:00 in Asia/Shanghai
SEG_S = 3
STARTS = [0, 3, 6, 12, 15]  # seconds after T0; 9–12 is a gap; 18–20 is being recorded
W, H, FPS = 320, 180, 25
GOP_S = 1.0
REASON = "complaint 17: applicant waited at window A01"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the store (camera, window, segments, gap) and the segment files."""
    data = tmp_path_factory.mktemp("footage-template")
    store = open_store(data / "hallwatch.db")
    try:
        with store.write() as s:
            s.add(CameraRow(id=CAMERA, version=1, deleted=False, hall_id="hall-1", window_id="W-A01",
                         name="A01 窗口摄像头"))
            s.add(Window(id="W-A01", version=1, deleted=False, hall_id="hall-1", number="A01", name="不动产登记"))
        index = FootageIndex(store, data / "footage")
        for offset in STARTS:
            start = T0 + timedelta(seconds=offset)
            seg_id, path = index.open_segment(CAMERA, start, codec="h264", width=W, height=H, first_pts=0.0)
            assert path == data / "footage" / segment_relpath(CAMERA, start)
            write_file(path, seconds=SEG_S, start=start, width=W, height=H, fps=FPS, label="A01")
            index.close_segment(seg_id, start + timedelta(seconds=SEG_S), SEG_S * FPS, path)
        index.open_gap(CAMERA, T0 + timedelta(seconds=9), "the camera reconnected")
        index.close_gap(CAMERA, T0 + timedelta(seconds=12))
        # From 09:00:18 the recorder is still writing: an open segment is not evidence yet.
        seg_id, path = index.open_segment(CAMERA, at(18), codec="h264", width=W, height=H, first_pts=0.0)
        write_file(path, seconds=2, start=at(18), width=W, height=H, fps=FPS, label="A01")
        index.progress(seg_id, at(20), path.stat().st_size, 2 * FPS)
    finally:
        store.close()
    return data


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(template, target)
    return target


@pytest.fixture
def index(data: Path) -> Iterator[FootageIndex]:
    store = open_store(data / "hallwatch.db")
    try:
        yield FootageIndex(store, data / "footage")
    finally:
        store.close()


@pytest.fixture
def index2(index: FootageIndex) -> FootageIndex:
    """The index with a second camera of the hall (no window), recorded from 09:00:00 to 09:00:06."""
    with index.store.write() as s:
        s.add(CameraRow(id=CAMERA2, version=1, deleted=False, hall_id="hall-1", window_id=None, name="大厅全景"))
    for offset in (0, 3):
        start = T0 + timedelta(seconds=offset)
        seg_id, path = index.open_segment(CAMERA2, start, codec="h264", width=W, height=H, first_pts=0.0)
        write_file(path, seconds=SEG_S, start=start, width=W, height=H, fps=FPS, label="HALL")
        index.close_segment(seg_id, start + timedelta(seconds=SEG_S), SEG_S * FPS, path)
    return index


@pytest.fixture
def key(data: Path) -> SigningKey:
    return load_or_create_key(data)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def do_export(index: FootageIndex, key: SigningKey, out: Path, start: float = 1.5, end: float = 14.0,
              **kw: Any) -> Any:
    return export(index, ExportRequest(CAMERA, at(start), at(end), out, reason=REASON, who="王审查", terminal="ws-07",
                                       key=key, **kw))


# -- helpers: NAL units and MP4 boxes --------------------------------------------------------------


def annexb_nals(data: bytes) -> list[bytes]:
    """NAL units of an Annex B buffer (start codes stripped)."""
    out: list[bytes] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        j = data.find(b"\x00\x00\x01", i + 3)
        nal = data[i + 3 : j if j >= 0 else len(data)]
        out.append(nal.rstrip(b"\x00") if j >= 0 else nal)  # a 4-byte start code's leading zero
        i = j
    return out


def length_prefixed_nals(data: bytes) -> list[bytes]:
    out: list[bytes] = []
    i = 0
    while i + 4 <= len(data):
        n = int.from_bytes(data[i : i + 4], "big")
        out.append(data[i + 4 : i + 4 + n])
        i += 4 + n
    assert i == len(data)
    return out


def top_level_boxes(path: Path) -> list[str]:
    names: list[str] = []
    with path.open("rb") as f:
        while header := f.read(8):
            size = int.from_bytes(header[:4], "big")
            names.append(header[4:8].decode("ascii"))
            if size == 1:
                size = int.from_bytes(f.read(8), "big") - 8
            f.seek(size - 8, os.SEEK_CUR)
    return names


def source_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]


# -- export and verify -----------------------------------------------------------------------------


def test_export_across_segments_and_a_gap_verifies(index: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    out = tmp_path / "evidence" / "case-17"  # created, parents too
    r = do_export(index, key, out, progress=lambda f, w: seen.append((f, w)))

    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, r.video.name])
    assert r.video.name == f"{safe_name(CAMERA)}_20260302T010001Z_20260302T010014Z.mp4"
    m = json.loads(r.manifest_path.read_text(encoding="utf-8"))
    assert m["format"] == "hallwatch-evidence" and m["version"] == 2 and m["kind"] == "footage"
    assert m["files"] == [{"path": r.video.name, "bytes": r.video.stat().st_size, "sha256": r.video_sha256}]
    assert m["records"] == [] and "subject" not in m
    (cam,) = m["cameras"]
    assert cam["camera"] == {"id": CAMERA, "name": "A01 窗口摄像头", "window_id": "W-A01", "window": "A01 不动产登记"}
    assert m["requested"] == {"start": "2026-03-02T01:00:01.500Z", "end": "2026-03-02T01:00:14.000Z",
                              "duration_ms": 12500}
    # Cut at the keyframe at or before the start (keyframes each second), through the end.
    assert cam["covered"] == {"start": "2026-03-02T01:00:01.000Z", "end": "2026-03-02T01:00:14.000Z",
                            "duration_ms": 13000}
    assert [s["path"] for s in cam["sources"]] == [segment_relpath(CAMERA, at(s)) for s in (0, 3, 6, 12)]
    for src in cam["sources"]:
        seg = index.segments(CAMERA, datetime.fromisoformat(src["start"]), datetime.fromisoformat(src["end"]))[0]
        assert (src["sha256"], src["bytes"], src["status"]) == (seg.sha256, seg.bytes, "closed")
    assert cam["sources"][0]["used_from"] == "2026-03-02T01:00:01.000Z"
    assert cam["sources"][-1]["used_to"] == "2026-03-02T01:00:14.000Z"
    assert cam["gaps"] == [{"start": "2026-03-02T01:00:09.000Z", "end": "2026-03-02T01:00:12.000Z",
                          "duration_ms": 3000, "reason": "the camera reconnected"}]
    assert cam["video"]["file"] == r.video.name and cam["video"]["bytes"] == r.video.stat().st_size
    assert cam["video"]["sha256"] == r.video_sha256 and cam["video"]["frames"] == 250 == r.frames
    assert cam["video"]["reencoded"] is False
    ex = m["exported"]
    assert (ex["by"], ex["reason"], ex["terminal"], ex["zone"]) == ("王审查", REASON, "ws-07", "Asia/Shanghai")
    assert ex["software"].startswith("HallWatch ") and ex["at"].endswith("Z") and ex["at_local"].endswith("+08:00")
    assert m["signer"]["fingerprint"] == key.fingerprint == r.fingerprint
    unsigned = {k: v for k, v in m.items() if k != "signature"}
    assert not _floats(unsigned), _floats(unsigned)  # floats do not survive a round trip byte for byte
    assert json.loads(canonical_json(unsigned)) == unsigned

    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(w for _, w in seen)
    assert any("copying segment" in w for _, w in seen) and any("checking" in w for _, w in seen)

    v = verify(out)
    assert v.ok, v.problems
    assert v.signature_valid and v.fingerprint == key.fingerprint
    text = "\n".join(v.summary())
    assert CAMERA in text and REASON in text and "王审查" in text and key.fingerprint in text
    assert "09:00:01.500" in text and "the camera reconnected" in text  # shown in the hall's zone


def test_the_mp4_is_a_stream_copy_that_plays(index: FootageIndex, key: SigningKey, tmp_path: Path, data: Path) -> None:
    r = do_export(index, key, tmp_path / "out")
    src_path = data / "footage" / segment_relpath(CAMERA, T0)
    with av.open(str(src_path)) as c:
        scc = c.streams.video[0].codec_context
        source = (scc.name, scc.profile, scc.width, scc.height)
    boxes = top_level_boxes(r.video)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart
    with av.open(str(r.video)) as c:
        s = c.streams.video[0]
        cc = s.codec_context
        assert (cc.name, cc.profile, cc.width, cc.height) == source  # same codec, profile, size
        packets = [p for p in c.demux(s) if p.size]
        assert s.duration is not None and s.time_base is not None
        duration = float(s.duration * s.time_base)
    span = 14.0 - 1.5
    assert span <= duration <= span + GOP_S + 0.05, duration  # ± one GOP at the start
    assert packets[0].is_keyframe
    dts = [p.dts for p in packets]
    assert all(b > a for a, b in pairwise(dts))
    tick = packets[1].dts - packets[0].dts
    # 1.5 s into the span: 2 s of segment 1 (from its 1 s keyframe), then segment 2 without a seam …
    assert packets[50].dts - packets[49].dts == tick
    # … and the 3 s gap kept on the wall clock, not filled with frames.
    assert float((packets[200].dts - packets[199].dts) * packets[0].time_base) == pytest.approx(3.04)

    # Frame for frame, the bytes are the recorder's (the MP4 stores NAL units length-prefixed).
    seg1 = source_packets(src_path)
    seg2 = source_packets(data / "footage" / segment_relpath(CAMERA, at(3)))
    seg4 = source_packets(data / "footage" / segment_relpath(CAMERA, at(12)))
    assert length_prefixed_nals(bytes(packets[0])) == annexb_nals(seg1[25])  # the keyframe at 1 s
    assert length_prefixed_nals(bytes(packets[7])) == annexb_nals(seg1[32])  # a P-frame
    assert length_prefixed_nals(bytes(packets[60])) == annexb_nals(seg2[10])
    assert length_prefixed_nals(bytes(packets[-1])) == annexb_nals(seg4[49])  # the last frame before 14 s

    with av.open(str(r.video)) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == r.frames == 250
    assert frames[0].key_frame and frames[0].width == W


def test_span_starting_on_a_keyframe_or_in_a_segments_last_gop(
    index: FootageIndex, key: SigningKey, tmp_path: Path
) -> None:
    r = do_export(index, key, tmp_path / "a", start=3.0, end=4.0)
    assert r.covered == (at(3), at(4)) and r.frames == 25 and r.segments == 1 and not r.gaps
    r = do_export(index, key, tmp_path / "b", start=2.5, end=3.5)  # the last GOP of segment 1
    assert r.covered == (at(2), at(3.52)) and r.frames == 38 and r.segments == 2
    r = do_export(index, key, tmp_path / "c", start=8.0, end=20.0)  # a gap inside, footage ends at 18 s
    assert [(g.start, g.end) for g in r.gaps] == [(at(9), at(12)), (at(18), at(20))]
    assert r.gaps[1].reason.startswith("still being recorded (") and r.gaps[1].reason.endswith(" is not closed yet)")
    with pytest.raises(NoFootageError, match="still being recorded"):
        do_export(index, key, tmp_path / "d", start=18.0, end=19.0)


def test_a_changed_byte_in_the_mp4_is_named(index: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    r = do_export(index, key, tmp_path / "out")
    data = bytearray(r.video.read_bytes())
    data[len(data) // 2] ^= 0x01
    r.video.write_bytes(bytes(data))
    v = verify(tmp_path / "out")
    assert not v.ok and v.signature_valid
    assert v.problems == (f"the video {r.video.name} was changed: its SHA-256 differs from the manifest's",)


def test_a_changed_byte_in_the_manifest_breaks_the_signature(
    index: FootageIndex, key: SigningKey, tmp_path: Path
) -> None:
    r = do_export(index, key, tmp_path / "out")
    raw = r.manifest_path.read_bytes()
    assert raw.count(b"complaint 17") == 1
    r.manifest_path.write_bytes(raw.replace(b"complaint 17", b"complaint 18"))
    v = verify(tmp_path / "out")
    assert not v.signature_valid
    assert v.problems == ("manifest.json was changed after it was signed: the signature is invalid",)


def test_missing_extra_and_unparseable_files_are_named(index: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = do_export(index, key, out)
    (out / "note.txt").write_text("added later")
    r.video.unlink()
    problems = verify(out).problems
    assert f"the video {r.video.name} is missing" in problems
    assert "unknown file note.txt in the evidence folder (not listed in the manifest)" in problems
    raw = r.manifest_path.read_bytes()
    r.manifest_path.write_bytes(raw[: len(raw) // 2])
    (problem,) = verify(out).problems
    assert problem.startswith("manifest.json is unparseable")
    r.manifest_path.unlink()
    assert verify(out).problems[0].startswith("manifest.json is missing")


def test_verify_names_a_symlinked_mp4_or_manifest_instead_of_ok(
    index: FootageIndex, key: SigningKey, tmp_path: Path
) -> None:
    """Issue 13 item 4: the MP4 moved outside the folder and linked back (same bytes) is not evidence."""
    out = tmp_path / "out"
    r = do_export(index, key, out)
    outside = tmp_path / "elsewhere.mp4"
    shutil.move(r.video, outside)
    r.video.symlink_to(outside)
    assert sha256_of(r.video) == r.video_sha256  # through the link the bytes are the same
    v = verify(out)
    assert not v.ok and v.signature_valid
    assert v.problems == (
        f"the video {r.video.name} is a symbolic link (to {outside}), not a file in the evidence folder",)
    cli = run("--data", str(tmp_path), "verify", str(out))
    assert cli.returncode == 1 and "is a symbolic link" in cli.stdout and not cli.stdout.startswith("OK")

    # The same for the manifest, and a link the manifest does not list is named as a link.
    r.video.unlink()
    shutil.move(outside, r.video)
    assert verify(out).ok
    moved = tmp_path / "manifest-elsewhere.json"
    shutil.move(r.manifest_path, moved)
    r.manifest_path.symlink_to(moved)
    (problem,) = verify(out).problems
    assert problem == f"manifest.json is a symbolic link (to {moved}), not a file in the evidence folder"
    r.manifest_path.unlink()
    shutil.move(moved, r.manifest_path)
    (out / "extra.mp4").symlink_to(r.video)
    assert verify(out).problems == (
        "unknown symbolic link extra.mp4 in the evidence folder (not listed in the manifest)",)


def sha256_of(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_footage_pruned_for_space_is_a_gap_that_says_so(data: Path, key: SigningKey, tmp_path: Path) -> None:
    """Issue 13 item 14: footage recorded and later pruned for space (a 20 MB tmpfs filled by someone
    else's file) is not "recording failed" nor "no footage": the gap says pruned for space, when and how much."""
    with small_disk(tmp_path / "small", "20m") as mnt:
        shutil.copytree(data / "footage", mnt / "footage")
        store = open_store(data / "hallwatch.db")
        try:
            index = FootageIndex(store, mnt / "footage")
            sizes = {s.start: s.bytes for s in index.segments(CAMERA)}
            ret = Retention(index, RetentionPolicy(), clock=lambda: at(30))
            ret.hold(at(12), at(18), reason="complaint 17", by="reviewer", camera_id=CAMERA)
            fill(mnt / "someone-elses.bin")
            report = ret.prune()
            assert report.pruned_for_space == 3 and report.full  # 0, 3 and 6 s; the rest is held or open
            r = do_export(index, key, tmp_path / "out")
        finally:
            store.close()
    freed = sizes[at(0)] + sizes[at(3)] + sizes[at(6)]
    assert [(g.start, g.end, g.reason) for g in r.gaps] == [
        (at(1.5), at(9), f"pruned for space on 2026-03-02 UTC: {freed} bytes"),
        (at(9), at(12), "the camera reconnected"),
    ]


def test_a_trusted_key_must_match(index: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    do_export(index, key, tmp_path / "out")
    assert verify(tmp_path / "out", trusted=key.fingerprint).ok
    assert verify(tmp_path / "out", trusted=key.public_pem()).ok
    other = SigningKey.generate()
    (problem,) = verify(tmp_path / "out", trusted=other.fingerprint).problems
    assert problem == f"signed by key {key.fingerprint}, not by the trusted key {other.fingerprint}"
    # A manifest re-signed with another key after a change passes the signature, not the trust check.
    m = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    m["exported"]["reason"] = "something else"
    m["signer"] = {"algorithm": "Ed25519", "public_key": other.public_b64, "fingerprint": other.fingerprint}
    body = {k: v for k, v in m.items() if k != "signature"}
    m["signature"] = base64.b64encode(other.sign(canonical_json(body))).decode()
    (tmp_path / "out" / MANIFEST).write_text(json.dumps(m), encoding="utf-8")
    assert verify(tmp_path / "out").ok
    assert not verify(tmp_path / "out", trusted=key.fingerprint).ok


def test_an_altered_source_segment_is_refused_and_named(
    index: FootageIndex, key: SigningKey, tmp_path: Path, data: Path
) -> None:
    rel = segment_relpath(CAMERA, at(3))
    path = data / "footage" / rel
    raw = bytearray(path.read_bytes())
    raw[5000] ^= 0x80
    path.write_bytes(bytes(raw))
    out = tmp_path / "out"
    with pytest.raises(SourceChangedError) as e:
        do_export(index, key, out)
    assert rel in str(e.value) and "SHA-256 differs" in str(e.value) and e.value.segments == [rel]
    assert not out.exists()  # nothing left behind
    (seg,) = index.segments(CAMERA, at(3), at(4))
    assert seg.status is SegmentStatus.CORRUPT
    # Exporting again leaves it out: a gap that says why.
    r = do_export(index, key, out)
    assert (r.gaps[0].start, r.gaps[0].end) == (at(3), at(6)) and "corrupt" in r.gaps[0].reason
    assert verify(out).ok


def test_no_footage_and_a_used_folder_are_refused(index: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(NoFootageError, match=r"no footage of camera hall-1/A01 between 2026-03-02 10:00:00"):
        do_export(index, key, out, start=3600, end=3660)
    assert not out.exists()
    with pytest.raises(NoFootageError):
        export(index, ExportRequest("other-camera", at(0), at(5), out, reason="", who="x", terminal="t", key=key))
    out.mkdir()
    (out / "old.mp4").write_bytes(b"x")
    with pytest.raises(ExportError, match="is not empty"):
        do_export(index, key, out)
    assert (out / "old.mp4").read_bytes() == b"x"


def test_the_key_is_made_once_private_and_kept(data: Path) -> None:
    k1 = load_or_create_key(data)
    path = data / "keys" / "terminal.ed25519"
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    k2 = load_or_create_key(data)
    assert k2.fingerprint == k1.fingerprint and len(k1.fingerprint) == 64
    assert "PRIVATE" not in repr(k1) and k1.fingerprint[:16] in repr(k1)
    assert sorted(p.name for p in path.parent.iterdir()) == ["terminal.ed25519"]


# -- format 2: several cameras, records, every file listed -------------------------------------------


RECORDS = {"complaint.json": {"id": "c-17", "summary": "等候过久"}, "evaluations.json": [{"id": "e-1", "grade": 1}]}


def export_two(index: FootageIndex, key: SigningKey, out: Path, **kw: Any) -> Any:
    return export_evidence(index, EvidenceRequest(
        (CAMERA, CAMERA2, CAMERA), at(1.5), at(5.0), out, reason=REASON, who="王审查", terminal="ws-07", key=key,
        kind="complaint_dossier", subject={"complaint": "c-17"}, records=RECORDS, **kw))


def flip_byte(path: Path, at_fraction: float = 0.5) -> bytes:
    """Change one byte of ``path``; returns the original bytes."""
    raw = path.read_bytes()
    changed = bytearray(raw)
    changed[int(len(raw) * at_fraction)] ^= 0x01
    path.write_bytes(bytes(changed))
    return raw


def test_several_cameras_and_records_in_one_folder_under_one_manifest(
    index2: FootageIndex, key: SigningKey, tmp_path: Path
) -> None:
    out = tmp_path / "dossier"
    r = export_two(index2, key, out)
    assert [v.camera_id for v in r.videos] == [CAMERA, CAMERA2]  # a camera named twice is exported once
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([MANIFEST, "complaint.json", "evaluations.json", *(v.video.name for v in r.videos)])
    m = json.loads(r.manifest_path.read_text(encoding="utf-8"))
    assert m["version"] == 2 and m["kind"] == "complaint_dossier" and m["subject"] == {"complaint": "c-17"}
    assert [c["camera"]["id"] for c in m["cameras"]] == [CAMERA, CAMERA2]
    assert m["cameras"][1]["camera"]["name"] == "大厅全景"
    assert [f["path"] for f in m["files"]] == sorted(names[:-1] if names[-1] == MANIFEST else
                                                      [n for n in names if n != MANIFEST])
    for f in m["files"]:
        assert (f["bytes"], f["sha256"]) == ((out / f["path"]).stat().st_size, sha256_of(out / f["path"]))
    assert json.loads((out / "complaint.json").read_text(encoding="utf-8")) == RECORDS["complaint.json"]
    for v in r.videos:
        with av.open(str(v.video)) as c:
            assert sum(1 for _ in c.decode(video=0)) == v.frames > 0
    v = verify(out)
    assert v.ok, v.problems
    assert [(f.name, f.ok) for f in v.files] == [(MANIFEST, True), *((n, True) for n in r.files)]
    text = "\n".join(v.summary())
    assert "dossier: complaint c-17" in text and CAMERA2 in text and "complaint.json" in text


def test_a_camera_without_footage_is_named_and_none_at_all_is_refused(
    index2: FootageIndex, key: SigningKey, tmp_path: Path
) -> None:
    r = export_evidence(index2, EvidenceRequest((CAMERA, CAMERA2), at(12), at(14), tmp_path / "a", reason="",
                                               who="x", terminal="t", key=key))
    assert [v.camera_id for v in r.videos] == [CAMERA] and [c for c, _ in r.missing] == [CAMERA2]
    m = json.loads(r.manifest_path.read_text(encoding="utf-8"))
    assert m["cameras"][1]["missing"].startswith(f"no footage of camera {CAMERA2} between")
    assert verify(tmp_path / "a").ok
    with pytest.raises(NoFootageError, match=f"{CAMERA}.*; no footage of camera {CAMERA2}"):
        export_evidence(index2, EvidenceRequest((CAMERA, CAMERA2), at(40), at(50), tmp_path / "b", reason="",
                                               who="x", terminal="t", key=key))
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("which", ["video", "second video", "record", "manifest"])
def test_format_2_one_byte_changed_in_any_file_is_named(
    index2: FootageIndex, key: SigningKey, tmp_path: Path, which: str
) -> None:
    out = tmp_path / "dossier"
    r = export_two(index2, key, out)
    target = {"video": r.videos[0].video, "second video": r.videos[1].video, "record": out / "evaluations.json",
              "manifest": r.manifest_path}[which]
    assert verify(out).ok
    flip_byte(target, 0.3 if which == "manifest" else 0.5)
    v = verify(out)
    assert not v.ok
    bad = [f for f in v.files if not f.ok]
    assert [f.name for f in bad] == [target.name], v.files
    if which == "manifest":
        assert not v.signature_valid or "unparseable" in v.problems[0]
    else:
        kind = "video" if "video" in which else "file"
        assert v.problems == (f"the {kind} {target.name} was changed: its SHA-256 differs from the manifest's",)


def test_format_2_a_missing_or_added_file_is_named(index2: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    out = tmp_path / "dossier"
    export_two(index2, key, out)
    moved = (out / "complaint.json").rename(tmp_path / "complaint.json")
    (out / "note.txt").write_text("added")
    v = verify(out)
    assert set(v.problems) == {"the file complaint.json is missing",
                               "unknown file note.txt in the evidence folder (not listed in the manifest)"}
    assert {(f.name, f.state.value) for f in v.files if not f.ok} == {("complaint.json", "missing"),
                                                                       ("note.txt", "unlisted")}
    moved.rename(out / "complaint.json")
    (out / "note.txt").unlink()
    assert verify(out).ok


def test_a_format_1_folder_still_verifies(tmp_path: Path) -> None:
    """A folder written by the format-1 exporter (checked in) verifies; a changed byte in it still fails."""
    out = tmp_path / "old"
    shutil.copytree(FORMAT_1, out)
    v = verify(out)
    assert v.ok, v.problems
    assert v.version == 1 and v.signature_valid
    assert [f.name for f in v.files] == [MANIFEST, next(p.name for p in out.iterdir() if p.suffix == ".mp4")]
    text = "\n".join(v.summary())
    assert "hall-1/A01" in text and "format 1 fixture" in text
    cli = run("verify", str(out))
    assert cli.returncode == 0 and cli.stdout.startswith("OK"), cli.stdout + cli.stderr
    mp4 = next(out.glob("*.mp4"))
    flip_byte(mp4)
    assert verify(out).problems == (f"the video {mp4.name} was changed: its SHA-256 differs from the manifest's",)


def test_an_unknown_format_version_is_named(index: FootageIndex, key: SigningKey, tmp_path: Path) -> None:
    r = do_export(index, key, tmp_path / "out")
    m = json.loads(r.manifest_path.read_text(encoding="utf-8"))
    m["version"] = 3
    r.manifest_path.write_text(json.dumps(m), encoding="utf-8")
    assert verify(tmp_path / "out").problems == (
        "manifest.json has format version 3; this HallWatch reads 1 and 2",)


@pytest.mark.parametrize("when", ["checking", "copying", "records", "signing"])
def test_a_cancelled_export_leaves_nothing(index2: FootageIndex, key: SigningKey, tmp_path: Path, when: str) -> None:
    words: list[str] = []
    word = {"checking": "checking source", "copying": "copying segment 2", "records": "writing",
            "signing": "signing"}[when]

    def cancel() -> bool:
        return any(word in w for w in words)

    out = tmp_path / "evidence" / "new"
    with pytest.raises(ExportCancelled):
        export_two(index2, key, out, progress=lambda f, w: words.append(w), cancel=cancel)
    assert any(word in w for w in words)
    assert not out.exists() and list((tmp_path / "evidence").iterdir()) == []
    # An empty folder given is left as it was: empty.
    out.mkdir()
    words.clear()
    with pytest.raises(ExportCancelled):
        export_two(index2, key, out, progress=lambda f, w: words.append(w), cancel=cancel)
    assert out.is_dir() and list(out.iterdir()) == []


# -- the command line ------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False, env=env)


def test_cli_export_then_verify(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    r = run("--data", str(data), "export", "--camera", CAMERA, "--from", "2026-03-02T09:00:01.5",
            "--to", "2026-03-02T09:00:14", "--out", str(out), "--reason", "投诉核查 17")
    assert r.returncode == 0, r.stderr
    assert "250 frames" in r.stdout and "gap:" in r.stdout and "the camera reconnected" in r.stdout
    assert r.stderr == ""  # not a TTY: no progress line
    assert stat.S_IMODE((data / "keys" / "terminal.ed25519").stat().st_mode) == 0o600 or os.name != "posix"
    m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert m["requested"]["start"] == "2026-03-02T01:00:01.500Z"  # naive times are the hall's
    assert m["exported"]["reason"] == "投诉核查 17" and m["exported"]["terminal"] == "ws-01"

    v = run("--data", str(data), "verify", str(out))
    assert v.returncode == 0, v.stdout + v.stderr
    assert v.stdout.startswith("OK")
    for part in (CAMERA, "投诉核查 17", m["signer"]["fingerprint"], "2026-03-02 09:00:01.500"):
        assert part in v.stdout

    mp4 = out / m["cameras"][0]["video"]["file"]
    raw = bytearray(mp4.read_bytes())
    raw[-100] ^= 0xFF
    mp4.write_bytes(bytes(raw))
    v = run("--data", str(data), "verify", str(out / MANIFEST))  # any file of the folder will do
    assert v.returncode == 1
    assert f"the video {mp4.name} was changed" in v.stdout and "failed verification" in v.stderr


def test_cli_export_of_several_cameras(data: Path, index2: FootageIndex, tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    r = run("--data", str(data), "export", "--camera", CAMERA, "--camera", CAMERA2, "--from", "2026-03-02T09:00:01",
            "--to", "2026-03-02T09:00:04", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"exported camera {CAMERA}:" in r.stdout and f"exported camera {CAMERA2}:" in r.stdout
    m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert [c["camera"]["id"] for c in m["cameras"]] == [CAMERA, CAMERA2] and len(m["files"]) == 2
    v = run("--data", str(data), "verify", str(out))
    assert v.returncode == 0 and CAMERA2 in v.stdout, v.stdout
    r = run("--data", str(data), "export", "--from", "2026-03-02T09:00:01", "--to", "2026-03-02T09:00:04",
            "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--camera ID (repeatable)" in r.stderr
    r = run("--data", str(data), "export", "--camera", CAMERA, "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "give both --from and --to" in r.stderr
    assert not (tmp_path / "x").exists()


def test_cli_export_failures(data: Path, tmp_path: Path) -> None:
    r = run("--data", str(data), "export", "--camera", CAMERA, "--from", "2026-03-02T12:00",
            "--to", "2026-03-02T12:05", "--out", str(tmp_path / "a"))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: no footage of camera hall-1/A01 between 2026-03-02 12:00:00 and 2026-03-02 12:05:00 (Asia/Shanghai)"
    ]
    path = data / "footage" / segment_relpath(CAMERA, at(6))
    path.write_bytes(path.read_bytes()[:-188])
    r = run("--data", str(data), "export", "--camera", CAMERA, "--from", "2026-03-02T09:00",
            "--to", "2026-03-02T09:00:10", "--out", str(tmp_path / "b"))
    assert r.returncode == 1 and segment_relpath(CAMERA, at(6)) in r.stderr and "bytes" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run("--data", str(data), "export", "--camera", CAMERA, "--from", "yesterday", "--to", "today",
            "--out", str(tmp_path / "c"))
    assert r.returncode == 2 and "not an ISO-8601 instant" in r.stderr


def test_a_loose_or_broken_key_file(data: Path) -> None:
    k = load_or_create_key(data)
    path = data / "keys" / "terminal.ed25519"
    if os.name == "posix":
        path.chmod(0o644)
        assert load_or_create_key(data).fingerprint == k.fingerprint
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened
    path.write_bytes(b"not a key")
    with pytest.raises(ExportError, match=r"signing key .* is unusable"):
        load_or_create_key(data)
    assert path.read_bytes() == b"not a key"  # never replaced: old exports name its fingerprint


def _floats(value: Any, path: str = "") -> list[str]:
    """Where in ``value`` (a decoded JSON document) a float sits."""
    if isinstance(value, float):
        return [path or "."]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _floats(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _floats(v, f"{path}[{i}]")]
    return []
