"""The follow-up email draft of a meeting (``ops.meetings.followup``, as `kith meetings followup`)
in editable fields, with Copy and Open in mail app (a ``mailto:`` URL). Kith sends nothing."""
from __future__ import annotations

from app.export.followup import FollowUp, mailto_url
from app.ui.qt import QApplication, QDesktopServices, QDialog, QFormLayout, QLineEdit, QPlainTextEdit, QUrl
from app.ui.widgets import button, hbox, muted, vbox


class FollowUpDialog(QDialog):
    def __init__(self, draft: FollowUp, parent=None):
        super().__init__(parent)
        self.draft = draft
        self.setWindowTitle("Follow-up email")
        self.resize(640, 560)
        self.to = QLineEdit(", ".join(draft.to))
        self.to.setAccessibleName("To")
        self.to.setPlaceholderText("Attendees' emails")
        self.subject = QLineEdit(draft.subject)
        self.subject.setAccessibleName("Subject")
        self.body = QPlainTextEdit(draft.body)
        self.body.setAccessibleName("Email text")
        form = QFormLayout()
        form.addRow("To", self.to)
        form.addRow("Subject", self.subject)
        self.copy_btn = button("Copy", self.copy, name="Copy the email text")
        self.open_btn = button("Open in mail app", self.open_in_mail, name="Open the draft in your mail app", primary=True)
        self.close_btn = button("Close", self.reject)
        self.status = muted("Written from the minutes and action items — edit it as you like. Kith sends nothing.")
        self.setLayout(vbox(form, self.body, self.status, hbox(self.copy_btn, None, self.close_btn, self.open_btn),
                            margins=(16, 16, 16, 16)))

    def addresses(self) -> list[str]:
        return [a.strip() for a in self.to.text().replace(";", ",").split(",") if a.strip()]

    def mailto(self) -> str:
        return mailto_url(self.addresses(), self.subject.text(), self.body.toPlainText())

    def copy(self) -> None:
        QApplication.clipboard().setText(self.body.toPlainText())
        self.status.setText("Copied the email text.")

    def open_in_mail(self) -> None:
        if not QDesktopServices.openUrl(QUrl(self.mailto())):
            self.status.setText("No mail app answered. Use Copy and paste the text into your mail.")
