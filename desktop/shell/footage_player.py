"""The footage of a camera at an instant: the archive reader's player with play/pause and ±10 s.

Opened by "show footage" from a warning, case or complaint until the full review window lands.
All file access happens on the player's own thread; the GUI paints its newest picture on a timer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.i18n import fmt
from desktop.theme import current_palette
from video.archive import ArchiveFrame, ArchiveGap, ArchiveReader, Player
from video.footage import FootageIndex

__all__ = ["FootagePlayer"]


class _Screen(QWidget):
    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self._shown: ArchiveFrame | ArchiveGap | None = None
        self._image: QImage | None = None
        self.setMinimumSize(480, 270)

    def tick(self) -> None:
        latest = self.player.latest()
        if latest is not self._shown:
            self._shown = latest
            if isinstance(latest, ArchiveFrame):
                px = latest.pixels
                self._image = QImage(px.data, px.shape[1], px.shape[0], px.strides[0], QImage.Format.Format_RGB888)
            else:
                self._image = None
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = current_palette()
        p.fillRect(self.rect(), pal.color("video_background"))
        shown = self._shown
        if self._image is not None and isinstance(shown, ArchiveFrame):
            img = self._image
            scale = min(self.width() / img.width(), self.height() / img.height())
            w, h = img.width() * scale, img.height() * scale
            p.drawImage(QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), img)
        else:
            p.setPen(pal.color("muted"))
            if isinstance(shown, ArchiveGap):
                text = fmt(self.tr("No footage here: %1"), shown.reason)
            else:
                text = self.tr("Loading footage…")
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        p.end()


class FootagePlayer(QDialog):
    """A camera's recorded footage from an instant (a margin before it), with play/pause and ±10 s."""

    def __init__(self, index: FootageIndex, camera_id: str, camera_name: str, at: datetime, tz: ZoneInfo, *,
                 margin: timedelta = timedelta(seconds=30), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.tz = tz
        self.camera_id = camera_id
        self.setWindowTitle(fmt(self.tr("Footage — %1"), camera_name))
        self.player = Player(ArchiveReader(index, camera_id, width=960, height=540))
        self.screen_ = _Screen(self.player, self)
        self.position = QLabel(self)
        self.note = QLabel(self)
        self.note.setStyleSheet("color: palette(placeholder-text)")
        self.play_button = QPushButton(self.tr("Play"), self)
        back = QPushButton(self.tr("−10 s"), self)
        fwd = QPushButton(self.tr("+10 s"), self)
        self.play_button.clicked.connect(self.toggle)
        back.clicked.connect(lambda: self.jump(-10))
        fwd.clicked.connect(lambda: self.jump(10))
        for key, slot in ((Qt.Key.Key_Space, self.toggle), (Qt.Key.Key_Left, lambda: self.jump(-10)),
                          (Qt.Key.Key_Right, lambda: self.jump(10))):
            QShortcut(QKeySequence(key), self).activated.connect(slot)
        controls = QHBoxLayout()
        for w in (back, self.play_button, fwd):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.note)
        controls.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.addWidget(self.screen_, 1)
        layout.addLayout(controls)
        self.resize(1000, 640)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(33)
        self.player.seek(at - margin)
        self.player.play()
        self.play_button.setText(self.tr("Pause"))

    def toggle(self) -> None:
        if self.player.status().playing:
            self.player.pause()
            self.play_button.setText(self.tr("Play"))
        else:
            self.player.play()
            self.play_button.setText(self.tr("Pause"))

    def jump(self, seconds: float) -> None:
        at = self.player.position
        if at is not None:
            self.player.seek(at + timedelta(seconds=seconds))

    def _tick(self) -> None:
        self.screen_.tick()
        at = self.player.position
        self.position.setText(at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S") if at else "")
        st = self.player.status()
        self.note.setText(self.tr("keyframes only") if st.keyframes_only else "")

    def done(self, result: int) -> None:
        self._timer.stop()
        self.player.stop()
        self.player.reader.close()
        super().done(result)
