"""Rebuild the translations: ``python -m resources.i18n.build`` (from the project root).

1. ``pyside6-lupdate`` collects every marked string of ``desktop/`` into ``hallwatch_zh_CN.ts``
   (existing translations are kept; strings no longer in the code become obsolete and are dropped);
2. the Chinese of each new string is taken from ``zh_CN.toml`` (English source = Chinese), the one
   file a translator edits;
3. ``pyside6-lrelease`` compiles ``hallwatch_zh_CN.qm``, which the application loads.

``--check`` changes nothing and exits 1 naming every string without a Chinese translation (the
test suite runs it).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TS = HERE / "hallwatch_zh_CN.ts"
QM = HERE / "hallwatch_zh_CN.qm"
TABLE = HERE / "zh_CN.toml"


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    return path


def sources() -> list[Path]:
    return sorted(p for p in (ROOT / "desktop").rglob("*.py"))


def collect(ts: Path) -> None:
    """lupdate: every marked string of desktop/ into ``ts`` (relative locations, no line numbers)."""
    subprocess.run(
        [_tool("pyside6-lupdate"), *[str(p.relative_to(ROOT)) for p in sources()], "-locations", "none",
         "-no-obsolete", "-target-language", "zh_CN", "-ts", str(ts)],
        check=True, cwd=ROOT, capture_output=True,
    )


def table() -> dict[str, str]:
    with TABLE.open("rb") as f:
        return {str(k): str(v) for k, v in tomllib.load(f).items()}


def fill(ts: Path, zh: dict[str, str]) -> list[str]:
    """Write the Chinese of every message into ``ts``; returns the sources that have none."""
    tree = ET.parse(ts)
    missing: list[str] = []
    for message in tree.getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        if translation is None:
            translation = ET.SubElement(message, "translation")
        plural = message.get("numerus") == "yes"
        text = zh.get(source)
        if text is None:
            missing.append(source)
            continue
        translation.attrib.pop("type", None)
        if plural:  # Chinese has one plural form
            for child in list(translation):
                translation.remove(child)
            translation.text = None
            ET.SubElement(translation, "numerusform").text = text
        else:
            translation.text = text
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check that every string has a translation")
    args = p.parse_args(argv)
    zh = table()
    with tempfile.TemporaryDirectory() as tmp:
        ts = Path(tmp) / TS.name
        collect(ts)
        missing = fill(ts, zh)
        if missing:
            print(f"{len(missing)} strings have no Chinese translation in {TABLE.name}:", file=sys.stderr)
            for m in missing:
                print(f"  {m!r}", file=sys.stderr)
            return 1
        if args.check:
            if not TS.exists() or TS.read_bytes() != ts.read_bytes():
                print(f"{TS.name} is out of date: run python -m resources.i18n.build", file=sys.stderr)
                return 1
            return 0
        shutil.copyfile(ts, TS)
    subprocess.run([_tool("pyside6-lrelease"), str(TS), "-qm", str(QM)], check=True, capture_output=True)
    print(f"wrote {TS.name} and {QM.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
