"""People, companies and deals: list + editable detail (meeting history, open items, deal
stage), merging duplicate people."""
from __future__ import annotations

import dataclasses
from datetime import date

from app.core.errors import KithError
from app.ops.crm import edit_company, edit_contact, edit_deal, merge_contacts
from app.ui.context import UiContext
from app.ui.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QFormLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    Qt,
    QTabWidget,
    QWidget,
)
from app.ui.widgets import EmptyState, button, hbox, heading, muted, vbox
from app.ops.changes import Kind


NO_DATE = QDate(1900, 1, 1)  # a QDateEdit cannot be empty: its minimum stands for "no date"


class OptionalDate(QWidget):
    """A date picker (calendar popup) that can be left empty: "No date" until one is picked, and ×."""

    def __init__(self):
        super().__init__()
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("ddd d MMM yyyy")
        self.edit.setMinimumDate(NO_DATE)
        self.edit.setSpecialValueText("No date")
        self.clear_btn = button("×", self.clear, name="Clear the date", tip="No date")
        self.clear_btn.setMaximumWidth(32)
        self.setLayout(hbox(self.edit, self.clear_btn))
        self.layout().setStretch(0, 1)
        self.clear()

    def clear(self) -> None:
        self.edit.setDate(NO_DATE)
        today = QDate.currentDate()
        self.edit.calendarWidget().setCurrentPage(today.year(), today.month())  # the popup opens on today

    def set_value(self, d: date | None) -> None:
        if d is None:
            self.clear()
        else:
            self.edit.setDate(QDate(d.year, d.month, d.day))

    def value(self) -> date | None:
        q = self.edit.date()
        return None if q == NO_DATE else date(q.year(), q.month(), q.day())

    def setAccessibleName(self, name: str) -> None:  # noqa: N802 — Qt's spelling
        self.edit.setAccessibleName(name)


def _combo(choices, editable: bool) -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    box.addItem("", "")  # empty stays empty
    for c in choices:
        box.addItem(c, c)
    return box


def _csv(v) -> str:
    return ", ".join(v) if isinstance(v, list) else ("" if v is None else str(v))


class RecordForm(QWidget):
    """A form over a dataclass record: fields = [(attr, label, kind)], kind in
    text|list|long|company|date|money|stage (editable list of known stages)|currency (ISO codes)."""

    def __init__(self, fields: list[tuple[str, str, str]]):
        super().__init__()
        self.fields = fields
        self.edits: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for attr, label, kind in fields:
            if kind == "long":
                w = QPlainTextEdit()
                w.setMaximumHeight(90)
            elif kind == "company":
                w = QComboBox()
            elif kind == "date":
                w = OptionalDate()
            elif kind == "stage":
                from app.core.domain import DEAL_STAGES

                w = _combo(DEAL_STAGES, editable=True)
                w.lineEdit().setPlaceholderText("a stage, or type your own")
            elif kind == "currency":
                from app.core.domain import CURRENCIES

                w = _combo(CURRENCIES, editable=False)
            else:
                w = QLineEdit()
                if kind == "list":
                    w.setPlaceholderText("comma-separated")
            w.setAccessibleName(label)
            self.edits[attr] = w
            form.addRow(label, w)

    def set_companies(self, companies: list) -> None:
        for attr, _l, kind in self.fields:
            if kind == "company":
                box: QComboBox = self.edits[attr]
                box.clear()
                box.addItem("—", None)
                for c in companies:
                    box.addItem(c.name, c.id)

    def load(self, rec) -> None:
        for attr, _l, kind in self.fields:
            w, v = self.edits[attr], getattr(rec, attr)
            if kind == "long":
                w.setPlainText(v or "")
            elif kind == "company":
                i = w.findData(v)
                w.setCurrentIndex(max(0, i))
            elif kind == "date":
                w.set_value(v)
            elif kind in ("stage", "currency"):
                v = v or ""
                if w.findData(v) < 0:  # a custom stage or an unlisted code is kept
                    w.addItem(v, v)
                w.setCurrentIndex(w.findData(v))
            elif kind == "money":
                w.setText("" if v is None else f"{v:g}")
            else:
                w.setText(_csv(v))

    def apply(self, rec):
        """A copy of ``rec`` with the form's values; KithError names a bad field."""
        values = {}
        for attr, label, kind in self.fields:
            w = self.edits[attr]
            if kind == "long":
                values[attr] = w.toPlainText()
            elif kind == "company":
                values[attr] = w.currentData()
            elif kind == "list":
                values[attr] = [x.strip() for x in w.text().split(",") if x.strip()]
            elif kind == "date":
                values[attr] = w.value()
            elif kind == "stage":
                values[attr] = w.currentText().strip()
            elif kind == "currency":
                values[attr] = w.currentData() or ""
            elif kind == "money":
                t = w.text().strip().replace(",", "")
                try:
                    values[attr] = float(t) if t else None
                except ValueError:
                    raise KithError(f"{label}: {t!r} is not a number", hint="write an amount such as 12000") from None
            else:
                values[attr] = w.text().strip()
        return dataclasses.replace(rec, **values)


