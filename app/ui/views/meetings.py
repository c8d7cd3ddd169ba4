"""Meetings: a searchable list (title and full-text) beside the selected meeting's page,
plus importing a recording or transcript (the same pipeline as `kith process`)."""
from __future__ import annotations

from pathlib import Path

from app.ui.context import UiContext
from app.ui.qt import QLineEdit, QListWidget, QListWidgetItem, QSplitter, QStackedWidget, Qt, QTimer, QWidget
from app.ui.views.meeting_page import MeetingPage
from app.ui.widgets import EmptyState, TaskProgress, button, vbox
from app.ops.changes import Kind


def search_meetings(store, query: str) -> list:
    """Meetings whose title matches, then meetings whose transcript or notes match (FTS)."""
    q = query.strip()
    if not q:
        return store.meetings.list(limit=500)
    found = {m.id: m for m in store.meetings.list(limit=500, query=q)}
    try:
        for h in store.search(q, limit=100):
            if h.meeting_id and h.meeting_id not in found:
                found[h.meeting_id] = store.meetings.get(h.meeting_id)
    except Exception:  # noqa: BLE001 — a query FTS cannot parse still lists title matches
        pass
    return sorted(found.values(), key=lambda m: m.started_at, reverse=True)


class MeetingsView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search meetings, transcripts and notes (Ctrl+F)")
        self.search.setAccessibleName("Search meetings")
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.list = QListWidget()
        self.list.setAccessibleName("Meetings")
        self.list.currentItemChanged.connect(self._on_select)
        self.import_btn = button("Import recording or transcript…", self.import_file, name="Import a recording or transcript")
        self.progress = TaskProgress()
        left = QWidget()
        left.setLayout(vbox(self.search, self.list, self.import_btn, self.progress, spacing=6))
        left.setMinimumWidth(240)
        left.setMaximumWidth(340)

        self.page = MeetingPage(ctx)
        self.empty = EmptyState("No meetings yet",
                                "Record a meeting from Today or Live meeting, or import a recording or transcript. "
                                "Minutes, decisions and action items will appear here with links to what was said.",
                                "Import a file…")
        self.empty.action.connect(self.import_file)
        self.none_found = EmptyState("Nothing found", "No meeting, transcript line or note matches this search.")
        self.right = QStackedWidget()
        for w in (self.empty, self.none_found, self.page):
            self.right.addWidget(w)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.right)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        self.setLayout(vbox(split))
        self._pending_open: tuple[int, list[int] | None] | None = None
        self.sheet = None  # the open import sheet
        ctx.on_change((Kind.MEETINGS,), lambda _v: self.refresh())
        ctx.bridge.event.connect(self._stage_text)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def refresh(self) -> None:
        q = self.search.text()
        self.ctx.tasks.db(lambda s: search_meetings(s, q), lambda ms: self._show(ms, q), name="meetings")

    def _show(self, meetings: list, query: str) -> None:
        current = self.page.meeting_id
        self.list.blockSignals(True)
        self.list.clear()
        for m in meetings:
            item = QListWidgetItem(f"{m.title}\n{m.started_at.astimezone():%a %d %b %Y · %H:%M}")
            item.setData(Qt.ItemDataRole.UserRole, m.id)
            item.setToolTip(m.title)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if not meetings:
            self.right.setCurrentWidget(self.none_found if query.strip() else self.empty)
            return
        want = self._pending_open[0] if self._pending_open else current
        row = next((i for i in range(self.list.count()) if self.list.item(i).data(Qt.ItemDataRole.UserRole) == want), 0)
        self.list.setCurrentRow(row)  # → _on_select

    def _on_select(self, item, _prev=None) -> None:
        if item is None:
            return
        mid = item.data(Qt.ItemDataRole.UserRole)
        hl = None
        if self._pending_open and self._pending_open[0] == mid:
            hl = self._pending_open[1]
            self._pending_open = None
        self.right.setCurrentWidget(self.page)
        if mid != self.page.meeting_id or hl or self.page.data is None:
            self.page.load(mid, hl)

    def open_meeting(self, meeting_id: int, highlight: list[int] | None = None) -> None:
        self._pending_open = (meeting_id, highlight)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.right.setCurrentWidget(self.page)
        self.page.load(meeting_id, highlight)
        self.page.meeting_id = meeting_id
        self.refresh()

    def import_file(self, path: str | None = None) -> None:
        if not path:
            from app.ui.files import open_file

            path = open_file(self, self.ctx, "Import a recording or transcript",
                                                  "Recordings and transcripts (*.wav *.mp3 *.m4a *.flac *.ogg *.opus *.webm *.mp4 "
                                                  "*.vtt *.srt *.txt *.json);;All files (*)")
        if not path:
            return
        from app.ops import meetings as ops

        self.ctx.tasks.db_kith(lambda k: ops.import_plan(k, Path(path)).value, self._open_sheet, self.ctx.show_error,
                               name="import plan")

    def _open_sheet(self, plan) -> None:
        """The import sheet (window-modal, not blocking): Import processes with its choices."""
        from app.ui.views.import_sheet import ImportSheet

        self.sheet = ImportSheet(self.ctx, plan, self)
        self.sheet.accepted.connect(lambda: self._process(plan.path, self.sheet.options()))
        self.sheet.open()

    def _process(self, path: Path, opts) -> None:
        from app.ops import meetings as ops

        def run(kith, handle):
            return ops.process(kith, path, opts, engines=self.ctx.tasks.engines, bus=kith.bus,
                               cancel=handle.cancel_token)

        h = self.ctx.tasks.model(run, lambda r: self.open_meeting(r.value.meeting.id), self.ctx.show_error, name="import")
        self.progress.track(h, self.ctx.tasks, f"Processing {path.name}…")

    def _stage_text(self, ev) -> None:
        from app.meetings.pipeline import StageChanged

        if isinstance(ev, StageChanged) and self.progress.isVisible():
            self.progress.set_text({"transcribing": "Transcribing…", "extracting": "Writing the minutes…",
                                    "storing": "Saving…", "done": "Done"}.get(ev.stage, ev.stage))
