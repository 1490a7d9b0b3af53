"""Regenerate the README's screenshots: ``python resources/screenshots/make.py`` (from the project root).

Each is ``python main.py --demo screenshot OUT --after S --size 1600x900 --lang L --theme T`` on a
fresh demo folder and fresh window settings, rendered offscreen: the operator window over the
embedded demo, once Chinese and dark (the default), once English and light; then the leader
dashboard (``--role leader``): its overview in Chinese and dark, its video wall in English and light.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHOTS = (("operator-zh_CN-dark.png", "zh_CN", "dark"), ("operator-en-light.png", "en", "light"))
LEADER_SHOTS = (("leader-zh_CN-dark.png", "zh_CN", "dark", "overview"), ("leader-en-light.png", "en", "light", "video"))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        for name, lang, theme in SHOTS:
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(Path(tmp) / f"cfg-{lang}")}
            cmd = [sys.executable, str(ROOT / "main.py"), "--data", str(data), "--demo", "screenshot",
                   str(HERE / name), "--after", "25", "--size", "1600x900", "--lang", lang, "--theme", theme]
            code = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
            if code != 0:
                print(f"{name}: failed ({code})", file=sys.stderr)
                return code
        for name, lang, theme, page in LEADER_SHOTS:
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(Path(tmp) / f"cfg-l-{lang}")}
            cmd = [sys.executable, str(ROOT / "main.py"), "--data", str(data), "--demo", "--role", "leader",
                   "screenshot", str(HERE / name), "--after", "20", "--size", "1600x900", "--lang", lang,
                   "--theme", theme, "--page", page]
            code = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
            if code != 0:
                print(f"{name}: failed ({code})", file=sys.stderr)
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
