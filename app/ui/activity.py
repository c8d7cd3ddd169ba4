"""The sidebar's activity list: everything that waits for the model lane says so. Each queued or
running model task is a row — what it is, "waiting" or its progress, and a Cancel (×) — so a
user sees why Ask or an import has not answered yet, and can cancel. Recording (the live lane)
never waits behind these."""
from __future__ import annotations

from app.ui.qt import QLabel, QProgressBar, QSizePolicy, QToolButton, QWidget
from app.ui.widgets import hbox, muted, vbox

LABELS = {
    "live-process": "Writing minutes", "write-minutes": "Writing minutes", "recover-meeting": "Recovering a meeting",
    "import": "Importing", "ask": "Answering your question", "calendar-sync": "Syncing calendars",
    "calendar-sync-scheduled": "Syncing calendars", "install-model": "Downloading a model",
    "import-model": "Importing a model", "wizard-models": "Preparing the models", "check-models": "Checking models",
    "models": "Listing models",
}
QUIET = {"check-models", "models"}  # quick look-ups: shown only when they wait behind something


def label_of(handle) -> str:
    base = LABELS.get(handle.name, handle.name.replace("-", " ").capitalize())
    title = getattr(handle, "title", "")
    return f"{base}: {title}" if title else base


class ActivityRow(QWidget):
    def __init__(self, handle):
        super().__init__()
        self.handle = handle
        self.label = QLabel(label_of(handle))
        self.label.setWordWrap(True)
        self.state = muted("waiting…")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(5)
        self.bar.setRange(0, 0)
        self.cancel = QToolButton()
        self.cancel.setText("×")
        self.cancel.setAccessibleName(f"Cancel {label_of(handle).lower()}")
        self.cancel.setToolTip("Cancel")
        self.cancel.clicked.connect(lambda *_: self._cancel())
        self.setLayout(vbox(hbox(self.label, None, self.cancel, spacing=4), self.state, self.bar, spacing=2))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.update_from(handle)

    def update_from(self, handle, done: float = 0.0, total: float = 0.0, detail: str = "") -> None:
        running = handle.state == "running"
        self.label.setText(label_of(handle))
        self.bar.setVisible(running)
        if handle.cancelled:
            self.state.setText("cancelling…")
        elif not running:
            self.state.setText("waiting for the model…")
        elif detail or total:
            self.state.setText(detail or f"{int(100 * done / total)} %")
        else:
            self.state.setText("working…")
        if running and total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(1.0, done / total)))

    def _cancel(self) -> None:
        self.handle.cancel()
        self.cancel.setEnabled(False)
        self.update_from(self.handle)


class ActivityPanel(QWidget):
    """Queued and running model-lane tasks, newest last; hidden when nothing waits."""

    def __init__(self, tasks):
        super().__init__()
        self.tasks = tasks
        self.rows: dict[int, ActivityRow] = {}
        self.heading = muted("Working on")
        self.box = vbox(spacing=6)
        self.setLayout(vbox(self.heading, self.box, margins=(12, 6, 8, 6), spacing=4))
        self.setAccessibleName("Activity")
        tasks.task_queued.connect(self._changed)
        tasks.task_started.connect(self._changed)
        tasks.task_progress.connect(self._progress)
        tasks.task_finished.connect(self._finished)
        self.hide()

    def _shown(self, handle) -> bool:
        if handle.lane != "model":
            return False
        if handle.name in QUIET and handle.state == "running":
            return False
        return True

    def _changed(self, handle) -> None:
        if not self._shown(handle):
            self._drop(handle.id)
            return
        row = self.rows.get(handle.id)
        if row is None:
            row = self.rows[handle.id] = ActivityRow(handle)
            self.box.addWidget(row)
        row.update_from(handle)
        self.setVisible(bool(self.rows))

    def _progress(self, handle, done: float, total: float, detail: str) -> None:
        row = self.rows.get(handle.id)
        if row is not None:
            row.update_from(handle, done, total, detail)

    def _finished(self, handle) -> None:
        self._drop(handle.id)

    def _drop(self, hid: int) -> None:
        row = self.rows.pop(hid, None)
        if row is not None:
            self.box.removeWidget(row)
            row.deleteLater()
        self.setVisible(bool(self.rows))

    def labels(self) -> list[str]:
        return [f"{r.label.text()} — {r.state.text()}" for r in self.rows.values()]



