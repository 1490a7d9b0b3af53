"""A complaint's dossier (证据包) from the command line, over footage recorded from the synthetic cameras.

Two cameras are recorded for real (synthetic camera → Source → Recorder → indexed segments): one
at window A01, one of the hall without a window. The store holds the window, the complaint, its
case, ticket and evaluations; the config adds a camera at A01 that recorded nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supervision.store import open_store
from supervision.store.footage import SegmentStatus
from supervision.store.models import CameraRow, CaseRow, ComplaintRow, EvaluationRow, TicketRow, Window
from tests.video.waiting import FAST, wait_for
from video.export import MANIFEST, verify
from video.export.manifest import iso_utc
from video.footage import FootageIndex
from video.recorder import Recorder, RecorderOptions
from video.source import Source
from video.synthetic import CameraSpec, SyntheticCameraServer

ROOT = Path(__file__).resolve().parents[2]
MARGIN_MIN = 0.03  # 1.8 s either side of about_at


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, datetime]]:
    """A data folder with ≥ 6 s of two cameras' footage; yields it and the middle of what was recorded."""
    data = tmp_path_factory.mktemp("dossier") / "data"
    data.mkdir()
    store = open_store(data / "hallwatch.db")
    try:
        index = FootageIndex(store, data / "footage")
        specs = {"window/A01": CameraSpec("A01", width=320, height=180),
                 "hall": CameraSpec("HALL", width=320, height=180)}
        with SyntheticCameraServer(specs) as server:
            pairs = [(Source(server.url("window/A01"), FAST), "cam-A01"),
                     (Source(server.url("hall"), FAST), "cam-hall")]
            recorders = [Recorder(src, cid, index, RecorderOptions(segment_seconds=2)) for src, cid in pairs]
            for r in recorders:
                r.start()
            for src, _ in pairs:
                src.start()
            try:
                def enough() -> bool:
                    return all(sum(s.status is SegmentStatus.CLOSED for s in index.segments(cid)) >= 3
                               for _src, cid in pairs)

                assert wait_for(enough, 60)
            finally:
                for r in recorders:
                    r.stop()
                for src, _ in pairs:
                    src.stop()
        closed = [s for cid in ("cam-A01", "cam-hall") for s in index.segments(cid)
                  if s.status is SegmentStatus.CLOSED]
        lo = max(min(s.start for s in closed if s.camera_id == c) for c in ("cam-A01", "cam-hall"))
        hi = min(max(s.end for s in closed if s.camera_id == c) for c in ("cam-A01", "cam-hall"))
        assert (hi - lo).total_seconds() >= 5, (lo, hi)
        middle = lo + (hi - lo) / 2
        with store.write() as s:
            s.add(Window(id="W-A01", version=1, deleted=False, hall_id="hall-1", number="A01", name="不动产登记"))
            s.add(CameraRow(id="cam-A01", version=1, deleted=False, hall_id="hall-1", window_id="W-A01", name="A01"))
            s.add(CameraRow(id="cam-hall", version=1, deleted=False, hall_id="hall-1", name="大厅全景"))
            s.add(CameraRow(id="cam-other", version=1, deleted=False, hall_id="hall-2", name="另一个大厅"))
            s.add(TicketRow(id="t-1", version=1, deleted=False, hall_id="hall-1", number="A017",
                            issued_at=middle - timedelta(minutes=40), called_at=middle - timedelta(minutes=1),
                            window_id="W-A01", status="called"))
            s.add(CaseRow(id="k-1", version=1, deleted=False, window_id="W-A01", ticket_id="t-1", applicant="张三",
                          submitted_at=middle, status="accepted", stages=[], suspensions=[]))
            s.add(EvaluationRow(id="e-1", version=1, deleted=False, window_id="W-A01", case_id="k-1", at=middle,
                                grade=1))
            s.add(EvaluationRow(id="e-2", version=1, deleted=False, window_id="W-A01", case_id="k-2", at=middle,
                                grade=5))
            s.add(ComplaintRow(id="c-1", version=1, deleted=False, hall_id="hall-1", window_id="W-A01",
                               case_id="k-1", channel="12345", received_at=middle + timedelta(days=1),
                               about_at=middle, summary="窗口人员态度差", status="open"))
            s.add(ComplaintRow(id="c-2", version=1, deleted=False, hall_id="hall-1", channel="onsite",
                               received_at=middle + timedelta(hours=2), summary="大厅秩序混乱", status="open"))
    finally:
        store.close()
    (data.parent / "hallwatch.toml").write_text(
        f'[recording]\nhold_margin_minutes = {MARGIN_MIN}\n\n'
        '[[cameras]]\nid = "cam-cfg"\nurl = "rtsp://127.0.0.1:9/none"\nwindow_id = "W-A01"\n',
        encoding="utf-8")
    yield data, middle


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--data", str(data), "--config",
                           str(data.parent / "hallwatch.toml"), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False, env=env)


