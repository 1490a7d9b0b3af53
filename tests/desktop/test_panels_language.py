"""The panels speak Chinese and switch language live.

Every marked string of ``desktop/words.py`` and ``desktop/operator/`` has its Chinese in
``desktop/operator/zh_CN.toml`` (merged by the lead into ``resources/i18n/zh_CN.toml``); a
translation built from it with Qt's own tools (``pyside6-lupdate``/``pyside6-lrelease``, as
``resources/i18n/build.py`` does) is installed while the panels are on screen, and their words
change without rebuilding them — and change back when it is removed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QCoreApplication, Qt, QTranslator

from desktop.operator.cases import CasesModel, CasesPanel
from desktop.operator.lights import LightsBoard
from desktop.operator.performance import PerformancePanel
from desktop.operator.queue import QueuePanel
from desktop.operator.warnings import WarningsPanel
from desktop.words import code_text, level_text
from resources.i18n.build import fill
from tests.desktop.test_panels import NOW, SH, Clock

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "desktop" / "operator" / "zh_CN.toml"
# the panels' modules (window.py and run.py are the lead's, translated in resources/i18n/zh_CN.toml)
PANEL_MODULES = ("alarm", "cases", "common", "lights", "performance", "queries", "queue", "reader", "snapshot",
                 "warnings")


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


@pytest.fixture(scope="module")
def panels_qm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("i18n")
    ts, qm = tmp / "panels_zh_CN.ts", tmp / "panels_zh_CN.qm"
    sources = ["desktop/words.py", *(f"desktop/operator/{m}.py" for m in PANEL_MODULES)]
    subprocess.run([_tool("pyside6-lupdate"), *sources, "-locations", "none", "-no-obsolete",
                    "-target-language", "zh_CN", "-ts", str(ts)], check=True, cwd=ROOT, capture_output=True)
    with TABLE.open("rb") as f:
        zh = {str(k): str(v) for k, v in tomllib.load(f).items()}
    missing = fill(ts, zh)
    assert missing == [], f"strings without Chinese in {TABLE.name}: {missing}"
    subprocess.run([_tool("pyside6-lrelease"), str(ts), "-qm", str(qm)], check=True, capture_output=True)
    return qm


@pytest.fixture
def chinese(qtbot: Any, panels_qm: Path) -> Iterator[QTranslator]:
    t = QTranslator()
    assert t.load(str(panels_qm))
    yield t
    QCoreApplication.removeTranslator(t)


def test_panels_switch_to_chinese_and_back_live(qtbot: Any, chinese: QTranslator) -> None:
    warnings = WarningsPanel(None, None, SH, operator="op")
    cases = CasesPanel(None, SH, clock=Clock(NOW))
    queue = QueuePanel(None, SH, clock=Clock(NOW))
    perf = PerformancePanel(None, SH, clock=Clock(NOW))
    lights = LightsBoard(None)
    for w in (warnings, cases, queue, perf, lights):
        qtbot.addWidget(w)
        w.show()
    assert warnings.ack_button.text() == "Acknowledge"
    assert level_text("red") == "Red card"

    QCoreApplication.installTranslator(chinese)  # Qt sends every widget a LanguageChange
    qtbot.waitUntil(lambda: warnings.ack_button.text() == "签收", timeout=5000)
    assert level_text("red") == "红牌" and code_text("OVERDUE") == "超期"
    assert warnings.level.itemText(0) == "全部级别" and warnings.level.itemText(1) == "红牌"
    assert warnings.mute.text() == "静音"
    assert warnings.model.headerData(0, Qt.Orientation.Horizontal) == "级别"
    assert cases.status.itemText(0) == "在办件" and cases.footage.text() == "查看录像"
    assert cases.model.headerData(CasesModel.LEFT, Qt.Orientation.Horizontal) \
        == "剩余时限"
    assert queue.captions["longest"].text() == "最长等候"
    assert perf.period.itemText(1) == "本周" and perf.ranking.tabText(0) == "部门"
    assert cases.search.placeholderText() == "搜索办件编号、申请人或事项"

    QCoreApplication.removeTranslator(chinese)
    qtbot.waitUntil(lambda: warnings.ack_button.text() == "Acknowledge", timeout=5000)
    assert cases.status.itemText(0) == "Open cases" and perf.period.itemText(1) == "This week"
