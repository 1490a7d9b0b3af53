"""The project installed as users get it: a wheel (not editable) in a fresh virtual environment,
run from another folder. ``hallwatch --demo --headless`` starts the embedded demo (the reference
server is a base dependency, the demo hall a packaged resource) and prints its first warnings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def test_the_installed_wheel_runs_the_headless_demo_from_another_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    # This checkout must not be on the new environment's path (a PYTHONPATH would make pip think the
    # project is installed already, and run this checkout's code instead of the wheel's).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = list(wheels.glob("hallwatch-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=env)
    purelib = Path(
        subprocess.run(
            [str(_bin(venv, "python")), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
    )
    install = subprocess.run(
        [str(_bin(venv, "python")), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # The dependencies come from this environment's site-packages, added after the install (pip would
    # take this checkout's editable install for the project): a path entry, whose .pth files (the
    # editable finder among them) are not processed; the project itself is the wheel.
    (purelib / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    for resource in (
        "resources/demo/hall.json",
        "resources/themes/theme.qss",
        "resources/i18n/hallwatch_zh_CN.qm",
        "app/terminal.py",
        "desktop/operator/window.py",
    ):
        assert (purelib / resource).is_file(), f"{resource} is not in the wheel"
    assert _bin(venv, "hallwatch-gui").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.Popen(
        [str(_bin(venv, "hallwatch")), "--data", str(tmp_path / "data"), "--demo", "--headless"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    printed = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if " warnings at " in line and not line.startswith("0 warnings"):
                printed.set()

    reader = threading.Thread(target=read, name="demo-output")
    reader.start()
    try:
        assert printed.wait(120), "".join(lines)[-3000:]
        imported = subprocess.run(
            [str(_bin(venv, "python")), "-c", "import app, main; print(app.__file__, main.__file__)"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert str(ROOT) not in imported, imported  # the wheel's code ran, not this checkout's
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            reader.join(10)
            if proc.stdout is not None:
                proc.stdout.close()
    assert code == 0, "".join(lines)[-3000:]
