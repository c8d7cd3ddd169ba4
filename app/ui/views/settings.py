"""Settings: audio devices with a live test meter; models (installed, sizes, choose, import,
download with progress and cancel); calendars; privacy; you & templates."""
from __future__ import annotations

import threading
from pathlib import Path


from app.ui.context import UiContext
from app.ui.qt import (
    QAbstractItemView,
    QComboBox,
    QDesktopServices,
    QFormLayout,
    QHeaderView,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QUrl,
    QWidget,
)
from app.ui.views.settings_privacy import PrivacyTab, YouTab
from app.ui.files import open_file, pick_folder
from app.ui.widgets import LevelMeter, PageHeader, TaskProgress, button, hbox, heading, muted, vbox


def _size(n: int) -> str:
    if not n:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class AudioTab(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.devices: list = []
        self.mic = QComboBox()
        self.mic.setAccessibleName("Microphone")
        self.system = QComboBox()
        self.system.setAccessibleName("System audio")
        self.meter = LevelMeter("Test")
        self.test_btn = button("Test", self.toggle_test, name="Test the selected microphone")
        self.refresh_btn = button("Refresh devices", self.refresh, name="Refresh devices")
        self.status = muted("")
        self._test_stop: threading.Event | None = None
        form = QFormLayout()
        form.addRow("Microphone (You)", self.mic)
        form.addRow("Call audio (Them)", self.system)
        form.addRow("Test meter", hbox(self.meter, self.test_btn))
        self.mic.currentIndexChanged.connect(lambda _i: self._save())
        self.system.currentIndexChanged.connect(lambda _i: self._save())
        self.setLayout(vbox(heading("Audio devices", 2), muted("Kith records your microphone as “You” and the call's "
                                                               "sound (a monitor/loopback source) as “Them”."),
                            form, hbox(self.refresh_btn, None), self.status, None, spacing=10))
        self._loaded = False

    def refresh(self) -> None:
        def load(_h):
            from app.capture.devices import list_devices

            return list_devices()

        self.status.setText("Looking for devices…")
        self.ctx.tasks.live(load, self._fill, self._fail, name="devices")

    def _fail(self, exc) -> None:
        from app.ui.errors import describe

        msg, hint = describe(exc)
        self.status.setText(f"{msg} {hint}")
        for box in (self.mic, self.system):
            box.blockSignals(True)
            box.clear()
            box.addItem("System default", "")
            box.blockSignals(False)

    def _fill(self, devices: list) -> None:
        self.devices = devices
        s = self.ctx.settings.capture
        for box, current, kinds in ((self.mic, s.mic, ("mic", "input")), (self.system, s.system, ("monitor", "loopback"))):
            box.blockSignals(True)
            box.clear()
            box.addItem("System default", "")
            for d in devices:
                box.addItem(f"{d.description or d.name} ({d.kind})", d.id)
            box.setCurrentIndex(max(0, box.findData(current)))
            box.blockSignals(False)
        self.status.setText(f"{len(devices)} input device(s) found." if devices else "No input devices found.")
        self._loaded = True

    def _save(self) -> None:
        if not self._loaded:
            return
        s = self.ctx.settings.capture
        s.mic = self.mic.currentData() or ""
        s.system = self.system.currentData() or ""
        self.ctx.save_settings()

    def toggle_test(self) -> None:
        if self._test_stop is not None:
            self._test_stop.set()
            return
        stop = threading.Event()
        self._test_stop = stop
        self.test_btn.setText("Stop test")
        spec = self.mic.currentData() or ""
        rate = self.ctx.settings.capture.sample_rate
        tasks = self.ctx.tasks

        def run(_h):
            import numpy as np

            from app.capture.devices import choose, open_source

            mic, _s, _n = choose(spec, None)
            src = open_source(mic, rate)
            last = [0.0]

            def sink(block, t) -> None:
                if t - last[0] >= 0.05:
                    last[0] = t
                    rms = float(np.sqrt(np.mean(np.square(block)))) if len(block) else 0.0
                    peak = float(np.max(np.abs(block))) if len(block) else 0.0
                    tasks.call_soon(lambda: self.meter.set_level(rms, peak))

            src.start(sink, lambda reason: stop.set())
            try:
                stop.wait(15)
            finally:
                src.stop()
            return mic.name

        def done(name) -> None:
            self._test_stop = None
            self.test_btn.setText("Test")
            self.meter.set_level(0)
            self.status.setText(f"Tested {name}. If the bar moved when you spoke, the microphone works.")

        def fail(exc) -> None:
            done("")
            self._fail(exc)

        tasks.live(run, done, fail, name="device-test")


class ModelsTab(QWidget):
    COLS = ("Model", "Kind", "Size", "State", "Where")

    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.status_rows: list = []
        self.table = QTableWidget(0, len(self.COLS))
        self.table.setHorizontalHeaderLabels(self.COLS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hh = self.table.horizontalHeader()
        for i in range(4):
            hh.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Models")
        self.speech = QComboBox()
        self.speech.setEditable(True)
        self.speech.setAccessibleName("Speech model")
        self.llm = QComboBox()
        self.llm.setEditable(True)
        self.llm.setAccessibleName("Language model")
        self.apply_btn = button("Use these models", self.apply, name="Use the chosen models", primary=True)
        self.install_btn = button("Install / download selected", self.install_selected, name="Install the selected model")
        self.import_btn = button("Import a local model…", self.import_file, name="Import a local model file or folder")
        self.progress = TaskProgress()
        self.check = muted("")
        form = QFormLayout()
        form.addRow("Speech (Whisper)", self.speech)
        form.addRow("Language model (GGUF)", self.llm)
        self.setLayout(vbox(heading("Models", 2), muted("Models run on this machine. Pick a catalog name or a path to a "
                                                        "model folder (.bin) or .gguf file."),
                            form, hbox(self.check, None, self.apply_btn), heading("Installed and available", 3), self.table,
                            hbox(self.import_btn, None, self.install_btn), self.progress, spacing=8))

    def refresh(self) -> None:
        paths = self.ctx.kith.paths

        def load(_k, _h):
            from app.catalog import model_status

            return model_status(paths)

        self.ctx.tasks.model(load, self._fill, self.ctx.show_error, name="models")

    def _fill(self, rows: list) -> None:
        self.status_rows = rows
        self.table.setRowCount(len(rows))
        for r, m in enumerate(rows):
            state = {"ready": "✓ ready", "installed": "✓ installed", "unverified": "installed (unverified)",
                     "available": "download", "missing": "missing", "corrupt": "damaged"}.get(m.state, m.state)
            where = m.where or m.source
            if where.startswith("http"):
                where = "download from " + where.split("/")[2]
            for c, v in enumerate((m.name, "speech" if m.kind == "whisper" else "language", _size(m.size), state, where)):
                it = QTableWidgetItem(v)
                if c == 0:
                    it.setToolTip(m.description or m.name)
                self.table.setItem(r, c, it)
        s = self.ctx.settings
        for box, kind, current in ((self.speech, "whisper", s.transcribe.model), (self.llm, "llm", s.llm.model)):
            box.blockSignals(True)
            box.clear()
            for m in rows:
                if m.kind == kind:
                    box.addItem(m.name)
            if box.findText(current) < 0:
                box.addItem(current)
            box.setCurrentText(current)
            box.blockSignals(False)

    def apply(self) -> None:
        speech, llm = self.speech.currentText().strip(), self.llm.currentText().strip()
        paths = self.ctx.kith.paths
        self.check.setText("Checking the models…")

        def check(_k, h):
            from app.catalog import resolve_llm, resolve_whisper

            resolve_whisper(paths, speech, cancel=h.cancel_token)
            resolve_llm(paths, llm, cancel=h.cancel_token)

        def ok(_r) -> None:
            s = self.ctx.settings
            s.transcribe.model, s.llm.model = speech, llm
            self.ctx.save_settings()
            self.ctx.tasks.forget_engines()
            self.check.setText("✓ Saved. New meetings use these models.")
            self.refresh()

        def bad(exc) -> None:
            self.check.setText("Not saved — see the message above.")
            self.ctx.show_error(exc)

        h = self.ctx.tasks.model(check, ok, bad, name="check-models")
        self.progress.track(h, self.ctx.tasks, "Checking (a model joined from parts is verified once)…")

    def selected(self):
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return self.status_rows[rows[0]] if rows else None

    def install_selected(self) -> None:
        m = self.selected()
        if m is None:
            self.ctx.show_info("Select a model in the table first.")
            return
        self.install(m.name)

    def install(self, name: str):
        paths = self.ctx.kith.paths

        def run(_k, h):
            from app.catalog import install_model

            def progress(done, total) -> None:
                h.progress(done, total, f"{name}: {_size(done)} of {_size(total)}" if total else f"{name}: {_size(done)}")

            return install_model(paths, name, progress=progress, cancel=h.cancel_token)

        h = self.ctx.tasks.model(run, lambda _p: (self.ctx.show_info(f"{name} is ready."), self.refresh()),
                                 self.ctx.show_error, name="install-model")
        self.progress.track(h, self.ctx.tasks, f"Installing {name}…")
        return h

    def import_file(self, path: str | None = None) -> None:
        if not path:
            path = open_file(self, self.ctx, "Import a GGUF model (or cancel to pick a Whisper folder)",
                             "GGUF models (*.gguf);;All files (*)")
        if not path:
            path = pick_folder(self, self.ctx, "Import a CTranslate2 Whisper folder")
        if not path:
            return
        paths = self.ctx.kith.paths

        def run(_k, h):
            from app.catalog import import_model

            return import_model(paths, path, progress=lambda d, t: h.progress(d, t, "Checking the file…"), cancel=h.cancel_token)

        h = self.ctx.tasks.model(run, lambda e: (self.ctx.show_info(f"Imported {e.get('name', Path(path).name)}."), self.refresh()),
                                 self.ctx.show_error, name="import-model")
        self.progress.track(h, self.ctx.tasks, f"Importing {Path(path).name}…")


class CalendarsTab(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.list = QListWidget()
        self.list.setAccessibleName("Calendars")
        self.add_ics = button("Add .ics file…", self.add_ics_file, name="Add an iCalendar file")
        self.google = button("Connect Google Calendar…", self.connect_google, name="Connect Google Calendar")
        self.sync = button("Sync now", self.sync_now, name="Sync calendars now", primary=True)
        self.progress = TaskProgress()
        self.setLayout(vbox(heading("Calendars", 2), muted("Calendar sync is the only thing here that goes online, and only "
                                                           "when you press Sync (or at the interval you choose)."),
                            self.list, hbox(self.add_ics, self.google, None, self.sync), self.progress, spacing=8))

    def refresh(self) -> None:
        def load(store):
            from app.calendar.repo import CalendarRepo

            repo = CalendarRepo(store)
            return [(s, repo.count_events(s.id)) for s in repo.list_sources()]

        self.ctx.tasks.db(load, self._fill, name="calendars")

    def _fill(self, rows) -> None:
        self.list.clear()
        for s, n in rows:
            synced = f", synced {s.synced_at:%d %b %H:%M}" if getattr(s, "synced_at", None) and hasattr(s.synced_at, "strftime") else ""
            self.list.addItem(f"{s.name} ({s.kind}) — {n} event(s){synced}")
        if not rows:
            self.list.addItem("No calendar yet. Add an .ics file or connect Google Calendar.")

    def add_ics_file(self, path: str | None = None) -> None:
        if not path:
            path = open_file(self, self.ctx, "Add a calendar file", "iCalendar (*.ics);;All files (*)")
        if not path:
            return

        def run(store):
            from app.ops.calendar import add_feed

            return add_feed(store, path)  # its change set (calendar) redraws Today

        def done(res) -> None:
            rec, report = res.value
            self.ctx.show_info(f"Added {rec.name}: {report.added} event(s).")
            self.refresh()

        self.ctx.tasks.db(run, done, self.ctx.show_error, name="add-ics")

    def sync_now(self) -> None:
        def run(kith, h):
            from app.ops.calendar import sync

            return sync(kith.store(), cancel=h.cancel_token)

        def done(res) -> None:
            reports = res.value
            notes = [f"{r.name}: {r.note}" for r in reports if getattr(r, "note", "")]
            self.ctx.show_info(f"Synced {len(reports)} calendar(s).", "; ".join(notes))
            self.refresh()

        h = self.ctx.tasks.model(run, done, self.ctx.show_error, name="calendar-sync")
        self.progress.track(h, self.ctx.tasks, "Syncing calendars…")

    def connect_google(self) -> None:
        path = open_file(self, self.ctx, "Google OAuth client file (client_secret….json)", "JSON (*.json)")
        if not path:
            return
        tasks = self.ctx.tasks

        def run(kith, h):
            from app.calendar.google import connect, load_client_config

            cfg = load_client_config(path)
            return connect(kith.store(), cfg, lambda url: tasks.call_soon(lambda: QDesktopServices.openUrl(QUrl(url))))

        h = tasks.model(run, lambda r: (self.ctx.show_info(f"Connected {r[0]}."), self.sync_now()), self.ctx.show_error,
                        name="google-connect")
        self.progress.track(h, tasks, "Waiting for you to sign in in the browser…")


class SettingsView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.tabs = QTabWidget()
        self.audio = AudioTab(ctx)
        self.models = ModelsTab(ctx)
        self.calendars = CalendarsTab(ctx)
        self.privacy = PrivacyTab(ctx)
        self.you = YouTab(ctx)
        for w, label in ((self.audio, "Audio"), (self.models, "Models"), (self.calendars, "Calendars"),
                         (self.privacy, "Privacy"), (self.you, "You && templates")):
            self.tabs.addTab(w, label)
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        self.setLayout(vbox(PageHeader("Settings", f"Saved in {ctx.kith.paths.settings_file}"), self.tabs, spacing=10))

    def refresh(self) -> None:
        w = self.tabs.currentWidget()
        if hasattr(w, "refresh"):
            w.refresh()

    def show_tab(self, label: str) -> None:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).replace("&&", "&") == label:
                self.tabs.setCurrentIndex(i)
