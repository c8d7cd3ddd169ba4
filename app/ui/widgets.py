"""Small shared widgets: page headers, empty states, banners, level meters, task progress."""
from __future__ import annotations

from app.ui.errors import describe
from app.ui.qt import (
    QColor,
    QMessageBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPalette,
    QProgressBar,
    QPushButton,
    QSize,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)


def hbox(*items, margins=(0, 0, 0, 0), spacing=8, stretch_at: int | None = None) -> QHBoxLayout:
    lay = QHBoxLayout()
    lay.setContentsMargins(*margins)
    lay.setSpacing(spacing)
    for i, it in enumerate(items):
        if stretch_at == i:
            lay.addStretch(1)
        if it is None:
            lay.addStretch(1)
        elif isinstance(it, QWidget):
            lay.addWidget(it)
        else:
            lay.addLayout(it)
    if stretch_at is not None and stretch_at >= len(items):
        lay.addStretch(1)
    return lay


_GROWS = ("QAbstractScrollArea", "QSplitter", "QStackedWidget", "QTabWidget", "EmptyState")


def _grows(w: QWidget) -> bool:
    return any(c.__name__ in _GROWS for c in type(w).__mro__)


def vbox(*items, margins=(0, 0, 0, 0), spacing=8) -> QVBoxLayout:
    """A column; lists, editors, splitters and stacks take the spare height, the rest keep theirs."""
    lay = QVBoxLayout()
    lay.setContentsMargins(*margins)
    lay.setSpacing(spacing)
    growing = any(it is not None and isinstance(it, QWidget) and _grows(it) for it in items) or None in items
    for it in items:
        if it is None:
            lay.addStretch(1)
        elif isinstance(it, QWidget):
            lay.addWidget(it, 1 if _grows(it) else 0)
        else:
            lay.addLayout(it)
    if not growing:
        lay.addStretch(1)
    return lay


def button(text: str, slot=None, *, name: str = "", tip: str = "", primary: bool = False) -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(name or text.replace("&", ""))
    if tip:
        b.setToolTip(tip)
    if primary:
        b.setProperty("primary", True)
        b.setDefault(False)
    if slot is not None:
        connect_clicked(b, slot)
    return b


def connect_clicked(signal_owner, slot) -> None:
    """Connect a button's ``clicked`` (or an action's ``triggered``) to ``slot()`` called with NO
    arguments. Connected directly, Qt passes ``checked=False`` into the slot's first parameter
    with a default (``stop(process=...)``, ``erase_person(contact_id=...)``), which silently
    changes what the button does."""
    sig = signal_owner.triggered if hasattr(signal_owner, "triggered") else signal_owner.clicked
    sig.connect(lambda *_args: slot())


