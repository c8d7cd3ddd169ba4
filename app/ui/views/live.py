"""Live meeting: a full view and a compact always-on-top panel (~360 px) to sit beside the
call. Level meters for You and Them, elapsed time, pause/stop, a "mic silent?" warning,
the live transcript and a notes pad; after Stop, progress and cancel while the minutes are
written from the transcript and the notes."""
from __future__ import annotations

from app.meetings.minutes import clock
from app.ui.context import UiContext
from app.ui.live_session import LiveSession
from app.ui.qt import QLabel, QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit, QProgressBar, QSplitter, Qt, QTimer, QWidget
from app.ui.widgets import Banner, LevelMeter, PageHeader, button, hbox, heading, muted, vbox
from app.ops.changes import Kind, OpChanges

STAGES = {"transcribing": "Finishing the transcript…", "extracting": "Writing the minutes from the transcript and your notes…",
          "storing": "Saving…", "done": "Done"}


class TranscriptList(QListWidget):
    """Final lines, plus one provisional (italic) line per channel while someone speaks."""

    def __init__(self, max_lines: int | None = None):
        super().__init__()
        self.setWordWrap(True)
        self.setAccessibleName("Live transcript")
        self.max_lines = max_lines
        self._partials: dict[int, QListWidgetItem] = {}
        self.setAlternatingRowColors(False)

    def add_final(self, seg) -> None:
        p = self._partials.pop(seg.channel, None)
        if p is not None:
            self.takeItem(self.row(p))
        it = QListWidgetItem(f"{clock(seg.start)}  {seg.speaker or 'Speaker'}: {seg.text.strip()}")
        self.insertItem(self._first_partial_row(), it)
        self._trim()
        self.scrollToBottom()

    def set_partial(self, channel: int, speaker: str, text: str) -> None:
        it = self._partials.get(channel)
        if it is None:
            it = QListWidgetItem()
            f = it.font()
            f.setItalic(True)
            it.setFont(f)
            it.setForeground(Qt.GlobalColor.gray)
            self._partials[channel] = it
            self.addItem(it)
        it.setText(f"{speaker}: {text.strip()} …")
        self.scrollToBottom()

    def _first_partial_row(self) -> int:
        rows = [self.row(p) for p in self._partials.values()]
        return min(rows) if rows else self.count()

    def _trim(self) -> None:
        if self.max_lines:
            while self.count() - len(self._partials) > self.max_lines:
                self.takeItem(0)

    def finals(self) -> list[str]:
        keep = set(id(p) for p in self._partials.values())
        return [self.item(i).text() for i in range(self.count()) if id(self.item(i)) not in keep]

    def reset_lines(self) -> None:
        self.clear()
        self._partials.clear()


class Controls(QWidget):
    """Elapsed time, meters, start/pause/stop — used by both sizes."""

    def __init__(self, view: "LiveView", compact: bool):
        super().__init__()
        self.view = view
        self.dot = QLabel("●")
        self.dot.setProperty("recdot", True)
        self.elapsed = QLabel("00:00:00")
        self.elapsed.setProperty("elapsed", True)
        self.elapsed.setAccessibleName("Elapsed time")
        self.you = LevelMeter("You")
        self.them = LevelMeter("Them")
        self.start_btn = button("● Start", view.start, name="Start recording", primary=True)
        self.pause_btn = button("Pause", view.toggle_pause, name="Pause recording")
        self.stop_btn = button("■ Stop", view.stop, name="Stop recording")
        meters = vbox(hbox(QLabel("You"), self.you), hbox(QLabel("Them"), self.them), spacing=4)
        if compact:
            self.setLayout(vbox(hbox(self.dot, self.elapsed, None, self.start_btn, self.pause_btn, self.stop_btn), meters, spacing=6))
        else:
            self.setLayout(hbox(self.dot, self.elapsed, meters, self.start_btn, self.pause_btn, self.stop_btn, spacing=12))

    def set_state(self, state: str) -> None:
        rec = state in ("recording", "paused")
        self.start_btn.setVisible(state in ("idle", "processing"))
        self.start_btn.setEnabled(state in ("idle", "processing"))
        self.pause_btn.setVisible(rec)
        self.stop_btn.setVisible(rec or state == "starting")
        self.stop_btn.setEnabled(rec)
        self.pause_btn.setText("Resume" if state == "paused" else "Pause")
        self.dot.setVisible(rec)
        self.dot.setStyleSheet("color: gray" if state == "paused" else "")


