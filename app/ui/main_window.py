"""The main window: a sidebar of pages (built on first visit), a message banner, the tray
icon, shortcuts and remembered geometry."""
from __future__ import annotations

import importlib

from app.core.paths import resource_path
from app.ui.context import UiContext
from app.ui.qt import (
    QAction,
    QCloseEvent,
    QHBoxLayout,
    QIcon,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QSettings,
    QShortcut,
    QStackedWidget,
    QSystemTrayIcon,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.widgets import Banner, connect_clicked
from app.ops.changes import Kind, OpChanges

# key, label, module, class
PAGES = [
    ("today", "Today", "app.ui.views.today", "TodayView"),
    ("live", "Live meeting", "app.ui.views.live", "LiveView"),
    ("meetings", "Meetings", "app.ui.views.meetings", "MeetingsView"),
    ("people", "People & deals", "app.ui.views.people", "PeopleView"),
    ("review", "Review", "app.ui.views.review", "ReviewView"),
    ("actions", "Action items", "app.ui.views.actions", "ActionsView"),
    ("ask", "Ask", "app.ui.views.ask", "AskView"),
    ("settings", "Settings", "app.ui.views.settings", "SettingsView"),
]


class LockedPage(QWidget):
    """Shown instead of the pages while the encrypted data cannot be opened."""

    def __init__(self, retry):
        super().__init__()
        from app.ui.widgets import button, heading, hbox, muted, vbox

        self.title = heading("Your data is locked", 1)
        self.message = muted()
        self.hint = muted()
        self.retry = button("Try again", retry, name="Try the passphrase again", primary=True)
        self.setLayout(vbox(None, self.title, self.message, self.hint, hbox(self.retry, None), None, spacing=10))
        self.setAccessibleName("Your data is locked")
        self.hide()

    def set_message(self, message: str, hint: str) -> None:
        self.message.setText(message + " Nothing is lost: your meetings are still on this machine, encrypted.")
        self.hint.setText(f"→ {hint}" if hint else "")


def app_icon(recording: bool = False) -> QIcon:
    return QIcon(str(resource_path("resources", "icons", "kith-recording.svg" if recording else "kith.svg")))


class MainWindow(QMainWindow):
    painted = Signal()

    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        ctx.window = self
        self.setWindowTitle("Kith")
        self.setWindowIcon(app_icon())
        self.setAccessibleName("Kith main window")
        self._pages: dict[str, QWidget] = {}
        self._first_paint = False

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setAccessibleName("Sections")
        for key, label, _m, _c in PAGES:
            item = QListWidgetItem(label)
            item.setData(256, key)
            item.setData(257, label)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._on_nav)
        brand = QLabel("  Kith")
        brand.setProperty("heading", 2)
        self.status = QLabel()
        self.status.setProperty("muted", True)
        self.status.setWordWrap(True)
        side = QWidget()
        side.setObjectName("sidebar")
        side.setFixedWidth(188)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 14, 0, 10)
        sl.addWidget(brand)
        sl.addSpacing(8)
        sl.addWidget(self.nav, 1)
        from app.ui.activity import ActivityPanel

        self.activity = ActivityPanel(ctx.tasks)
        sl.addWidget(self.activity)
        sl.addWidget(self.status)
        self.status.setContentsMargins(12, 0, 8, 0)

        self.stack = QStackedWidget()
        self.banner = Banner()
        self.locked = LockedPage(self.unlock)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(18, 12, 18, 12)
        rl.addWidget(self.banner)
        rl.addWidget(self.stack, 1)
        rl.addWidget(self.locked, 1)
        central = QWidget()
        cl = QHBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(side)
        cl.addWidget(right, 1)
        self.setCentralWidget(central)

        ctx.tasks.task_failed.connect(lambda _h, e: self.show_error(e))
        ctx.tasks.locked.connect(self.show_locked)
        self._setup_shortcuts()
        self.tray = None
        self._setup_tray()
        self._restore_geometry()
        # Show the first page at once; its data (and the store) load after the first paint.
        self._deferred = True
        self.nav.setCurrentRow(0)
        self._deferred = False
        self.painted.connect(lambda: QTimer.singleShot(0, self._load_current))
        self.painted.connect(lambda: QTimer.singleShot(0, self.offer_recovery))
        ctx.on_change((Kind.SUGGESTIONS,), lambda _v: self.refresh_badges())
        self._notified: set = set()
        self.reminder = QTimer(self, interval=60_000)
        self.reminder.timeout.connect(self.check_upcoming)
        self.reminder.timeout.connect(self.sync_if_due)
        self._syncing = False
        self.reminder.start()

    # -- pages -------------------------------------------------------------------------
    def page(self, key: str) -> QWidget:
        if key not in self._pages:
            _k, _label, module, cls = next(p for p in PAGES if p[0] == key)
            w = getattr(importlib.import_module(module), cls)(self.ctx)
            self._pages[key] = w
            self.stack.addWidget(w)
        return self._pages[key]

    def go(self, key: str):
        row = next(i for i, p in enumerate(PAGES) if p[0] == key)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)  # → _on_nav
        else:
            self._on_nav(row)
        return self._pages[key]

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        w = self.page(PAGES[row][0])
        self.stack.setCurrentWidget(w)
        if getattr(self, "_deferred", False):
            return
        if hasattr(w, "refresh"):
            w.refresh()
        self.refresh_badges()

    def _load_current(self) -> None:
        w = self.stack.currentWidget()
        if hasattr(w, "refresh"):
            w.refresh()
        self.refresh_badges()

    def current_key(self) -> str:
        return PAGES[self.nav.currentRow()][0]

    def open_meeting(self, meeting_id: int, highlight: list[int] | None = None) -> None:
        self.go("meetings").open_meeting(meeting_id, highlight)

    def open_person(self, contact_id: int) -> None:
        self.go("people").open_contact(contact_id)

    def refresh_badges(self) -> None:
        def done(n: int) -> None:
            item = self.nav.item(next(i for i, p in enumerate(PAGES) if p[0] == "review"))
            item.setText(f"Review  ({n})" if n else "Review")
            item.setData(258, n)

        self.ctx.tasks.db(lambda s: len(s.suggestions.list(status="pending")), done, lambda _e: None, name="badge")

    # -- locked data (wrong passphrase, no keyring): say so instead of showing empty pages ------
    def show_locked(self, exc: BaseException) -> None:
        from app.ui.errors import describe

        msg, hint = describe(exc)
        self.locked.set_message(msg, hint)
        self.stack.hide()
        self.banner.hide()
        self.locked.show()

    def unlock(self) -> None:
        broker = self.ctx.kith.ask_passphrase
        if hasattr(broker, "reset"):
            broker.reset()
        self.locked.hide()
        self.stack.show()
        self._load_current()
        self.offer_recovery()

    # -- a meeting the app did not finish (crash, power loss) -------------------------------
    def ask_recover(self, question: str) -> bool:
        from app.ui.qt import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Question, "Recover a meeting", question, parent=self)
        yes = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        box.setInformativeText("It becomes a meeting and Kith writes its minutes. “Not now” keeps the recording "
                               "and asks again next time.")
        box.exec()
        return box.clickedButton() is yes

    def offer_recovery(self) -> None:
        """On start: each unfinished live recording is offered back and becomes a meeting with its notes."""
        from app.ui.recovery import find_unfinished_meetings

        directory = self.ctx.kith.paths.recordings

        def offer(items) -> None:
            for item in items:
                if self.ask_recover(item.question()):
                    self.recover(item)

        self.ctx.tasks.db(lambda s: find_unfinished_meetings(s, directory), offer, lambda _e: None, name="find-unfinished")

    def recover(self, item) -> None:
        from app.ui.recovery import recover_as_meeting

        def work(kith, handle):
            meeting, segs = recover_as_meeting(kith, kith.store(), item, handle.cancel_token)
            return meeting.id, bool(segs)

        def done(result) -> None:
            mid, has_transcript = result
            self.ctx.changed(OpChanges.of(Kind.MEETINGS))
            self.open_meeting(mid)
            self.show_info(f"Recovered “{item.title}” ({item.minutes} min) with your notes.",
                           "Kith is writing its minutes now." if has_transcript else "")
            if has_transcript:
                self.write_minutes(mid, item.notes)

        self.ctx.tasks.model(work, done, self.show_error, name="recover-meeting", title=item.title)

    def write_minutes(self, meeting_id: int, notes: str = "") -> None:
        """Minutes for a stored meeting from its transcript and the user's notes (model lane)."""
        def work(kith, handle):
            from app.ops.meetings import write_minutes

            # its change set (meetings, actions, suggestions) redraws the views
            return write_minutes(kith, meeting_id, notes, self.ctx.tasks.engines, kith.bus, handle.cancel_token)

        self.ctx.tasks.model(work, None, self.show_error, name="write-minutes", meeting_id=meeting_id)

    # -- messages ----------------------------------------------------------------------
    def show_error(self, exc: BaseException) -> None:
        from app.core.errors import Cancelled

        if isinstance(exc, Cancelled):
            self.banner.show_message("Cancelled.", "", "info")
            return
        self.banner.show_error(exc)

    def show_info(self, message: str, hint: str = "", action=None) -> None:
        self.banner.show_message(message, hint, "info", action=action)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    # -- desktop manners ---------------------------------------------------------------
    def _setup_shortcuts(self) -> None:
        for i, (key, label, _m, _c) in enumerate(PAGES, 1):
            sc = QShortcut(QKeySequence(f"Ctrl+{i}"), self)
            sc.activated.connect(lambda k=key: self.go(k))
        QShortcut(QKeySequence("Ctrl+R"), self).activated.connect(self.toggle_recording)
        QShortcut(QKeySequence("Ctrl+Shift+C"), self).activated.connect(self.toggle_compact)
        QShortcut(QKeySequence("Ctrl+F"), self).activated.connect(lambda: self.go("meetings").focus_search())
        QShortcut(QKeySequence("Ctrl+K"), self).activated.connect(lambda: self.go("ask").focus_question())

    def live(self):
        return self.page("live")

    def toggle_recording(self) -> None:
        live = self.go("live")
        if live.session.running:
            live.stop()
        else:
            live.start()

    def toggle_compact(self) -> None:
        self.live().toggle_compact()

    def _setup_tray(self) -> None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        self.tray = QSystemTrayIcon(app_icon(), self)
        self.tray.setToolTip("Kith")
        menu = QMenu(self)
        self.tray_record = QAction("Start recording", self)
        connect_clicked(self.tray_record, self.toggle_recording)
        self.tray_next = QAction("No upcoming meeting", self)
        self.tray_next.setEnabled(False)
        show = QAction("Show Kith", self)
        connect_clicked(show, lambda: (self.showNormal(), self.raise_(), self.activateWindow()))
        compact = QAction("Compact panel", self)
        connect_clicked(compact, self.toggle_compact)
        quit_ = QAction("Quit", self)
        connect_clicked(quit_, self.close)
        for a in (self.tray_record, self.tray_next, None, compact, show, None, quit_):
            menu.addSeparator() if a is None else menu.addAction(a)
        self.tray.setContextMenu(menu)
        self.tray.show()

    def set_recording(self, on: bool) -> None:
        self.setWindowIcon(app_icon(on))
        if self.tray is not None:
            self.tray.setIcon(app_icon(on))
            self.tray_record.setText("Stop recording" if on else "Start recording")

    def set_next_meeting(self, text: str) -> None:
        if self.tray is not None:
            self.tray_next.setText(text or "No upcoming meeting")

    def notify(self, title: str, text: str) -> None:
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, app_icon(), 15000)

    def sync_if_due(self) -> None:
        """Calendar sync on the user's own schedule (Settings: calendar sync every N minutes; 0 = only when asked)."""
        minutes = self.ctx.settings.calendar.sync_minutes
        if minutes <= 0 or self._syncing:
            return

        def run(kith, h):
            from app.ops.calendar import sync

            return sync(kith.store(), cancel=h.cancel_token, if_due_minutes=minutes)  # its changes redraw Today

        def finished(_res) -> None:
            self._syncing = False

        def failed(_exc) -> None:  # a scheduled sync fails quietly; "Sync now" shows the error
            self._syncing = False

        self._syncing = True
        self.ctx.tasks.model(run, finished, failed, name="calendar-sync-scheduled")

    def reminder_minutes(self) -> int:
        return int(self._qsettings().value("notify/minutes_before", 5))

    def check_upcoming(self) -> None:
        """A notification a few minutes before a meeting, with the first lines of its brief."""
        minutes = self.reminder_minutes()
        if minutes <= 0 or self.tray is None:
            return

        def load(store):
            from datetime import datetime, timedelta, timezone

            from app.calendar.repo import CalendarRepo

            now = datetime.now(timezone.utc)
            repo = CalendarRepo(store)
            out = []
            for ev in repo.events_between(now, now + timedelta(minutes=minutes)):
                if not ev.all_day and ev.start >= now and ev.id not in self._notified:
                    brief = repo.get_brief(ev.id) or {}
                    out.append((ev.id, ev.title, ev.local_start(), (brief.get("markdown") or "")[:300]))
            return out

        def show(items) -> None:
            for eid, title, start, brief in items:
                self._notified.add(eid)
                lines = [ln.strip("#-* ") for ln in brief.splitlines() if ln.strip()][1:4]
                self.notify(f"{title} at {start:%H:%M}", "\n".join(lines) or "Open Kith for the brief.")

        self.ctx.tasks.db(load, show, lambda _e: None, name="reminders")

    def _qsettings(self) -> QSettings:
        return QSettings(str(self.ctx.kith.paths.config / "ui.ini"), QSettings.Format.IniFormat)

    def _restore_geometry(self) -> None:
        geo = self._qsettings().value("window/geometry")
        if geo is None or not self.restoreGeometry(geo):
            self.resize(1120, 740)

    def save_geometry(self) -> None:
        qs = self._qsettings()
        qs.setValue("window/geometry", self.saveGeometry())
        qs.sync()

    def paintEvent(self, ev) -> None:  # noqa: N802
        super().paintEvent(ev)
        if not self._first_paint:
            self._first_paint = True
            self.painted.emit()

    def closeEvent(self, ev: QCloseEvent) -> None:  # noqa: N802
        live = self._pages.get("live")
        if live is not None and live.session.running:
            live.stop(process=False)
        if live is not None:
            live.close_compact()
        self.save_geometry()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(ev)