class _ListDetail(QWidget):
    """Left: filter + list. Right: a detail page (or an empty state)."""

    kind = ""

    def __init__(self, ctx: UiContext, empty_title: str, empty_text: str, action_text: str):
        super().__init__()
        self.ctx = ctx
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter")
        self.filter.setAccessibleName(f"Filter {self.kind}")
        self.filter.textChanged.connect(self._apply_filter)
        self.list = QListWidget()
        self.list.setAccessibleName(self.kind.capitalize())
        self.list.currentItemChanged.connect(self._on_current)
        self.add_btn = button(action_text, self.add_new, name=action_text)
        left = QWidget()
        left.setLayout(vbox(self.filter, self.list, self.add_btn, spacing=6))
        left.setMaximumWidth(300)
        self.empty = EmptyState(empty_title, empty_text, action_text)
        self.empty.action.connect(self.add_new)
        self.detail = QWidget()
        self.right = QStackedWidget()
        self.right.addWidget(self.empty)
        self.right.addWidget(self.detail)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.right)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        self.setLayout(vbox(split))
        self.current = None
        self._want: int | None = None
        self._selected: int | None = None

    def _on_current(self, item, _prev=None) -> None:
        if item is not None:
            self._selected = item.data(Qt.ItemDataRole.UserRole)
            self.select(self._selected)

    def fill(self, records: list, label) -> None:
        sel = self._want if self._want is not None else self._selected
        self.list.blockSignals(True)
        self.list.clear()
        for r in records:
            it = QListWidgetItem(label(r))
            it.setData(Qt.ItemDataRole.UserRole, r.id)
            self.list.addItem(it)
        self.list.blockSignals(False)
        self._apply_filter(self.filter.text())
        if not records:
            self.right.setCurrentWidget(self.empty)
            return
        row = next((i for i in range(self.list.count()) if self.list.item(i).data(Qt.ItemDataRole.UserRole) == sel), 0)
        if self._want is not None and self.list.item(row).data(Qt.ItemDataRole.UserRole) == self._want:
            self._want = None  # found: later refreshes keep the current selection
        self.list.setCurrentRow(-1)
        self.list.setCurrentRow(row)  # → select

    def _apply_filter(self, text: str) -> None:
        t = text.lower().strip()
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setHidden(bool(t) and t not in it.text().lower())

    def open(self, id: int) -> None:
        self._want = id
        self.refresh()

    def save_done(self, rec) -> None:
        self.current = rec
        self.ctx.show_info(f"Saved {getattr(rec, 'name', None) or getattr(rec, 'title', '')}.")
        self.refresh()