class CompactPanel(QWidget):
    """The always-on-top panel that sits beside a video call."""

    def __init__(self, view: "LiveView"):
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.view = view
        self.setWindowTitle("Kith — live")
        self.setAccessibleName("Kith compact live panel")
        self.setFixedWidth(360)
        self.resize(360, 560)
        self.controls = Controls(view, compact=True)
        self.warning = muted()
        self.warning.setStyleSheet("color: #d9822b")
        self.warning.hide()
        self.transcript = TranscriptList(max_lines=200)
        self.notes = QPlainTextEdit()
        self.notes.setDocument(view.notes.document())  # one notes pad, two views
        self.notes.setPlaceholderText("Your notes…")
        self.notes.setAccessibleName("Your notes (compact)")
        self.notes.setMaximumHeight(150)
        self.status = muted()
        self.full_btn = button("Open full view", self.back_to_full, name="Open full view")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.transcript)
        split.addWidget(self.notes)
        split.setSizes([330, 130])
        self.setLayout(vbox(self.controls, self.warning, split, hbox(self.status, None, self.full_btn), margins=(10, 10, 10, 10)))

    def back_to_full(self) -> None:
        self.hide()
        w = self.view.ctx.window
        if w is not None:
            w.showNormal()
            w.raise_()
            w.go("live")

    def closeEvent(self, ev) -> None:  # noqa: N802
        self.view.compact_btn.setChecked(False) if hasattr(self.view.compact_btn, "setChecked") else None
        super().closeEvent(ev)


