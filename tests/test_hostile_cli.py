"""Hostile input on the command line (issue 13 item 3): one clear line and exit 1 or 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEEP = 100_000


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--data", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                          env={"PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"})


def one_clear_line(r: subprocess.CompletedProcess[str], *, codes: tuple[int, ...] = (1, 2)) -> str:
    assert r.returncode in codes, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    if lines and lines[0].startswith("usage:"):  # argparse's usage block, then its one error line
        lines = [line for line in lines if line.startswith("hallwatch: error:")]
    assert len(lines) == 1, r.stderr
    assert len(lines[0]) <= 500
    return lines[0]


def change(**over: object) -> dict[str, object]:
    return {"seq": 1, "type": "org_unit", "id": "org-1", "op": "upsert", "version": 1,
            "data": {"name": "n", "level": "hall"}, **over}


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("deep", '{"epoch":"e","changes":' + "[" * DEEP + "]" * DEEP + "}", "nested too deeply"),
        ("version", '{"epoch":"e","changes":[{"seq":1,"type":"org_unit","id":"o","op":"delete","version":'
         + "9" * 5000 + "}]}", "5000 digits"),
        ("seq", json.dumps({"epoch": "e", "changes": [change(seq=2**63)]}), "seq: Input should be less than or equal"),
        ("version63", json.dumps({"epoch": "e", "changes": [change(version=2**63)]}), "version: Input should be"),
        ("surrogate", '{"epoch":"e","changes":[' + json.dumps(change(id="\ud800"))[:-1] + "}]}", "id:"),
        ("surrogate-data", json.dumps({"epoch": "e", "changes": [change(data={"name": "\ud800", "level": "hall"})]}),
         "data.name:"),
        ("nul", json.dumps({"epoch": "e", "changes": [change(data={"name": "a\u0000b", "level": "hall"})]}),
         "data.name: Value error, a NUL character at position 1 is not allowed"),
    ],
)
def test_a_hostile_import_file_is_one_clear_line(tmp_path: Path, name: str, body: str, expected: str) -> None:
    f = tmp_path / f"{name}.json"
    f.write_text(body, encoding="utf-8", errors="surrogatepass")
    line = one_clear_line(run(tmp_path, "import", str(f)))
    assert line.startswith("import failed, nothing was imported: ") and expected in line, line


def test_instants_past_year_9999_are_a_usage_error(tmp_path: Path) -> None:
    line = one_clear_line(run(tmp_path, "warnings", "--at", "9999-12-31T20:00:00+00:00"), codes=(2,))
    assert "instant out of range: '9999-12-31T20:00:00+00:00'" in line
    line = one_clear_line(run(tmp_path, "export", "--camera", "c", "--from", "9999-12-31T20:00",
                              "--to", "9999-12-31T21:00", "--out", str(tmp_path / "o")), codes=(2,))
    assert "instant out of range: '9999-12-31T20:00'" in line
    line = one_clear_line(run(tmp_path, "warnings", "--at", "0001-01-01T00:00:00+08:00"), codes=(2,))
    assert "instant out of range" in line


def test_verify_of_a_manifest_nested_100000_deep_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "manifest.json").write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    r = run(tmp_path, "verify", str(folder))
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    assert "manifest.json is unparseable: nested too deeply (it was changed)" in r.stdout
