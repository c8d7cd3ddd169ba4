"""One meeting: minutes, decisions and action items with source links that jump to (and
highlight, and play) the cited transcript lines; the editable transcript; the user's notes;
export buttons."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.meetings.minutes import clock
from app.ui.audio import AudioPlayer, load_meeting_audio
from app.ui.context import UiContext
from app.ui.qt import (
    QAbstractItemView,
    QBrush,
    QColor,
    QHeaderView,
    QMenu,
    QPlainTextEdit,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QUrl,
    QWidget,
)
from app.ui.widgets import PageHeader, TaskProgress, button, confirm_destructive, hbox, muted, vbox
from app.ops.changes import Kind, OpChanges

REF = re.compile(r"\[S(\d+)\]")
HIGHLIGHT = QColor(255, 213, 79, 150)


@dataclass
class MeetingData:
    meeting: object
    segments: list
    minutes: str = ""  # AI minutes (Markdown with [S#] references)
    user_notes: list = field(default_factory=list)  # Note
    actions: list = field(default_factory=list)
    evidence: dict = field(default_factory=dict)  # action id -> [segment ids]
    people: list = field(default_factory=list)
    pending: int = 0


def load_meeting(store, meeting_id: int) -> MeetingData:
    m = store.meetings.get(meeting_id)
    notes = store.notes.for_meeting(meeting_id)
    ai = [n.body for n in notes if n.author == "ai"]
    actions = store.actions.list(meeting_id=meeting_id, status=["proposed", "open", "done"])
    return MeetingData(
        meeting=m,
        segments=store.segments.for_meeting(meeting_id),
        minutes="\n\n".join(ai),
        user_notes=[n for n in notes if n.author == "user"],
        actions=actions,
        people=store.meetings.participants(meeting_id),
        pending=len(store.suggestions.list(status="pending", meeting_id=meeting_id)),
    )


def linked_minutes(md: str, by_index: dict[int, object]) -> str:
    """[S12] → a link to segment 12 (by its stable segment id)."""

    def sub(mt: re.Match) -> str:
        seg = by_index.get(int(mt.group(1)))
        return f"[[S{mt.group(1)}]](seg:{seg.id})" if seg is not None else mt.group(0)

    return REF.sub(sub, md)


class MeetingPage(QWidget):
    COLS = ("Time", "Speaker", "Text")

    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.data: MeetingData | None = None
        self.meeting_id: int | None = None
        self.highlighted: list[int] = []
        self._row_of: dict[int, int] = {}
        self._loading = False
        self._audio = None  # (samples, rate) once loaded
        self.player = AudioPlayer()
        self.last_played: tuple[float, float] | None = None

        self.header = PageHeader("Meeting", "")
        self.export_btn = button("Export…", name="Export meeting")
        menu = QMenu(self)
        for label, fmt in (("Markdown", "markdown"), ("JSON", "json"), ("CSV (action items, people)", "csv"),
                           ("vCard (people)", "vcard"), ("Calendar (.ics) of action items", "ics")):
            menu.addAction(label, lambda f=fmt: self.export(f))
        self.export_btn.setMenu(menu)
        self.review_btn = button("Review suggestions", lambda: self.ctx.window.go("review"), name="Review this meeting's suggestions")
        self.review_btn.hide()
        self.header.add_action(self.review_btn)
        # on the subtitle's row: a fourth button on the first would squeeze the meeting's title
        self.followup_btn = button("Follow-up email…", self.followup, name="Draft a follow-up email for this meeting")
        self.followup_dialog = None
        self.header.add_action(self.followup_btn, second_row=True)
        self.header.add_action(self.export_btn)
        # the same operations as `kith meetings reprocess ID` and `kith meetings delete ID`
        self.more_btn = button("More…", name="More actions for this meeting")
        more = QMenu(self)
        self.reprocess_action = more.addAction("Write the minutes again", self.reprocess)
        self.delete_action = more.addAction("Delete this meeting…", self.delete_meeting)
        self.more_btn.setMenu(more)
        self.header.add_action(self.more_btn)
        self.progress = TaskProgress()
        ctx.tasks.task_progress.connect(lambda h, *_a: self._writing(h))
        ctx.tasks.task_finished.connect(self._written)

        self.minutes = QTextBrowser()
        self.minutes.setOpenLinks(False)
        self.minutes.anchorClicked.connect(self.on_link)
        self.minutes.setAccessibleName("Minutes")
        self.actions_view = QTextBrowser()
        self.actions_view.setOpenLinks(False)
        self.actions_view.anchorClicked.connect(self.on_link)
        self.actions_view.setAccessibleName("Action items")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Your own notes about this meeting (kept as you write them).")
        self.notes.setAccessibleName("Your notes")
        save_notes = button("Save notes", self.save_notes, name="Save your notes")
        notes_box = QWidget()
        notes_box.setLayout(vbox(self.notes, hbox(None, save_notes), margins=(0, 6, 0, 0)))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.minutes, "Minutes")
        self.tabs.addTab(self.actions_view, "Action items")
        self.tabs.addTab(notes_box, "Your notes")

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(self.COLS)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.horizontalHeader().sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.itemChanged.connect(self._on_edit)
        self.table.setAccessibleName("Transcript")
        self.play_btn = button("▶ Play selection", self.play_selection, name="Play the selected lines")
        tr_box = QWidget()
        tr_box.setLayout(vbox(hbox(muted("Transcript — double-click a speaker or a line to correct it."), None, self.play_btn),
                              self.table, spacing=4))

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(tr_box)
        split.setSizes([430, 520])
        split.setChildrenCollapsible(False)
        self.setLayout(vbox(self.header, self.progress, split, spacing=8))

    # -- reprocess / delete (app/ops/meetings.py, shared with the CLI) --------------------
    def followup(self) -> None:
        """The follow-up email draft (the same operation as `kith meetings followup ID`)."""
        if self.meeting_id is None:
            return
        from app.ops import meetings as ops

        mid = self.meeting_id

        def show(draft) -> None:
            from app.ui.views.followup_dialog import FollowUpDialog

            self.followup_dialog = FollowUpDialog(draft, self)
            self.followup_dialog.open()

        self.ctx.tasks.db_kith(lambda k: ops.followup(k, mid).value, show, self.ctx.show_error, name="follow-up")

    def reprocess(self) -> None:
        """Extract the minutes again from the stored transcript (model lane, with progress and
        cancel); the earlier minutes are replaced only when the new ones are written."""
        mid = self.meeting_id
        if mid is None:
            return

        def work(kith, handle):
            from app.ops.meetings import reprocess

            return reprocess(kith, mid, engines=self.ctx.tasks.engines, bus=kith.bus, cancel=handle.cancel_token)

        def done(_res) -> None:  # (the page redraws itself when a task for its meeting ends: _written)
            self.ctx.show_info("The minutes were written again from the transcript.")

        title = self.data.meeting.title if self.data else f"meeting {mid}"
        h = self.ctx.tasks.model(work, done, self.ctx.show_error, name="reprocess", title=title, meeting_id=mid)
        self.progress.track(h, self.ctx.tasks, "Writing minutes…")

    def delete_meeting(self, confirm: bool = True) -> None:
        mid = self.meeting_id
        if mid is None:
            return
        title = self.data.meeting.title if self.data else f"meeting {mid}"
        if confirm and not confirm_destructive(self, "Delete this meeting", f"Delete “{title}” with its transcript, "
                                               "minutes, action items and suggestions? This cannot be undone."):
            return

        def run(kith):
            from app.ops.meetings import delete

            return delete(kith, mid)

        def done(_res) -> None:
            self.meeting_id, self.data = None, None
            self.ctx.show_info(f"Deleted “{title}”.")
            if self.ctx.window is not None:
                self.ctx.window.go("meetings")

        self.ctx.tasks.db_kith(run, done, self.ctx.show_error, name="delete-meeting")

    # -- minutes being written for this meeting (import, Stop, recovery, reprocess) ----------
    def _writing(self, handle) -> bool:
        """Show ``handle``'s progress here when it writes this meeting's minutes."""
        if handle.lane != "model" or handle.meeting_id is None or handle.meeting_id != self.meeting_id \
                or handle.state not in ("queued", "running"):
            return False
        if self.progress.handle is not handle:
            self.progress.track(handle, self.ctx.tasks, handle.detail or "Writing minutes…")
        if self.data is not None and not self.data.minutes.strip():
            self.minutes.setHtml("<p style='color:gray'>" + (handle.detail or "Writing minutes…")
                                 + " The minutes appear here when they are ready.</p>")
        return True

    def _written(self, handle) -> None:
        if handle.lane == "model" and handle.meeting_id is not None and handle.meeting_id == self.meeting_id:
            self.load(handle.meeting_id)

    # -- loading -----------------------------------------------------------------------
    def load(self, meeting_id: int, highlight: list[int] | None = None) -> None:
        h = self.progress.handle
        if h is not None and h.meeting_id is not None and h.meeting_id != meeting_id:
            self.progress.release()  # another meeting's minutes: shown on that meeting's page
        self.meeting_id = meeting_id
        self._audio = None

        def shown(data: MeetingData) -> None:
            self.show_data(data)
            if highlight:
                self.highlight(highlight)

        self.ctx.tasks.db(lambda s: load_meeting(s, meeting_id), shown, name="meeting")

    def show_data(self, data: MeetingData) -> None:
        self.data = data
        m = data.meeting
        self.header.title.setText(m.title)
        who = ", ".join(p.name for p in data.people)
        dur = clock(data.segments[-1].end) if data.segments else "no transcript"
        self.header.set_subtitle(f"{m.started_at.astimezone():%A %d %B %Y, %H:%M} · {dur} · {m.template}"
                                 + (f" · with {who}" if who else "") + ("" if m.status == "processed" else f" · {m.status}"))
        self.review_btn.setVisible(data.pending > 0)
        self.review_btn.setText(f"Review {data.pending} suggestion{'s' if data.pending != 1 else ''}")
        by_index = {s.index: s for s in data.segments}
        if data.minutes.strip():
            self.minutes.setMarkdown(linked_minutes(data.minutes, by_index))
        else:
            self.minutes.setHtml("<p style='color:gray'>" + ("No minutes yet: this meeting has not been processed."
                                 if m.status != "processed" else "No minutes were produced (no speech was found).") + "</p>")
        self.actions_view.setHtml(self._actions_html(data))
        self.notes.setPlainText("\n\n".join(n.body for n in data.user_notes))
        self._fill_table(data.segments)
        for h in self.ctx.tasks.active():  # its minutes are being written right now
            if self._writing(h):
                break

    def _actions_html(self, data: MeetingData) -> str:
        if not data.actions:
            return "<p style='color:gray'>No action items were found in this meeting.</p>"
        idx = {s.id: s for s in data.segments}
        out = []
        for a in data.actions:
            due = f" — due {a.due_date:%d %b}" if a.due_date else ""
            mark = "☑" if a.status == "done" else "☐"
            src = " ".join(f"<a href='seg:{sid}'>[S{idx[sid].index}]</a>" for sid in a.evidence if sid in idx) or \
                "<span style='color:gray'>(no source)</span>"
            links = f"<a href='seg:{','.join(map(str, a.evidence))}'>source</a>" if a.evidence else ""
            extra = "" if a.status == "done" else f" · <a href='done:{a.id}'>mark done</a>"
            out.append(f"<p>{mark} <b>{html.escape(a.owner_text)}</b>: {html.escape(a.text)}{due} "
                       f"<span style='color:gray'>· {a.status}</span><br>&nbsp;&nbsp;{src} {links}{extra}</p>")
        return "".join(out)

    def _fill_table(self, segments: list) -> None:
        self._loading = True
        self.table.setRowCount(len(segments))
        self._row_of = {}
        for row, s in enumerate(segments):
            self._row_of[s.id] = row
            t = QTableWidgetItem(clock(s.start))
            t.setFlags(t.flags() & ~Qt.ItemFlag.ItemIsEditable)
            t.setData(Qt.ItemDataRole.UserRole, s.id)
            t.setToolTip(f"[S{s.index}]")
            self.table.setItem(row, 0, t)
            self.table.setItem(row, 1, QTableWidgetItem(s.speaker or "Speaker"))
            self.table.setItem(row, 2, QTableWidgetItem(s.text))
        self.table.resizeRowsToContents()
        self.highlighted = []
        self._loading = False

    # -- source links ------------------------------------------------------------------
    def on_link(self, url: QUrl) -> None:
        s = url.toString()
        kind, _, rest = s.partition(":")
        if kind == "seg":
            ids = [int(x) for x in rest.split(",") if x.strip().isdigit()]
            self.highlight(ids, play=True)
        elif kind == "done":
            aid = int(rest)
            self.ctx.tasks.db(lambda st: st.actions.set_status(aid, "done"),
                              lambda _r: (self.load(self.meeting_id), self.ctx.changed(OpChanges.of(Kind.ACTIONS))), name="done")

    def highlight(self, segment_ids: list[int], play: bool = False) -> None:
        """Select, colour and scroll to the cited lines; play them when audio is kept."""
        self._loading = True
        for row in range(self.table.rowCount()):
            for col in range(3):
                it = self.table.item(row, col)
                if it is not None:
                    it.setBackground(QBrush())
        rows = [self._row_of[i] for i in segment_ids if i in self._row_of]
        self.highlighted = [i for i in segment_ids if i in self._row_of]
        self.table.clearSelection()
        for row in rows:
            for col in range(3):
                self.table.item(row, col).setBackground(QBrush(HIGHLIGHT))
        self._loading = False
        if rows:
            self.table.scrollToItem(self.table.item(rows[0], 0), QAbstractItemView.ScrollHint.PositionAtCenter)
            self.table.setCurrentCell(rows[0], 2)
            self.table.clearSelection()  # the highlight colour shows, not the selection colour
            if play and self.data is not None:
                segs = [s for s in self.data.segments if s.id in set(self.highlighted)]
                self.play(min(s.start for s in segs), max(s.end for s in segs))

    def play_selection(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if not rows or self.data is None:
            return
        segs = [self.data.segments[r] for r in rows]
        self.play(segs[0].start, segs[-1].end)

    def play(self, start: float, end: float) -> None:
        self.last_played = (start, end)
        if self._audio is False:
            return
        if self._audio is not None:
            self.player.play(*self._audio, start, end, on_error=lambda e: self.ctx.tasks.call_soon(lambda: self.ctx.show_error(e)))
            return
        meeting = self.data.meeting

        def loaded(audio) -> None:
            self._audio = audio if audio is not None else False
            if audio is None:
                self.ctx.show_info("No recording is kept for this meeting, so there is nothing to play.",
                                   "The cited lines are highlighted in the transcript.")
            else:
                self.play(start, end)

        self.ctx.tasks.db(lambda s: load_meeting_audio(s, meeting), loaded, name="audio")

    # -- edits -------------------------------------------------------------------------
    def _on_edit(self, item: QTableWidgetItem) -> None:
        if self._loading or self.data is None:
            return
        seg = self.data.segments[item.row()]
        value = item.text().strip()
        if item.column() == 1 and value and value != seg.speaker:
            old, mid = seg.speaker, self.meeting_id
            # rename this voice everywhere in the meeting — the CLI's `kith speakers rename`: lines, minutes,
            # action-item owners, the contact as participant and their voice profile
            def renamed(res) -> None:
                self.load(mid)
                self.ctx.changed(OpChanges.of(Kind.ACTIONS))
                if getattr(res, "warning", ""):
                    self.ctx.show_info(f"Renamed {old} to {value}.", res.warning)

            def rename(store):
                from app.ops.people import rename_speaker

                return rename_speaker(store, mid, old, value).value

            self.ctx.tasks.db(rename, renamed, lambda e: (self.ctx.show_error(e), self.load(mid)), name="rename-speaker")
        elif item.column() == 2 and value and value != seg.text:
            seg.text = value
            self.ctx.tasks.db(lambda s: s.segments.update_text(seg.id, value), name="edit-text")

    def save_notes(self) -> None:
        from app.core.domain import Note

        body, mid, existing = self.notes.toPlainText(), self.meeting_id, list(self.data.user_notes if self.data else [])

        def write(store):
            with store.transaction():
                if existing:
                    first = existing[0]
                    first.body = body
                    store.notes.update(first)
                    for n in existing[1:]:
                        store.notes.delete(n.id)
                elif body.strip():
                    store.notes.add(Note(meeting_id=mid, author="user", body=body, kind="notes"))

        self.ctx.tasks.db(write, lambda _r: (self.ctx.show_info("Notes saved."), self.load(mid)), name="save-notes")

    def export(self, fmt: str, folder: str | None = None) -> None:
        if folder is None:
            from app.ui.files import pick_folder

            folder = pick_folder(self, self.ctx, "Export to folder")
        if not folder:
            return
        mid = self.meeting_id

        def run(store):
            from app.ops.export import export_files  # the CLI's `kith export FMT --meeting ID --out`

            return export_files(store, fmt, Path(folder), meeting_id=mid).value

        self.ctx.tasks.db(run, lambda files: self.ctx.show_info(f"Exported {len(files)} file(s) to {folder}."), name="export")
