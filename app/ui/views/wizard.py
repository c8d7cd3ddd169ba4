"""First run: a short wizard — the encryption key (keyring or passphrase), devices with a
test, the default models checked (joined from their parts with a progress bar if needed),
an optional calendar."""
from __future__ import annotations

from app.ui.context import UiContext
from app.ui.qt import QLabel, QSettings, QWizard, QWizardPage
from app.ui.views.settings import AudioTab, CalendarsTab
from app.ui.widgets import TaskProgress, button, hbox, muted, vbox


class KeyPage(QWizardPage):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.setTitle("Welcome to Kith")
        self.setSubTitle("Your meetings, people and notes are kept in an encrypted database on this machine.")
        self.status = QLabel("Preparing your encrypted database…")
        self.status.setWordWrap(True)
        from app.ui.views.settings_privacy import switch_to_passphrase

        self.choose = button("Use a passphrase instead…", lambda: switch_to_passphrase(ctx, self, done=self._protected),
                             name="Protect the database with a passphrase")
        self.choose.setEnabled(False)
        self.setLayout(vbox(self.status, muted("Kith keeps a random key in your system keyring. Without a keyring it asks "
                                               "for a passphrase instead — it is never stored, so remember it. You can "
                                               "choose a passphrase now, or later in Settings → Privacy."),
                            hbox(self.choose, None), None))
        self._ok = False

    def _protected(self, _mode: str) -> None:
        self.status.setText("✓ Your encrypted database is ready. It is protected by your passphrase.")
        self.choose.setEnabled(False)

    def initializePage(self) -> None:  # noqa: N802
        def opened(mode: str) -> None:
            self._ok = True
            self.status.setText("✓ Your encrypted database is ready. " + (
                "Its key is in your system keyring." if mode == "keyring" else "It is protected by your passphrase."))
            self.choose.setEnabled(mode == "keyring")
            self.completeChanged.emit()

        def failed(exc) -> None:
            from app.ui.errors import describe

            msg, hint = describe(exc)
            self.status.setText(f"{msg}\n→ {hint}" if hint else msg)

        self.ctx.tasks.db(lambda s: s.key_mode, opened, failed, name="wizard-key")

    def isComplete(self) -> bool:  # noqa: N802
        return self._ok


class DevicesPage(QWizardPage):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.setTitle("Microphone and call audio")
        self.setSubTitle("Pick your devices and press Test, then speak: the bar should move.")
        self.audio = AudioTab(ctx)
        self.setLayout(vbox(self.audio))

    def initializePage(self) -> None:  # noqa: N802
        self.audio.refresh()


class ModelsPage(QWizardPage):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.setTitle("Speech and language models")
        self.setSubTitle("The default models are bundled with Kith; the first time they are assembled and checked.")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = TaskProgress()
        self.prepare = button("Prepare the default models", self.run, name="Prepare the default models", primary=True)
        self.setLayout(vbox(self.status, hbox(self.prepare, None), self.progress, None))

    def initializePage(self) -> None:  # noqa: N802
        s = self.ctx.settings
        self.status.setText(f"Speech: {s.transcribe.model}    Language model: {s.llm.model}\n"
                            "You can skip this: models are prepared when first needed.")

    def run(self) -> None:
        s, paths = self.ctx.settings, self.ctx.kith.paths

        def work(_k, h):
            from app.catalog import resolve_llm, resolve_whisper

            resolve_whisper(paths, s.transcribe.model, progress=lambda d, t: h.progress(d, t, "Speech model…"), cancel=h.cancel_token)
            resolve_llm(paths, s.llm.model, progress=lambda d, t: h.progress(d, t, "Language model…"), cancel=h.cancel_token)

        def done(_r) -> None:
            self.status.setText("✓ Both models are ready.")
            self.prepare.setEnabled(False)

        def failed(exc) -> None:
            from app.ui.errors import describe

            msg, hint = describe(exc)
            self.status.setText(f"{msg}\n→ {hint}" if hint else msg)

        h = self.ctx.tasks.model(work, done, failed, name="wizard-models")
        self.progress.track(h, self.ctx.tasks, "Preparing models…")


class CalendarPage(QWizardPage):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.setTitle("Calendar (optional)")
        self.setSubTitle("With a calendar, Kith shows your day and prepares a brief before each meeting.")
        self.cal = CalendarsTab(ctx)
        self.setLayout(vbox(self.cal))

    def initializePage(self) -> None:  # noqa: N802
        self.cal.refresh()


class FirstRunWizard(QWizard):
    def __init__(self, ctx: UiContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Set up Kith")
        self.setAccessibleName("First-run wizard")
        self.resize(640, 520)
        for page in (KeyPage(ctx), DevicesPage(ctx), ModelsPage(ctx), CalendarPage(ctx)):
            self.addPage(page)
        self.finished.connect(self._done)

    def _done(self, _result: int) -> None:
        qs = QSettings(str(self.ctx.kith.paths.config / "ui.ini"), QSettings.Format.IniFormat)
        qs.setValue("wizard/done", True)
        qs.sync()
        if self.ctx.window is not None:
            self.ctx.window.go(self.ctx.window.current_key())
