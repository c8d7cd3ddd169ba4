"""The import sheet: before a recording or transcript is processed, the user sees and may change
its title, template (suggested from the calendar event or the content), when it happened (with
the calendar event that time falls in) and who was there. Import hands the choices to
``ops.meetings.process`` as the same ProcessOptions ``kith process --title --template --at --with``
builds; Cancel imports nothing."""
from __future__ import annotations

from datetime import datetime

from app.meetings.import_plan import ImportPlan, event_at, options_from, who_text
from app.ui.context import UiContext
from app.ui.qt import (
    QComboBox,
    QDateTime,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QTimer,
)
from app.ui.widgets import heading, muted, vbox


def event_line(event) -> str:
    if event is None:
        return "No calendar event at this time."
    a, b = event.local_start(), event.local_end()
    return f"During the calendar event “{event.title}” ({a:%a %d %b, %H:%M}–{b:%H:%M})."


class ImportSheet(QDialog):
    def __init__(self, ctx: UiContext, plan: ImportPlan, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.plan = plan
        self.setWindowTitle("Import a meeting")
        self.setMinimumWidth(520)
        self.title = QLineEdit(plan.title)
        self.title.setAccessibleName("Title")
        self.template = QComboBox()
        self.template.setAccessibleName("Template")
        for name, label in plan.templates:
            self.template.addItem(label, name)
        i = self.template.findData(plan.template.name)
        self.template.setCurrentIndex(max(i, 0))
        self.template_why = muted(self._why_text(plan.template))
        self.when = QDateTimeEdit(QDateTime(plan.started_at.astimezone().replace(tzinfo=None)))
        self.when.setAccessibleName("When")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy, HH:mm")
        self.event_label = muted(event_line(plan.event))
        self.who = QLineEdit(who_text(plan.attendees))
        self.who.setAccessibleName("Who")
        self.who.setPlaceholderText("Attendees' emails, e.g. Dana Whitfield <dana@northwind.example>")
        self._who_edited = False
        self.who.textEdited.connect(lambda _t: setattr(self, "_who_edited", True))
        self._lookup = QTimer(self, singleShot=True, interval=250)
        self._lookup.timeout.connect(self._look_up_event)
        self.when.dateTimeChanged.connect(lambda _d: self._lookup.start())

        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Template", self.template)
        form.addRow("", self.template_why)
        form.addRow("When", self.when)
        form.addRow("", self.event_label)
        form.addRow("Who", self.who)
        form.addRow("", muted("Known contacts among them become participants and name the speakers; "
                              "others are proposed in Review."))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_btn = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_btn.setProperty("primary", True)
        self.import_btn.setDefault(True)
        self.already = muted(f"This file was already imported as “{plan.already.title}” (meeting #{plan.already.id}): "
                             "Import makes a second copy; More… → Write the minutes again redoes that one."
                             if plan.already is not None else "")
        self.already.setVisible(plan.already is not None)
        if plan.already is not None:
            self.import_btn.setText("Import a second copy")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.setLayout(vbox(heading(f"Import {plan.path.name}", 2), form, self.already, self.buttons, margins=(16, 16, 16, 16)))

    @staticmethod
    def _why_text(choice) -> str:
        return f"Suggested because the meeting {choice.why}." if choice.why else ""

    def started_at(self) -> datetime:
        return self.when.dateTime().toPython().astimezone()

    def options(self):
        """The ProcessOptions for ``ops.meetings.process`` from what the sheet shows."""
        return options_from(self.title.text(), self.template.currentData() or "", self.started_at(), self.who.text(),
                            again=self.plan.already is not None)

    def _look_up_event(self) -> None:
        when = self.started_at()
        self.ctx.tasks.db_kith(lambda k: event_at(k, k.store(), when), self._show_event, name="event at")

    def _show_event(self, found) -> None:
        event, attendees = found
        self.plan.event = event
        self.event_label.setText(event_line(event))
        if not self._who_edited:
            self.who.setText(who_text(attendees))
