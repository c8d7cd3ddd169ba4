"""Review queue: the AI's suggestions with their evidence. Accept (optionally after editing),
or reject, one or many. Nothing the AI proposes touches the CRM before this."""
from __future__ import annotations


from app.meetings.minutes import clock, evidence_of, suggestion_line
from app.ops.review import apply_edits, decide, editable_fields
from app.ui.context import UiContext
from app.ui.qt import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStackedWidget,
    Qt,
    QTextBrowser,
    QWidget,
)
from app.ui.widgets import EmptyState, PageHeader, button, clear_layout, hbox, heading, vbox
from app.ops.changes import Kind, OpChanges

KIND_LABEL = {"create_contact": "New person", "update_contact": "Update a person", "create_company": "New company",
              "update_deal": "Deal update", "action_item": "Action item", "link_contact": "Same person?"}


def load_pending(store) -> list[tuple]:
    out = []
    titles: dict[int, str] = {}
    for s in store.suggestions.list(status="pending"):
        if s.meeting_id and s.meeting_id not in titles:
            titles[s.meeting_id] = store.meetings.get(s.meeting_id).title
        out.append((s, evidence_of(store, s.evidence), titles.get(s.meeting_id, "")))
    return out


class ReviewView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.items: list[tuple] = []
        self.edits: dict[str, QLineEdit] = {}
        self.header = PageHeader("Review", "What the AI proposes from your meetings. Nothing changes until you accept it.")
        self.list = QListWidget()
        self.list.setAccessibleName("Suggestions")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(self._show)
        self.select_all = button("Check all", self._check_all, name="Check all suggestions")
        self.accept_many = button("Accept checked", lambda: self.decide(self.checked(), True), name="Accept checked suggestions")
        self.reject_many = button("Reject checked", lambda: self.decide(self.checked(), False), name="Reject checked suggestions")
        left = QWidget()
        left.setLayout(vbox(self.list, hbox(self.select_all, None, self.accept_many, self.reject_many), spacing=6))

        self.kind = heading("", 2)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.form_box = QWidget()
        self.form = QFormLayout(self.form_box)
        self.evidence = QTextBrowser()
        self.evidence.setOpenLinks(False)
        self.evidence.anchorClicked.connect(self._open_source)
        self.evidence.setAccessibleName("Evidence")
        self.accept_btn = button("Accept", lambda: self.decide([self.current()], True, edited=True), name="Accept suggestion", primary=True)
        self.reject_btn = button("Reject", lambda: self.decide([self.current()], False), name="Reject suggestion")
        detail = QWidget()
        detail.setLayout(vbox(self.kind, self.reason, self.form_box, heading("Evidence", 3), self.evidence,
                              hbox(None, self.reject_btn, self.accept_btn), spacing=8))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(detail)
        split.setSizes([420, 520])
        split.setChildrenCollapsible(False)
        self.empty = EmptyState("Nothing to review", "When a meeting is processed, new people, companies, deal updates "
                                "and action items it mentions wait here for your approval.")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(split)
        self.setLayout(vbox(self.header, self.stack, spacing=10))
        ctx.on_change((Kind.SUGGESTIONS,), lambda _v: self.refresh())

    _busy = False

    def refresh(self) -> None:
        self.ctx.tasks.db(load_pending, self._fill, name="review")

    def _fill(self, items: list[tuple]) -> None:
        keep, row = self.current(), max(0, self.list.currentRow())
        self.items = items
        self.list.blockSignals(True)
        self.list.clear()
        for s, _ev, title in items:
            text = suggestion_line(s).split(" ", 2)[-1]
            for prefix in ("update deal", "add contact ", "add company ", "action item for "):
                text = text[len(prefix):] if text.startswith(prefix) else text
            text = text.lstrip(": ")
            it = QListWidgetItem(f"{KIND_LABEL.get(s.kind, s.kind)}: {text}" + (f"\n{title}" if title else ""))
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Unchecked)
            it.setData(Qt.ItemDataRole.UserRole, s.id)
            self.list.addItem(it)
        self.list.blockSignals(False)
        self.header.set_subtitle(f"{len(items)} suggestion{'s' if len(items) != 1 else ''} waiting. Nothing changes until you accept."
                                 if items else "Nothing changes in your CRM until you accept a suggestion.")
        self.stack.setCurrentIndex(1 if items else 0)
        if items:
            ids = [s.id for s, _e, _t in items]
            # the same suggestion, or (it was decided) the one that took its place — not the top
            self.list.setCurrentRow(ids.index(keep) if keep in ids else min(row, len(ids) - 1))
            self._show(self.list.currentRow())

    def current(self) -> int | None:
        it = self.list.currentItem()
        return it.data(Qt.ItemDataRole.UserRole) if it is not None else None

    def checked(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _check_all(self) -> None:
        state = Qt.CheckState.Unchecked if len(self.checked()) == self.list.count() else Qt.CheckState.Checked
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(state)

    def _show(self, row: int) -> None:
        if row < 0 or row >= len(self.items):
            return
        s, ev, title = self.items[row]
        self.kind.setText(KIND_LABEL.get(s.kind, s.kind))
        self.reason.setText(("⚠ " + s.reason) if s.reason else (f"From “{title}”" if title else ""))
        match = s.payload.get("owner_match") or {}
        if match.get("name"):
            self.reason.setText(self.reason.text() + f" · accepting links the owner to {match['name']}")
        clear_layout(self.form)
        self.edits = {}
        for key, value in editable_fields(s.payload):
            e = QLineEdit("" if value is None else str(value))
            e.setAccessibleName(key)
            self.edits[key] = e
            self.form.addRow(key.replace("fields.", "").replace("_", " ").capitalize(), e)
        if ev:
            parts = [f"<p>“{q['quote']}”<br><span style='color:gray'>— {q['speaker'] or 'speaker'}, {clock(q['start'])} · "
                     f"<a href='src:{s.meeting_id}:{q['segment_id']}'>open in the meeting [S{q['index']}]</a></span></p>" for q in ev]
            self.evidence.setHtml("".join(parts))
        else:
            self.evidence.setHtml("<p style='color:gray'>No source line was cited for this suggestion — check it carefully.</p>")

    def _open_source(self, url) -> None:
        _k, mid, sid = url.toString().split(":")
        self.ctx.window.open_meeting(int(mid), [int(sid)])

    def edited_payload(self) -> dict | None:
        row = self.list.currentRow()
        if row < 0:
            return None
        s = self.items[row][0]
        changed = {k: e.text() for k, e in self.edits.items() if e.text() != str(dict(editable_fields(s.payload)).get(k) or "")}
        return apply_edits(s.payload, changed) if changed else None

    def decide(self, ids: list[int | None], accept: bool, edited: bool = False) -> None:
        ids = [i for i in ids if i is not None]
        if not ids:
            self.ctx.show_info("Check one or more suggestions first.")
            return
        if self._busy:  # a double click decides once
            return
        self._busy = True
        payload = self.edited_payload() if edited else None

        def run(store):
            return decide(store, ids, accept, payload).value

        def failed(e) -> None:
            self._busy = False
            self.ctx.show_error(e)
            self.refresh()

        def done(results) -> None:
            self._busy = False
            verb = "Accepted" if accept else "Rejected"
            conflicts = [c for r in results if r for c in (r.get("conflicts") or [])]
            self.ctx.show_info(f"{verb} {len(ids)} suggestion{'s' if len(ids) != 1 else ''}.",
                               f"{len(conflicts)} value(s) you entered yourself were kept." if conflicts else "")
            self.ctx.changed(OpChanges.of(Kind.SUGGESTIONS))
            self.ctx.changed(OpChanges.of(Kind.CONTACTS, Kind.COMPANIES, Kind.DEALS))
            self.ctx.changed(OpChanges.of(Kind.ACTIONS))

        self.ctx.tasks.db(run, done, failed, name="review-decide")