class LiveView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.session = LiveSession(ctx)
        self.compact: CompactPanel | None = None
        self.header = PageHeader("Live meeting", "Kith listens to your microphone (You) and the call's audio (Them). "
                                 "Everything stays on this machine.")
        self.title = QLineEdit()
        self.title.setPlaceholderText("Meeting title")
        self.title.setAccessibleName("Meeting title")
        self.compact_btn = button("Compact panel", self.toggle_compact, name="Show the compact always-on-top panel",
                                  tip="A small panel that stays on top beside your call (Ctrl+Shift+C)")
        self.header.add_action(self.compact_btn)
        self.controls = Controls(self, compact=False)
        self.warning = Banner()
        self.transcript = TranscriptList()
        self.transcript_empty = muted("The transcript appears here as people speak.")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Your notes. Type freely during the call: the minutes are written from the transcript "
                                      "and these notes together, and your notes are kept as you wrote them.")
        self.notes.setAccessibleName("Your notes")
        self.session.notes_text = self.notes.toPlainText
        # autosave: 2 s after the last keystroke the notes go into the encrypted recording
        self.autosave = QTimer(self, interval=2000, singleShot=True)
        self.autosave.timeout.connect(lambda: self.session.autosave_notes(self.notes.toPlainText()))
        self.notes.textChanged.connect(self.autosave.start)
        self.stage = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumHeight(8)
        self.cancel_btn = button("Cancel", self.session.cancel_processing, name="Cancel writing the minutes")
        self.processing = QWidget()
        self.processing.setLayout(vbox(self.stage, hbox(self.bar, self.cancel_btn), spacing=4))
        self.processing.hide()
        left = QWidget()
        left.setLayout(vbox(heading("Transcript", 3), self.transcript_empty, self.transcript, spacing=4))
        right = QWidget()
        right.setLayout(vbox(heading("Your notes", 3), self.notes, spacing=4))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 380])
        split.setChildrenCollapsible(False)
        self.setLayout(vbox(self.header, hbox(QLabel("Title"), self.title), self.controls, self.warning, self.processing,
                            split, spacing=10))

        s = self.session
        s.state_changed.connect(self._on_state)
        s.line_final.connect(self._on_final)
        s.line_partial.connect(self._on_partial)
        s.levels.connect(self._on_levels)
        s.warning.connect(self._on_warning)
        s.caught_up.connect(self._clear_warning)
        s.stage.connect(lambda st: self.stage.setText(STAGES.get(st, st)))
        s.processed.connect(self._on_processed)
        s.failed.connect(self._on_failed)
        self.timer = QTimer(self, interval=250)
        self.timer.timeout.connect(self._tick)
        self._on_state("idle")

    # -- actions -------------------------------------------------------------------------
    def start(self, event=None) -> None:
        if self.session.state not in ("idle", "processing"):
            return
        if self.session.state == "processing":  # the previous meeting is stored; its minutes go on in the background
            if self.notes.toPlainText() == self.session.stopped_notes:
                self.notes.clear()
            if self.title.text().strip() == self.session.title:
                self.title.clear()
        self.transcript.reset_lines()
        if self.compact is not None:
            self.compact.transcript.reset_lines()
        self.warning.hide()
        if event is not None:
            self.title.setText(event.title)
        self.session.start(event=event, title=self.title.text().strip())

    def toggle_pause(self) -> None:
        if self.session.state == "paused":
            self.session.resume()
        else:
            self.session.pause()

    def stop(self, process: bool = True) -> None:
        self.autosave.stop()
        self.session.stop(process=process)

    def toggle_compact(self) -> None:
        if self.compact is None:
            self.compact = CompactPanel(self)
            self.compact.controls.set_state(self.session.state)
            for line in self.transcript.finals():
                self.compact.transcript.addItem(line)
        if self.compact.isVisible():
            self.compact.hide()
        else:
            screen = self.screen().availableGeometry() if self.screen() else None
            if screen is not None:
                self.compact.move(screen.right() - 380, screen.top() + 40)
            self.compact.show()
            self.compact.raise_()

    def close_compact(self) -> None:
        if self.compact is not None:
            self.compact.close()

    # -- session signals -----------------------------------------------------------------
    def _on_state(self, state: str) -> None:
        self.controls.set_state(state)
        if self.compact is not None:
            self.compact.controls.set_state(state)
        self.title.setEnabled(state in ("idle", "processing"))
        self.processing.setVisible(state in ("stopping", "processing", "storing"))
        self.cancel_btn.setVisible(state == "processing")
        if state == "starting":
            self.header.set_subtitle("Loading the speech model and opening the devices…")
        elif state in ("recording", "paused"):
            self.header.set_subtitle("Recording — encrypted on this machine." if state == "recording" else "Paused — nothing is recorded.")
            self.timer.start()
        elif state == "stopping":
            self.stage.setText("Finishing the transcript…")
            self.timer.stop()
        elif state == "idle":
            self.timer.stop()
            self.header.set_subtitle("Press Start (Ctrl+R) when the call begins. Everything stays on this machine.")
        if self.ctx.window is not None:
            self.ctx.window.set_recording(state in ("recording", "paused"))
        self._tick()

    def _tick(self) -> None:
        text = clock(self.session.seconds)
        self.controls.elapsed.setText(text)
        if self.compact is not None:
            self.compact.controls.elapsed.setText(text)
            self.compact.status.setText({"recording": "Recording", "paused": "Paused", "processing": "Writing minutes…",
                                         "stopping": "Stopping…"}.get(self.session.state, ""))

    def _on_final(self, seg) -> None:
        self.transcript_empty.hide()
        self.transcript.add_final(seg)
        if self.compact is not None:
            self.compact.transcript.add_final(seg)

    def _on_partial(self, ch: int, speaker: str, text: str) -> None:
        self.transcript_empty.hide()
        self.transcript.set_partial(ch, speaker, text)
        if self.compact is not None:
            self.compact.transcript.set_partial(ch, speaker, text)

    def _on_levels(self, you: float, them: float, pyou: float, pthem: float) -> None:
        for c in [self.controls] + ([self.compact.controls] if self.compact is not None else []):
            c.you.set_level(you, pyou)
            c.them.set_level(them, pthem)

    def _on_warning(self, text: str) -> None:
        self.warning.show_message(text, "", "warning")
        if self.compact is not None:
            self.compact.warning.setText("⚠ " + text)
            self.compact.warning.show()

    def _clear_warning(self) -> None:
        self.warning.hide()
        if self.compact is not None:
            self.compact.warning.hide()

    def _on_processed(self, meeting_id: int) -> None:
        if self.session.state != "idle":  # the next meeting is already recording: stay here
            self.ctx.changed(OpChanges.of(Kind.MEETINGS))
            self.ctx.changed(OpChanges.of(Kind.SUGGESTIONS))
            return
        self.notes.clear()
        self.title.clear()
        self.ctx.changed(OpChanges.of(Kind.MEETINGS))
        self.ctx.changed(OpChanges.of(Kind.SUGGESTIONS))
        if self.ctx.window is not None:
            self.ctx.window.open_meeting(meeting_id)

    def _on_failed(self, exc) -> None:
        from app.core.errors import Cancelled

        if isinstance(exc, Cancelled) and self.session.meeting_id:
            self.ctx.show_info("Writing the minutes was cancelled. The transcript and your notes are saved.")
            self.ctx.changed(OpChanges.of(Kind.MEETINGS))
            if self.ctx.window is not None:
                self.ctx.window.open_meeting(self.session.meeting_id)
            return
        self.ctx.show_error(exc)
