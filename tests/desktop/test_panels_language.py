"""The panels speak Chinese and switch language live.

The application's Chinese translation (``resources/i18n/hallwatch_zh_CN.qm``) is installed while
the panels are on screen, and their words change without rebuilding them — and change back when
it is removed.
"""

from __future__ import annotations

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
from desktop.operator.warnings import SUBJECT_MAX, SUBJECT_MIN, WarningsModel, WarningsPanel
from desktop.words import code_text, level_text
from tests.desktop.test_panels import NOW, SH, Clock

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="module")
def panels_qm() -> Path:
    """The application's Chinese translation (``resources/i18n``, built from ``zh_CN.toml``; its
    completeness is checked by ``tests/desktop/test_i18n.py``)."""
    qm = ROOT / "resources" / "i18n" / "hallwatch_zh_CN.qm"
    assert qm.is_file()
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


def test_the_subject_column_gives_way_so_the_department_shows_in_a_narrow_panel_in_either_language(
    qtbot: Any, chinese: QTranslator
) -> None:
    """English words are wider: at the operator window's 1600×900 the warnings dock is ~580 px,
    and a fixed 260 px Subject pushed Department off the panel behind a scrollbar. The Subject
    column now narrows (not below its minimum) so Level…Department fit, and widens back."""
    M = WarningsModel
    panel = WarningsPanel(None, None, SH, operator="op")
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    table = panel.table

    def department_right() -> int:
        return table.columnViewportPosition(M.DEPARTMENT) + table.columnWidth(M.DEPARTMENT)

    for language in ("en", "zh_CN"):
        if language == "zh_CN":
            QCoreApplication.installTranslator(chinese)
            qtbot.waitUntil(lambda: panel.ack_button.text() == "签收", timeout=5000)
        qtbot.waitUntil(lambda: department_right() <= table.viewport().width(), timeout=5000)
        assert SUBJECT_MIN <= table.columnWidth(M.SUBJECT) <= SUBJECT_MAX, language
        if language == "en":  # the English words needed the room: the subject gave way
            assert table.columnWidth(M.SUBJECT) < SUBJECT_MAX
        panel.resize(1400, 400)
        qtbot.waitUntil(lambda: table.columnWidth(M.SUBJECT) == SUBJECT_MAX, timeout=5000)
        panel.resize(600, 400)
        qtbot.waitUntil(lambda: department_right() <= table.viewport().width(), timeout=5000)
