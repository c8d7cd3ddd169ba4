"""What every view receives: the core context, the task manager, the event bridge and a
way to navigate. Views never open the store themselves; they ask ``ctx.tasks``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from app.core.config import save_settings
from app.context import Kith
from app.ops.changes import Kind, OpChanges
from app.ui.bridge import EventBridge
from app.ui.tasks import TaskManager

if TYPE_CHECKING:  # pragma: no cover
    from app.ui.audio import AudioSourceFactory
    from app.ui.main_window import MainWindow


@dataclass
class UiContext:
    kith: Kith
    tasks: TaskManager
    bridge: EventBridge
    # Builds the live meeting's audio source (capture's Recorder, or a WAV replay in tests/demos).
    audio_source_factory: "AudioSourceFactory | None" = None
    window: "MainWindow | None" = None
    ui_settings_file: Path | None = None
    listeners: list[tuple[frozenset[Kind], Callable[[OpChanges], None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # an operation run as a task (it returns an OpResult) reports what it changed
        self.tasks.changed.connect(self.changed)

    @property
    def settings(self):
        return self.kith.settings

    def save_settings(self) -> None:
        save_settings(self.kith.settings, self.kith.paths.settings_file)
        self.changed(OpChanges.of(Kind.SETTINGS))

    def show_error(self, exc: BaseException) -> None:
        if self.window is not None:
            self.window.show_error(exc)

    def show_info(self, message: str, hint: str = "", action=None) -> None:
        """``action``: (label, fn), e.g. ("Undo", undo)."""
        if self.window is not None:
            self.window.show_info(message, hint, action=action)

    # -- how a change reaches the screen: views subscribe to kinds of records ----------------
    def on_change(self, kinds, fn: Callable[[OpChanges], None]) -> None:
        """Call ``fn(changes)`` whenever an operation changed any of ``kinds`` (``Kind`` values)."""
        self.listeners.append((frozenset(kinds), fn))

    def changed(self, changes: OpChanges) -> None:
        """Tell the views what an operation changed; each redraws if it shows one of those kinds."""
        for entry in list(self.listeners):
            kinds, fn = entry
            if not changes.touches(*kinds):
                continue
            try:
                fn(changes)
            except RuntimeError:  # a deleted widget
                if entry in self.listeners:
                    self.listeners.remove(entry)