class ContactsPane(_ListDetail):
    kind = "people"
    FIELDS = [("name", "Name", "text"), ("emails", "Emails", "list"), ("phones", "Phones", "list"),
              ("title", "Title", "text"), ("company_id", "Company", "company"), ("notes", "Notes", "long")]

    def __init__(self, ctx: UiContext):
        super().__init__(ctx, "No people yet", "People you meet appear here after you accept them in Review, "
                         "or add someone yourself.", "Add a person")
        self.form = RecordForm(self.FIELDS)
        self.title = heading("", 2)
        self.source = muted()
        self.history = QListWidget()
        self.history.setAccessibleName("Meetings with this person")
        self.history.itemActivated.connect(lambda it: ctx.window.open_meeting(it.data(Qt.ItemDataRole.UserRole)))
        self.items = QListWidget()
        self.items.setAccessibleName("Open items")
        self.items.setMaximumHeight(120)
        save = button("Save", self.save, name="Save person", primary=True)
        merge = button("Merge a duplicate into this person…", self.merge, name="Merge duplicate")
        self.detail.setLayout(vbox(hbox(self.title, None, merge, save), self.source, self.form,
                                   heading("Meetings", 3), self.history, heading("Open items", 3), self.items, spacing=6))

    def refresh(self) -> None:
        def load(store):
            return store.contacts.list(), store.companies.list()

        self.ctx.tasks.db(load, self._loaded, name="contacts")

    def _loaded(self, res) -> None:
        contacts, companies = res
        self.form.set_companies(companies)
        self.companies = {c.id: c for c in companies}
        self.fill(contacts, lambda c: c.name + (f" — {self.companies[c.company_id].name}" if c.company_id in self.companies else ""))

    def select(self, cid: int) -> None:
        def load(store):
            return store.contacts.get(cid), store.meetings.meetings_with(cid), store.actions.list(status=["open", "proposed"], owner=cid)

        self.ctx.tasks.db(load, self._show, name="contact")

    def _show(self, res) -> None:
        c, meetings, items = res
        self.current = c
        self.right.setCurrentWidget(self.detail)
        self.title.setText(c.name)
        self.source.setText({"ai": "Added from a meeting (accepted suggestion)", "calendar": "From your calendar",
                             "import": "Imported", "user": "Added by you"}.get(c.source, c.source))
        self.form.load(c)
        self.history.clear()
        for m in meetings:
            it = QListWidgetItem(f"{m.started_at.astimezone():%d %b %Y} — {m.title}")
            it.setData(Qt.ItemDataRole.UserRole, m.id)
            self.history.addItem(it)
        if not meetings:
            self.history.addItem("No meetings with this person yet.")
        self.items.clear()
        for a in items:
            self.items.addItem(f"{a.text}" + (f" (due {a.due_date:%d %b})" if a.due_date else ""))
        if not items:
            self.items.addItem("Nothing open.")

    def save(self) -> None:
        try:
            rec = self.form.apply(self.current)
        except KithError as e:
            self.ctx.show_error(e)
            return
        self.ctx.tasks.db(lambda s: edit_contact(s, rec).value, self.save_done, self.ctx.show_error, name="save-contact")

    def add_new(self) -> None:
        name, ok = QInputDialog.getText(self, "Add a person", "Name:")
        if ok and name.strip():
            from app.core.domain import Contact

            self.ctx.tasks.db(lambda s: s.contacts.add(Contact(name=name.strip())), lambda c: self.open(c.id),
                              self.ctx.show_error, name="add-contact")

    def merge(self) -> None:
        if self.current is None:
            return
        others = [(self.list.item(i).text(), self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
                  if self.list.item(i).data(Qt.ItemDataRole.UserRole) != self.current.id]
        if not others:
            self.ctx.show_info("There is nobody else to merge.")
            return
        label, ok = QInputDialog.getItem(self, "Merge a duplicate", f"Merge this person into {self.current.name}:",
                                         [o[0] for o in others], 0, False)
        if ok:
            dup = dict(others)[label]
            keep = self.current.id
            self.ctx.tasks.db(lambda s: merge_contacts(s, keep, dup).value, lambda c: self.open(c.id), self.ctx.show_error, name="merge")


class CompaniesPane(_ListDetail):
    kind = "companies"
    FIELDS = [("name", "Name", "text"), ("domain", "Domain", "text"), ("notes", "Notes", "long")]

    def __init__(self, ctx: UiContext):
        super().__init__(ctx, "No companies yet", "Companies are suggested from your meetings and people's email domains.",
                         "Add a company")
        self.form = RecordForm(self.FIELDS)
        self.title = heading("", 2)
        self.people = QListWidget()
        self.people.itemActivated.connect(lambda it: ctx.window.open_person(it.data(Qt.ItemDataRole.UserRole)))
        self.deals = QListWidget()
        save = button("Save", self.save, name="Save company", primary=True)
        self.detail.setLayout(vbox(hbox(self.title, None, save), self.form, heading("People", 3), self.people,
                                   heading("Deals", 3), self.deals, spacing=6))

    def refresh(self) -> None:
        self.ctx.tasks.db(lambda s: s.companies.list(), lambda cs: self.fill(cs, lambda c: c.name), name="companies")

    def select(self, cid: int) -> None:
        self.ctx.tasks.db(lambda s: (s.companies.get(cid), s.contacts.list(company_id=cid), s.deals.list(company_id=cid)),
                          self._show, name="company")

    def _show(self, res) -> None:
        c, people, deals = res
        self.current = c
        self.right.setCurrentWidget(self.detail)
        self.title.setText(c.name)
        self.form.load(dataclasses.replace(c, domain=c.domain or ""))
        self.people.clear()
        for p in people:
            it = QListWidgetItem(p.name + (f" — {p.title}" if p.title else ""))
            it.setData(Qt.ItemDataRole.UserRole, p.id)
            self.people.addItem(it)
        self.deals.clear()
        for d in deals:
            self.deals.addItem(f"{d.title} — {d.stage or 'no stage'}" + (f" · {d.amount:,.0f} {d.currency}" if d.amount else ""))

    def save(self) -> None:
        try:
            rec = self.form.apply(self.current)
            rec.domain = rec.domain or None
        except KithError as e:
            self.ctx.show_error(e)
            return
        self.ctx.tasks.db(lambda s: edit_company(s, rec).value, self.save_done, self.ctx.show_error, name="save-company")

    def add_new(self) -> None:
        name, ok = QInputDialog.getText(self, "Add a company", "Name:")
        if ok and name.strip():
            from app.core.domain import Company

            self.ctx.tasks.db(lambda s: s.companies.add(Company(name=name.strip())), lambda c: self.open(c.id),
                              self.ctx.show_error, name="add-company")


class DealsPane(_ListDetail):
    kind = "deals"
    FIELDS = [("title", "Title", "text"), ("company_id", "Company", "company"), ("stage", "Stage", "stage"),
              ("amount", "Amount", "money"), ("currency", "Currency", "currency"), ("next_step", "Next step", "text"),
              ("close_date", "Close date", "date")]

    def __init__(self, ctx: UiContext):
        super().__init__(ctx, "No deals yet", "Deal updates heard in sales calls are proposed in Review.", "Add a deal")
        self.form = RecordForm(self.FIELDS)
        self.title = heading("", 2)
        save = button("Save", self.save, name="Save deal", primary=True)
        self.detail.setLayout(vbox(hbox(self.title, None, save), self.form, None, spacing=6))

    def refresh(self) -> None:
        self.ctx.tasks.db(lambda s: (s.deals.list(), s.companies.list()), self._loaded, name="deals")

    def _loaded(self, res) -> None:
        deals, companies = res
        self.form.set_companies(companies)
        self.fill(deals, lambda d: f"{d.title} — {d.stage or 'no stage'}")

    def select(self, did: int) -> None:
        self.ctx.tasks.db(lambda s: s.deals.get(did), self._show, name="deal")

    def _show(self, d) -> None:
        self.current = d
        self.right.setCurrentWidget(self.detail)
        self.title.setText(d.title)
        self.form.load(d)

    def save(self) -> None:
        try:
            rec = self.form.apply(self.current)
        except KithError as e:
            self.ctx.show_error(e)
            return
        self.ctx.tasks.db(lambda s: edit_deal(s, rec).value, self.save_done, self.ctx.show_error, name="save-deal")

    def add_new(self) -> None:
        title, ok = QInputDialog.getText(self, "Add a deal", "Title:")
        if ok and title.strip():
            from app.core.domain import Deal

            self.ctx.tasks.db(lambda s: s.deals.add(Deal(company_id=None, title=title.strip())), lambda d: self.open(d.id),
                              self.ctx.show_error, name="add-deal")


class PeopleView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.tabs = QTabWidget()
        self.contacts = ContactsPane(ctx)
        self.companies = CompaniesPane(ctx)
        self.deals = DealsPane(ctx)
        self.tabs.addTab(self.contacts, "People")
        self.tabs.addTab(self.companies, "Companies")
        self.tabs.addTab(self.deals, "Deals")
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        self.setLayout(vbox(heading("People & deals", 1), self.tabs, spacing=10))
        ctx.on_change((Kind.CONTACTS, Kind.COMPANIES, Kind.DEALS,), lambda _v: self.refresh())

    def refresh(self) -> None:
        self.tabs.currentWidget().refresh()

    def open_contact(self, contact_id: int) -> None:
        self.tabs.blockSignals(True)
        self.tabs.setCurrentWidget(self.contacts)
        self.tabs.blockSignals(False)
        self.contacts.open(contact_id)
