"""The command line: options, config validation, `import` and `warnings` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import main
from tests.supervision.records_factory import CASE_TYPE, case_data, change, page

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def late_case_file(tmp_path: Path) -> Path:
    # Accepted Mon 2026-06-01, promised 3 working days → due Thu 06-04; yellow from 06-05 00:00.
    data = case_data(
        submitted_at="2026-06-01T09:00:00+08:00",
        stages=[
            {"stage": "submitted", "at": "2026-06-01T09:00:00+08:00"},
            {"stage": "accepted", "at": "2026-06-01T09:05:00+08:00"},
        ],
    )
    body: dict[str, Any] = page([change("case_type", "ct-1", CASE_TYPE), change("case", "C-LATE", data)])
    p = tmp_path / "late.json"
    p.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return p


def test_help_lists_every_command() -> None:
    out = run("--help").stdout
    commands = ("import", "warnings", "demo-data", "export", "verify", "probe", "record", "sync", "view", "screenshot")
    for cmd in (*commands, "--data", "--config", "--demo", "--headless", "--role"):
        assert cmd in out


def test_headless_without_demo_and_an_unknown_role_are_usage_errors() -> None:
    # No command opens the operator window (tested in tests/desktop/test_operator.py).
    r = run("--headless")
    assert r.returncode == 2 and "--headless goes with --demo" in r.stderr
    r = run("--role", "reviewer")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_import_then_warnings_json_at_an_instant(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = run("--data", str(data), "import", str(late_case_file(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert "2 upserted" in r.stdout
    r = run("--data", str(data), "warnings", "--json", "--at", "2026-06-05T00:00:00+08:00")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [(w["key"], w["code"], w["level"], w["subject"], w["state"]) for w in got] == [
        ("C-LATE/OVERDUE", "OVERDUE", "yellow", "C-LATE", "active")
    ]
    assert got[0]["since"] == "2026-06-05T00:00:00+08:00"
    r = run("--data", str(data), "warnings", "--json", "--at", "2026-06-04T23:59:59+08:00")
    assert [w["code"] for w in json.loads(r.stdout)] == ["DUE_SOON"]
    r = run("--data", str(data), "warnings", "--json", "--at", "2026-06-11T00:00:00+08:00")
    assert [(w["code"], w["level"]) for w in json.loads(r.stdout)] == [("OVERDUE", "red")]
    # A naive instant is read in the hall's zone.
    r = run("--data", str(data), "warnings", "--at", "2026-06-05T08:00")
    assert r.returncode == 0 and "C-LATE" in r.stdout and "yellow" in r.stdout
    assert (data / "logs" / "hallwatch.log").exists()


def test_a_bad_import_fails_with_the_record_named_and_imports_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    body = page([change("case_type", "ct-1", CASE_TYPE), change("case", "C-1", case_data(submitted_at="yesterday"))])
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(body), encoding="utf-8")
    r = run("--data", str(data), "import", str(p))
    assert r.returncode == 1
    assert "nothing was imported" in r.stderr and "case 'C-1'" in r.stderr and "submitted_at" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("--data", str(data), "warnings", "--json", "--at", "2026-06-05T00:00:00+08:00")
    assert json.loads(r.stdout) == []


def test_a_bad_instant_is_a_usage_error(tmp_path: Path) -> None:
    r = run("--data", str(tmp_path), "warnings", "--at", "next tuesday")
    assert r.returncode == 2 and "not an ISO-8601 instant" in r.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[hall]\ntimezone = 'Asia/Shanghai'\ntimzone = 'x'\n", "unknown key 'hall.timzone'"),
        ("[halls]\n", "unknown key 'halls'"),
        ("[hall]\ntimezone = 'Mars/Olympus'\n", "unknown time zone"),
        ("[logging]\nlevel = 'LOUD'\n", "'logging.level'"),
        ("[hall\n", "not valid TOML"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    cfg = tmp_path / "hallwatch.toml"
    cfg.write_text(text, encoding="utf-8")
    r = run("--config", str(cfg), "--data", str(tmp_path / "d"), "warnings")
    assert r.returncode == 2
    assert expected in r.stderr and str(cfg) in r.stderr


def test_config_sets_zone_and_log_level(tmp_path: Path) -> None:
    cfg = tmp_path / "hallwatch.toml"
    cfg.write_text(
        "[hall]\ntimezone = 'Asia/Urumqi'\n[logging]\nlevel = 'DEBUG'\n[import]\nmax_bytes = 2048\n", encoding="utf-8"
    )
    loaded = main.load_config(cfg)
    assert loaded.hall.timezone == "Asia/Urumqi" and loaded.import_.max_bytes == 2048
    big = late_case_file(tmp_path)
    big.write_text(big.read_text() + " " * 4096)  # above the configured 2 KiB whatever its content
    r = run("--config", str(cfg), "--data", str(tmp_path / "d"), "import", str(big))
    assert r.returncode == 1 and "above the import limit" in r.stderr


def test_unusable_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("--data", str(blocker / "sub"), "warnings")
    assert r.returncode == 1 and "cannot use data folder" in r.stderr


def test_the_headless_demo_keeps_to_its_own_folder_and_leaves_the_real_store_alone(tmp_path: Path) -> None:
    import signal
    import time

    data = tmp_path / "data"
    assert run("--data", str(data), "import", str(late_case_file(tmp_path))).returncode == 0
    real = (data / "hallwatch.db").read_bytes()
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--data", str(data), "--demo", "--headless"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            lines.append(line)
            if " warnings at " in line or time.monotonic() > deadline:
                break
        assert any(" warnings at " in x for x in lines), "".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, "".join(lines) + rest
    assert (data / "demo" / "hallwatch.db").exists()
    assert (data / "hallwatch.db").read_bytes() == real
    r = run("--data", str(data), "warnings", "--json", "--at", "2026-06-05T00:00:00+08:00")
    assert [w["key"] for w in json.loads(r.stdout)] == ["C-LATE/OVERDUE"]
