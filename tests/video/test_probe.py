"""`main.py probe URL`: the installer's check of a camera, run as a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.video.camera_servers import CameraFactory, SilentServer
from video.synthetic import SyntheticCameraServer

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["state", "codec", "width", "height", "fps", "frames", "first_frame_s", "reconnects", "dropped", "error"]


def probe(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data", str(data), "probe", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_probe_json_reports_a_live_camera(tmp_path: Path, synthetic: SyntheticCameraServer) -> None:
    r = probe(tmp_path, synthetic.url("window/A01"), "--seconds", "3", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out)[: len(KEYS)] == KEYS
    assert out["state"] == "live"
    assert (out["codec"], out["width"], out["height"]) == ("h264", 640, 360)
    assert out["fps"] == pytest.approx(25, abs=2)
    assert out["frames"] >= 40  # ~70: the probe's first second, then live (a loaded machine starts later)
    assert 0 < out["first_frame_s"] < 4
    assert out["reconnects"] == 0 and out["dropped"] == 0 and out["error"] is None
    assert [s["state"] for s in out["states"]][:2] == ["connecting", "live"]


def test_probe_text_names_states_and_the_last_error(tmp_path: Path, silent_server: SilentServer) -> None:
    r = probe(tmp_path, silent_server.url("rtsp"), "--seconds", "3")
    assert r.returncode == 1
    assert "connecting" in r.stdout
    assert "0 frames" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_probe_never_prints_the_password(tmp_path: Path, rtsp_camera_factory: CameraFactory) -> None:
    cam = rtsp_camera_factory("h264", user="fitter", password="Cam-Secret-77")
    r = probe(tmp_path, cam.url, "--seconds", "2", "--json")
    assert r.returncode == 0, r.stderr
    bad = probe(tmp_path, cam.url.replace("Cam-Secret-77", "Not-The-One-88"), "--seconds", "2", "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["error"] == "the camera refused the user name or password (401)"
    files = sorted((tmp_path / "logs").glob("*.log*"))
    assert files, "the probe wrote no log to check"
    logs = "".join(p.read_text() for p in files)
    assert "401" in logs or "refused" in logs, "the log holds the failure it must report without the secret"
    for text in (r.stdout, r.stderr, bad.stdout, bad.stderr, logs):
        assert "Cam-Secret-77" not in text and "Not-The-One-88" not in text and "fitter" not in text
    assert json.loads(r.stdout)["url"].startswith("rtsp://***@127.0.0.1:")


def test_probe_rejects_an_unknown_scheme(tmp_path: Path) -> None:
    r = probe(tmp_path, "gopher://127.0.0.1/x")
    assert r.returncode == 2
    assert "unsupported camera address scheme 'gopher'" in r.stderr


def test_a_password_with_a_hash_sig_or_capital_scheme_never_reaches_stdout(
    tmp_path: Path, rtsp_camera_factory: CameraFactory
) -> None:
    """Issue 13 item 2: ``secret#frag`` made urlsplit see a fragment, so stdout (text and the JSON
    ``url``) printed the password; a ``sig=`` value and ``RTSP://`` in capitals were missed too."""
    cam = rtsp_camera_factory("h264", user="admin", password="secret#frag")
    port = cam.url.split("@", 1)[1].split("/", 1)[0]
    path = cam.url.split("@", 1)[1].split("/", 1)[1]
    hashed = f"rtsp://admin:secret#frag@{port}/{path}"
    capital = f"RTSP://admin:secret#frag@{port}/{path}"
    signed = f"http://{port}/x.ts?sig=Sig-Value-4242&res=1"
    for url in (hashed, capital, signed):
        text = probe(tmp_path, url, "--seconds", "1")
        js = probe(tmp_path, url, "--seconds", "1", "--json")
        assert "Traceback" not in text.stderr + js.stderr
        logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log*"))
        for out in (text.stdout, text.stderr, js.stdout, js.stderr, logs):
            assert "secret" not in out and "frag" not in out and "Sig-Value-4242" not in out, out
        shown = json.loads(js.stdout)["url"]
        assert shown in (f"rtsp://***@{port}/{path}", f"RTSP://***@{port}/{path}", f"http://{port}/x.ts?sig=***&res=1")
        assert f"probing {shown} for 1 s" in text.stdout