def flip(path: Path) -> bytes:
    raw = path.read_bytes()
    changed = bytearray(raw)
    changed[len(raw) // 3] ^= 0x01
    path.write_bytes(bytes(changed))
    return raw


def test_dossier_of_a_complaint_covers_its_windows_cameras_records_and_every_file(
    recorded: tuple[Path, datetime], tmp_path: Path
) -> None:
    data, middle = recorded
    out = tmp_path / "dossier"
    r = run(data, "export", "--complaint", "c-1", "--out", str(out), "--reason", "投诉 c-1 核查")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "dossier of complaint c-1" in r.stdout and "about_at ± 0.03 min" in r.stdout
    assert "exported camera cam-A01:" in r.stdout and "no footage of camera cam-cfg" in r.stdout
    assert "cam-hall" not in r.stdout  # not of the complaint's window

    m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    margin = timedelta(minutes=MARGIN_MIN)
    assert m["version"] == 2 and m["kind"] == "complaint_dossier"
    assert m["requested"]["start"] == iso_utc(middle - margin) and m["requested"]["end"] == iso_utc(middle + margin)
    assert m["subject"] == {"complaint": "c-1", "window_id": "W-A01", "hall_id": "hall-1", "cameras_of": "window",
                            "span": "about_at ± 0.03 min"}
    assert [c["camera"]["id"] for c in m["cameras"]] == ["cam-A01", "cam-cfg"]
    assert "missing" in m["cameras"][1] and m["cameras"][0]["video"]["frames"] > 50
    assert m["exported"]["reason"] == "投诉 c-1 核查"
    files = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    assert [f["path"] for f in m["files"]] == files
    assert {"complaint.json", "case.json", "ticket.json", "evaluations.json"} <= set(files)
    assert len([f for f in files if f.endswith(".mp4")]) == 1
    complaint = json.loads((out / "complaint.json").read_text(encoding="utf-8"))
    assert (complaint["id"], complaint["summary"], complaint["about_at"]) == ("c-1", "窗口人员态度差", iso_utc(middle))
    assert json.loads((out / "case.json").read_text(encoding="utf-8"))["applicant"] == "张三"
    assert json.loads((out / "ticket.json").read_text(encoding="utf-8"))["number"] == "A017"
    assert [e["id"] for e in json.loads((out / "evaluations.json").read_text(encoding="utf-8"))] == ["e-1"]

    v = run(data, "verify", str(out))
    assert v.returncode == 0 and v.stdout.startswith("OK"), v.stdout
    assert "dossier: complaint c-1" in v.stdout
    # One byte changed in any file — each video, record and the manifest — fails, naming that file.
    for name in [*files, MANIFEST]:
        raw = flip(out / name)
        v = run(data, "verify", str(out))
        assert v.returncode == 1, name
        assert name in v.stdout, (name, v.stdout)
        (out / name).write_bytes(raw)
    assert verify(out).ok


def test_a_complaint_without_about_at_needs_the_span_then_exports_the_halls_cameras(
    recorded: tuple[Path, datetime], tmp_path: Path
) -> None:
    data, middle = recorded
    r = run(data, "export", "--complaint", "c-2", "--out", str(tmp_path / "a"))
    assert r.returncode == 2
    assert r.stderr.strip() == ("error: complaint c-2 does not say when it is about (no about_at): "
                                "give the span (--from and --to)")
    assert not (tmp_path / "a").exists()
    frm = (middle - timedelta(seconds=1)).astimezone(UTC).isoformat()
    to = (middle + timedelta(seconds=1)).astimezone(UTC).isoformat()
    r = run(data, "export", "--complaint", "c-2", "--from", frm, "--to", to, "--out", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))
    # No window known: every camera of the hall (store and config), none of another hall's.
    assert [c["camera"]["id"] for c in m["cameras"]] == ["cam-A01", "cam-hall", "cam-cfg"]
    assert m["subject"]["cameras_of"] == "hall" and m["subject"]["span"].startswith("chosen by the reviewer")
    assert json.loads((tmp_path / "b" / "evaluations.json").read_text(encoding="utf-8")) == []
    assert "case.json" not in {p.name for p in (tmp_path / "b").iterdir()}
    assert verify(tmp_path / "b").ok

    r = run(data, "export", "--complaint", "nope", "--out", str(tmp_path / "c"))
    assert r.returncode == 1 and r.stderr.strip() == "error: no complaint nope in the store"
    r = run(data, "export", "--complaint", "c-1", "--camera", "cam-A01", "--out", str(tmp_path / "c"))
    assert r.returncode == 2 and "leave out --camera" in r.stderr
    assert not (tmp_path / "c").exists()
    shutil.rmtree(tmp_path / "b")