def muted(text: str = "", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setProperty("muted", True)
    lab.setWordWrap(wrap)
    return lab


def heading(text: str, level: int = 1) -> QLabel:
    lab = QLabel(text)
    lab.setProperty("heading", level)
    lab.setWordWrap(True)
    return lab


class PageHeader(QWidget):
    def __init__(self, title: str, subtitle: str = "", parent=None):
        super().__init__(parent)
        self.title = heading(title, 1)
        self.subtitle = muted(subtitle)
        self.actions = QHBoxLayout()
        self.actions.setSpacing(6)
        self.more_actions = QHBoxLayout()  # a second row, beside the subtitle (when the first is full)
        self.more_actions.setSpacing(6)
        top = hbox(self.title, None, self.actions)
        bottom = hbox(self.subtitle, self.more_actions)
        bottom.setStretch(0, 1)
        self.setLayout(vbox(top, bottom, spacing=2))
        self.subtitle.setVisible(bool(subtitle))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_subtitle(self, text: str) -> None:
        self.subtitle.setText(text)
        self.subtitle.setVisible(bool(text))

    def add_action(self, w: QWidget, second_row: bool = False) -> QWidget:
        (self.more_actions if second_row else self.actions).addWidget(w)
        return w


class EmptyState(QFrame):
    """What a fresh profile shows instead of a blank table: a title, a sentence, an action."""

    action = Signal()

    def __init__(self, title: str, text: str, action_text: str = "", parent=None):
        super().__init__(parent)
        self.setProperty("empty", True)
        self.title = heading(title, 2)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = muted(text)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        items: list = [None, self.title, self.text]
        self.button = None
        if action_text:
            self.button = button(action_text, self.action.emit, primary=True)
            items.append(hbox(None, self.button, None))
        items.append(None)
        self.setLayout(vbox(*items, margins=(24, 24, 24, 24), spacing=10))
        self.setAccessibleName(title)


class Banner(QFrame):
    """An inline message (error, warning or info) with an optional hint and a close button."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setProperty("banner", "info")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = muted()
        self.action = button("", self._act, name="Undo")
        self.action.hide()
        self._action_fn = None
        close = button("×", self.hide, name="Dismiss message")
        close.setFlat(True)
        close.setFixedWidth(28)
        self.setLayout(hbox(vbox(self.message, self.hint, spacing=2), self.action, close, margins=(10, 6, 6, 6)))
        self.setAccessibleName("Message")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.hide()

    def show_message(self, message: str, hint: str = "", kind: str = "info", action=None) -> None:
        """``action``: (label, fn) for a button in the message (e.g. Undo); runs once."""
        self._action_fn = action[1] if action else None
        self.action.setText(action[0] if action else "")
        self.action.setAccessibleName(action[0] if action else "Undo")
        self.action.setEnabled(True)
        self.action.setVisible(bool(action))
        self.setProperty("banner", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.message.setText(message)
        self.hint.setText(f"→ {hint}" if hint else "")
        self.hint.setVisible(bool(hint))
        self.show()

    def show_error(self, exc: BaseException) -> None:
        msg, hint = describe(exc)
        self.show_message(msg, hint, "error")

    def _act(self) -> None:
        fn, self._action_fn = self._action_fn, None
        self.action.setEnabled(False)
        self.hide()
        if fn is not None:
            fn()


class LevelMeter(QWidget):
    """A horizontal audio level bar (0..1 RMS, with a peak tick), labelled for screen readers."""

    def __init__(self, label: str, parent=None):
        super().__init__(parent)
        self._rms = 0.0
        self._peak = 0.0
        self.setAccessibleName(f"{label} level")
        self.setMinimumHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(120, 12)

    def set_level(self, rms: float, peak: float | None = None) -> None:
        # perceptual scale: -60 dBFS → 0, 0 dBFS → 1
        import math

        def scale(x: float) -> float:
            return 0.0 if x <= 1e-6 else max(0.0, min(1.0, 1 + 20 * math.log10(x) / 60))

        self._rms = scale(rms)
        self._peak = scale(peak if peak is not None else rms)
        self.update()

    @property
    def value(self) -> float:
        return self._rms

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.rect().adjusted(0, 1, 0, -1)
        pal = self.palette()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pal.color(QPalette.ColorRole.Mid))
        p.drawRoundedRect(r, 4, 4)
        w = int(r.width() * self._rms)
        if w > 0:
            color = QColor("#3fa34d") if self._rms < 0.8 else QColor("#d9822b")
            p.setBrush(color)
            p.drawRoundedRect(r.adjusted(0, 0, w - r.width(), 0), 4, 4)
        x = r.left() + int(r.width() * self._peak)
        p.setBrush(pal.color(QPalette.ColorRole.Text))
        p.drawRect(max(r.left(), x - 1), r.top(), 2, r.height())
        p.end()


class TaskProgress(QWidget):
    """A label, a progress bar and a Cancel button bound to a running task."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(8)
        self.cancel_button = button("Cancel", self._cancel, name="Cancel task")
        self._handle = None
        self._tasks = None
        self.setLayout(vbox(self.label, hbox(self.bar, self.cancel_button), spacing=4))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.hide()

    def track(self, handle, tasks, text: str) -> None:
        self._handle = handle
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(not handle.cancelled)
        self.show()
        if self._tasks is not tasks:  # connected once per task manager, whatever the number of tracks
            self._tasks = tasks
            tasks.task_progress.connect(self._on_progress)
            tasks.task_finished.connect(self._on_finished)

    @property
    def handle(self):
        return self._handle

    def release(self) -> None:
        """Stop showing the task (it goes on; e.g. the page now shows something else)."""
        self._handle = None
        self.hide()

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def _on_progress(self, handle, done: float, total: float, detail: str) -> None:
        if handle is not self._handle:
            return
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(1.0, done / total)))
        if detail:
            self.label.setText(detail)

    def _on_finished(self, handle) -> None:
        if handle is self._handle:
            self._handle = None
            self.hide()

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling…")


def clear_layout(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())


def confirm_destructive(parent, title: str, text: str) -> bool:
    """A warning that defaults to Cancel, for what cannot be undone; True when the user chose Yes."""
    buttons = QMessageBox.StandardButton
    return QMessageBox.warning(parent, title, text, buttons.Cancel | buttons.Yes, buttons.Cancel) == buttons.Yes
