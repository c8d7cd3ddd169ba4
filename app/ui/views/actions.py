"""Action items across meetings: filter by status, owner and due date; mark done or dismiss."""
from __future__ import annotations

from datetime import date, timedelta

from app.ui.context import UiContext
from app.ui.qt import QAbstractItemView, QComboBox, QHeaderView, QStackedWidget, Qt, QTableWidget, QTableWidgetItem, QWidget
from app.ui.widgets import EmptyState, PageHeader, button, hbox, muted, vbox
from app.ops.changes import Kind, OpChanges

DUE = [("Any date", None), ("Overdue", "overdue"), ("Due this week", "week"), ("No date", "none")]


def load_actions(store, status) -> list[tuple]:
    titles: dict[int, str] = {}
    out = []
    for a in store.actions.list(status=status):
        if a.meeting_id and a.meeting_id not in titles:
            titles[a.meeting_id] = store.meetings.get(a.meeting_id).title
        out.append((a, titles.get(a.meeting_id, "")))
    return out


def due_filter(a, mode: str | None, today: date | None = None) -> bool:
    today = today or date.today()
    if mode is None:
        return True
    if mode == "none":
        return a.due_date is None
    if a.due_date is None:
        return False
    if mode == "overdue":
        return a.due_date < today
    return a.due_date <= today + timedelta(days=7)


class ActionsView(QWidget):
    COLS = ("", "Owner", "Action", "Due", "Status", "Meeting")

    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.rows: list[tuple] = []
        self.header = PageHeader("Action items", "Accepted action items from all your meetings.")
        self.status = QComboBox()
        for label, val in (("Open", "open"), ("Done", "done"), ("Dismissed", "dismissed"), ("All", None)):
            self.status.addItem(label, val)
        self.status.setAccessibleName("Status filter")
        self.owner = QComboBox()
        self.owner.setAccessibleName("Owner filter")
        self.due = QComboBox()
        for label, val in DUE:
            self.due.addItem(label, val)
        self.due.setAccessibleName("Due date filter")
        for box in (self.status, self.due):
            box.currentIndexChanged.connect(lambda _i: self.refresh())
        self.owner.currentIndexChanged.connect(lambda _i: self._apply())
        self.done_btn = button("Mark done", lambda: self.set_status("done"), name="Mark selected done", primary=True)
        self.dismiss_btn = button("Dismiss", lambda: self.set_status("dismissed"), name="Dismiss selected")
        self.reopen_btn = button("Reopen", lambda: self.set_status("open"), name="Reopen selected")
        self.table = QTableWidget(0, len(self.COLS))
        self.table.setHorizontalHeaderLabels(self.COLS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hh = self.table.horizontalHeader()
        for i in (0, 1, 3, 4):
            hh.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(5, 200)
        self.table.setWordWrap(True)
        self.table.setAccessibleName("Action items")
        self.table.cellDoubleClicked.connect(self._open)
        self.empty = EmptyState("No action items here", "Accepted action items from your meetings show up here. "
                                "Proposed ones wait in Review first.")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        filters = hbox(muted("Show", wrap=False), self.status, muted("owner", wrap=False), self.owner,
                       muted("due", wrap=False), self.due, None, self.reopen_btn, self.dismiss_btn, self.done_btn)
        self.setLayout(vbox(self.header, filters, self.stack, muted("Double-click an item to open its meeting at the source line."),
                            spacing=10))
        ctx.on_change((Kind.ACTIONS,), lambda _v: self.refresh())

    _busy = False

    def refresh(self) -> None:
        status = self.status.currentData()
        self.ctx.tasks.db(lambda s: load_actions(s, status), self._loaded, name="actions")

    def _loaded(self, rows: list[tuple]) -> None:
        self.rows = rows
        owners = sorted({a.owner_text for a, _t in rows})
        cur = self.owner.currentData()
        self.owner.blockSignals(True)
        self.owner.clear()
        self.owner.addItem("Anyone", None)
        for o in owners:
            self.owner.addItem(o, o)
        self.owner.setCurrentIndex(max(0, self.owner.findData(cur)))
        self.owner.blockSignals(False)
        self._apply()

    def visible_rows(self) -> list[tuple]:
        owner, due = self.owner.currentData(), self.due.currentData()
        return [(a, t) for a, t in self.rows if (owner is None or a.owner_text == owner) and due_filter(a, due)]

    def _apply(self) -> None:
        rows = self.visible_rows()
        self.table.setRowCount(len(rows))
        today = date.today()
        for r, (a, title) in enumerate(rows):
            mark = QTableWidgetItem("☑" if a.status == "done" else "☐")
            mark.setData(Qt.ItemDataRole.UserRole, a.id)
            cells = [mark, QTableWidgetItem(a.owner_text), QTableWidgetItem(a.text),
                     QTableWidgetItem(a.due_date.strftime("%d %b %Y") if a.due_date else "—"),
                     QTableWidgetItem(a.status), QTableWidgetItem(title)]
            if a.due_date and a.due_date < today and a.status == "open":
                cells[3].setForeground(Qt.GlobalColor.red)
            for c, it in enumerate(cells):
                self.table.setItem(r, c, it)
        self.table.resizeRowsToContents()
        self.stack.setCurrentIndex(1 if rows else 0)

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]

    def set_status(self, status: str, ids: list[int] | None = None) -> None:
        ids = ids if ids is not None else self.selected_ids()
        if not ids:
            self.ctx.show_info("Select one or more action items first.")
            return
        if self._busy:  # a double click does not act twice (on the next row after a refresh)
            return
        self._set_busy(True)
        set_statuses(self.ctx, {i: status for i in ids}, undo=True, finished=lambda: self._set_busy(False))

    def _set_busy(self, on: bool) -> None:
        self._busy = on
        for b in (self.done_btn, self.dismiss_btn, self.reopen_btn):
            b.setEnabled(not on)

    def _open(self, row: int, _col: int) -> None:
        a, _t = self.visible_rows()[row]
        if a.meeting_id:
            self.ctx.window.open_meeting(a.meeting_id, list(a.evidence))


WORDS = {"done": "done", "dismissed": "dismissed", "open": "reopened"}


def set_statuses(ctx, changes: dict[int, str], undo: bool = True, finished=None) -> None:
    """Set action items' statuses on the DB lane; the banner offers Undo (back to what they were)."""
    def run(store):
        from app.ops.meetings import set_action_status

        return set_action_status(store, changes).value

    def done(before: dict) -> None:
        if finished is not None:
            finished()
        ctx.changed(OpChanges.of(Kind.ACTIONS))
        if undo:
            n = len(changes)
            what = WORDS.get(next(iter(changes.values())), "changed")
            ctx.show_info(f"Marked {n} action item{'s' if n != 1 else ''} {what}.", "",
                          action=("Undo", lambda: set_statuses(ctx, before, undo=False)))

    def failed(exc) -> None:
        if finished is not None:
            finished()
        ctx.show_error(exc)

    ctx.tasks.db(run, done, failed, name="action-status")
