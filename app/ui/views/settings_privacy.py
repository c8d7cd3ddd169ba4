"""Settings → Privacy (where data lives, export everything, export/erase a person, rekey,
backup) and Settings → You & templates."""
from __future__ import annotations

from pathlib import Path

from app.ui.context import UiContext
from app.ui.qt import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QInputDialog, QLabel,
                       QLineEdit, QMessageBox, QSpinBox, Qt, QWidget)
from app.ui.files import pick_folder, save_file
from app.ui.widgets import button, confirm_destructive, hbox, heading, muted, vbox
from app.ops.changes import Kind, OpChanges



class PassphraseDialog(QDialog):
    """A new passphrase, typed twice. Kith never stores it: forgetting it loses the database."""

    def __init__(self, parent=None, reason: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Protect Kith with a passphrase")
        self.first, self.second = QLineEdit(), QLineEdit()
        for w, name in ((self.first, "New passphrase"), (self.second, "Repeat the passphrase")):
            w.setEchoMode(QLineEdit.EchoMode.Password)
            w.setAccessibleName(name)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        form = QFormLayout()
        form.addRow("New passphrase", self.first)
        form.addRow("Repeat it", self.second)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.warning = muted("Kith will ask for it each time it starts. It is not stored anywhere and cannot be "
                             "recovered: if you forget it, your meetings cannot be opened.")
        self.setLayout(vbox(*([muted(reason)] if reason else []), self.warning, form, self.problem, buttons))

    def accept(self) -> None:
        from app.store.keys import new_passphrase_problem

        problem = new_passphrase_problem(self.first.text(), self.second.text())
        if problem:
            self.problem.setText(problem[0].upper() + problem[1:] + ".")
        else:
            super().accept()

    def passphrase(self) -> str:
        return self.first.text()


def switch_to_passphrase(ctx: UiContext, parent=None, passphrase: str | None = None, done=None) -> None:
    """Re-encrypt the database under a key derived from a new passphrase (the keyring entry is removed)."""
    if passphrase is None:
        dlg = PassphraseDialog(parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        passphrase = dlg.passphrase()

    def run(store):
        from app.ops.export import rekey

        return rekey(store, passphrase).value  # the dialog had it typed twice

    ctx.tasks.db(run, done or (lambda _m: ctx.show_info("Your database is now protected by your passphrase.")),
                 ctx.show_error, name="passphrase")


class PrivacyTab(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        p = ctx.kith.paths
        self.where = QLabel()
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setWordWrap(True)
        self.key = muted()
        form = QFormLayout()
        for label, path in (("Database (encrypted)", p.database), ("Recordings (encrypted)", p.recordings),
                            ("Models", p.models), ("Settings", p.settings_file), ("Logs (no content)", p.logs)):
            lab = QLabel(str(path))
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, lab)
        export_all = button("Export everything…", self.export_all, name="Export everything")
        backup = button("Back up…", self.backup, name="Back up the encrypted database")
        person_export = button("Export a person's data…", self.export_person, name="Export a person's data")
        erase = button("Erase a person…", self.erase_person, name="Erase a person")
        erase.setProperty("danger", True)
        rekey = button("Change the encryption key…", self.rekey, name="Rekey the database")
        self.use_passphrase = button("Use a passphrase…", lambda: switch_to_passphrase(self.ctx, self, done=self._switched),
                                     name="Protect the database with a passphrase")
        self.setLayout(vbox(heading("Your data stays on this machine", 2),
                            muted("Nothing leaves the device except calendar sync, exports and model downloads — each "
                                  "started by you. No telemetry, no update checks."),
                            form, self.key, heading("Data rights", 3), hbox(export_all, backup, person_export, None),
                            hbox(erase, rekey, self.use_passphrase, None), None, spacing=10))

    def _switched(self, _mode: str) -> None:
        self.ctx.show_info("Your database is now protected by your passphrase.")
        self.refresh()

    def refresh(self) -> None:
        def show(m: str) -> None:
            self.key.setText("The key is kept in your system keyring." if m == "keyring" else
                             "The key is derived from your passphrase." if m == "passphrase" else f"Key: {m}")
            self.use_passphrase.setText("Change the passphrase…" if m == "passphrase" else "Use a passphrase…")

        self.ctx.tasks.db(lambda s: s.key_mode, show, name="key-mode")

    def _folder(self, title: str) -> str:
        return pick_folder(self, self.ctx, title)

    def export_all(self, folder: str | None = None) -> None:
        folder = folder or self._folder("Export everything to…")
        if not folder:
            return

        def run(store):
            from app.export.base import gather
            from app.export.files import write_archive

            return write_archive(store, gather(store, accepted_only=False, with_segments=True), Path(folder))

        self.ctx.tasks.db(run, lambda out: self.ctx.show_info(f"Everything exported to {out}.",
                                                              "The export is NOT encrypted: keep it somewhere safe."),
                          self.ctx.show_error, name="export-all")

    def backup(self) -> None:
        path = save_file(self, self.ctx, "Back up the encrypted database", "kith-backup.db")
        if not path:
            return

        def run(store):
            from app.store.rights import backup

            return backup(store, Path(path))

        self.ctx.tasks.db(run, lambda _r: self.ctx.show_info(f"Backed up to {path} (encrypted with the same key)."),
                          self.ctx.show_error, name="backup")

    def _pick_person(self, then, title: str) -> None:
        def chosen(people) -> None:
            if not people:
                self.ctx.show_info("There are no people in your CRM yet.")
                return
            labels = [f"{c.name} <{c.email}>" if c.email else c.name for c in people]
            label, ok = QInputDialog.getItem(self, title, "Person:", labels, 0, False)
            if ok:
                then(people[labels.index(label)])

        self.ctx.tasks.db(lambda s: s.contacts.list(), chosen, name="people")

    def export_person(self) -> None:
        def go(c) -> None:
            path = save_file(self, self.ctx, f"Export everything about {c.name}", f"{c.name}.json", "JSON (*.json)")
            if not path:
                return

            def run(store):
                from app.ops.people import export_person

                # the file dialog has already asked before replacing a file
                return export_person(store, c.id, out=path, overwrite=True)

            self.ctx.tasks.db(run, lambda _r: self.ctx.show_info(f"Exported {c.name}'s data to {path}."),
                              self.ctx.show_error, name="export-person")

        self._pick_person(go, "Export a person's data")

    def erase_person(self, contact_id: int | None = None, confirm: bool = True) -> None:
        def go(c) -> None:
            if confirm and not confirm_destructive(self, "Erase a person", f"Erase {c.name} and every trace of them "
                                                   "(contact, mentions in transcripts and notes, action items)? "
                                                   "This cannot be undone."):
                return

            def run(store):
                from app.ops.people import erase_person

                return erase_person(store, c.id)

            self.ctx.tasks.db(run, lambda _r: (self.ctx.show_info(f"Erased {c.name}."), self.ctx.changed(OpChanges.of(Kind.CONTACTS, Kind.COMPANIES, Kind.DEALS)),
                                               self.ctx.changed(OpChanges.of(Kind.MEETINGS))), self.ctx.show_error, name="erase")

        if contact_id is not None:
            self.ctx.tasks.db(lambda s: s.contacts.get(contact_id), go, self.ctx.show_error, name="person")
        else:
            self._pick_person(go, "Erase a person")

    def rekey(self) -> None:
        if QMessageBox.question(self, "Change the encryption key",
                                "Re-encrypt the database with a new random key (kept in your keyring, or a new passphrase "
                                "when no keyring works)?") != QMessageBox.StandardButton.Yes:
            return

        def run(store):
            from app.ops.export import rekey

            return rekey(store).value

        self.ctx.tasks.db(run, lambda r: (self.ctx.show_info(f"Re-encrypted ({r})."), self.refresh()),
                          self.ctx.show_error, name="rekey")


class YouTab(QWidget):
    KINDS = [("create_contact", "New people"), ("create_company", "New companies"), ("update_contact", "Updates to people"),
             ("update_deal", "Deal updates"), ("action_item", "Action items")]

    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        s = ctx.settings
        self.name = QLineEdit(s.crm.my_name)
        self.name.setAccessibleName("Your name")
        from app.extract.templates import list_templates
        from app.transcribe.languages import language_choices

        self.template = QComboBox()
        self.template.addItems(list_templates(ctx.kith.paths))
        self.template.setCurrentText(s.crm.default_template)
        self.template.setAccessibleName("Default template")
        self.language = QComboBox()  # the languages faster-whisper knows, plus auto-detect
        self.language.setAccessibleName("Language")
        for code, label in language_choices():
            self.language.addItem(label, code)
        if self.language.findData(s.transcribe.language) < 0:  # a code set by hand elsewhere is kept
            self.language.addItem(s.transcribe.language, s.transcribe.language)
        self.language.setCurrentIndex(self.language.findData(s.transcribe.language))
        self.sync = QSpinBox()
        self.sync.setRange(0, 1440)
        self.sync.setSuffix(" min (0 = only when asked)")
        self.sync.setValue(s.calendar.sync_minutes)
        self.remind = QSpinBox()
        self.remind.setRange(0, 60)
        self.remind.setSuffix(" min before (0 = off)")
        self.remind.setAccessibleName("Meeting reminder")
        self.remind.setValue(int(self._ui().value("notify/minutes_before", 5)))
        self.auto: dict[str, QCheckBox] = {}
        form = QFormLayout()
        form.addRow("Your name in transcripts", self.name)
        edit = button("Edit…", self.edit_template, name="Edit the selected template",
                      tip="Opens your own copy of this template; Kith uses it for new minutes")
        row = hbox(self.template, edit)
        row.setStretch(0, 1)  # the combo takes the width, the button stays a button
        form.addRow("Default minutes template", row)
        form.addRow("Meeting language", self.language)
        form.addRow("Calendar sync every", self.sync)
        form.addRow("Remind me with the brief", self.remind)
        boxes = []
        for kind, label in self.KINDS:
            cb = QCheckBox(label)
            cb.setChecked(kind in s.crm.auto_accept)
            self.auto[kind] = cb
            boxes.append(cb)
        save = button("Save", self.save, name="Save these settings", primary=True)
        self.setLayout(vbox(heading("You & templates", 2), form, heading("Apply without review", 3),
                            muted("Off by default: the AI proposes, you decide. Tick a kind to apply it automatically."),
                            *boxes, hbox(None, save), None, spacing=8))

    def edit_template(self, open_file: bool = True) -> Path | None:
        from app.core.errors import KithError
        from app.extract.templates import copy_for_editing
        from app.ui.qt import QDesktopServices, QUrl

        name = self.template.currentText()
        try:
            path = copy_for_editing(name, self.ctx.kith.paths)
        except (KithError, OSError) as e:
            self.ctx.show_error(e)
            return None
        if open_file:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.ctx.show_info(f"Your copy of the “{name}” template: {path}",
                           "Kith uses it for new minutes from now on; delete the file to go back to the built-in one.")
        return path

    def save(self) -> None:
        from app.core.config import Settings
        from app.core.errors import KithError

        data = self.ctx.settings.model_dump()
        data["crm"].update(my_name=self.name.text().strip() or "You", default_template=self.template.currentText(),
                           auto_accept=[k for k, cb in self.auto.items() if cb.isChecked()])
        data["transcribe"]["language"] = self.language.currentData() or "auto"
        data["calendar"]["sync_minutes"] = self.sync.value()
        try:
            new = Settings.model_validate(data)
        except Exception as e:  # noqa: BLE001 — pydantic's message names the field
            self.ctx.show_error(KithError(f"not saved: {str(e).splitlines()[0]}", hint="check the values"))
            return
        for section in ("crm", "transcribe", "calendar"):
            setattr(self.ctx.settings, section, getattr(new, section))
        self.ctx.save_settings()
        qs = self._ui()
        qs.setValue("notify/minutes_before", self.remind.value())
        qs.sync()
        self.ctx.show_info("Saved.")

    def _ui(self):
        from app.ui.qt import QSettings

        return QSettings(str(self.ctx.kith.paths.config / "ui.ini"), QSettings.Format.IniFormat)
