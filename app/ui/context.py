"""What every view receives: the core context, the task manager, the event bridge and a
way to navigate. Views never open the store themselves; they ask ``ctx.tasks``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from app.core.config import save_settings
from app.context import Kith
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
    listeners: dict[str, list[Callable[[Any], None]]] = field(default_factory=dict)

    @property
    def settings(self):
        return self.kith.settings

    def save_settings(self) -> None:
        save_settings(self.kith.settings, self.kith.paths.settings_file)
        self.notify("settings_changed", self.kith.settings)

    def show_error(self, exc: BaseException) -> None:
        if self.window is not None:
            self.window.show_error(exc)

    def show_info(self, message: str, hint: str = "") -> None:
        if self.window is not None:
            self.window.show_info(message, hint)

    # -- a tiny in-UI notification hub (data changed → other views refresh) --------------
    def on(self, topic: str, fn: Callable[[Any], None]) -> None:
        self.listeners.setdefault(topic, []).append(fn)

    def notify(self, topic: str, value: Any = None) -> None:
        for fn in list(self.listeners.get(topic, [])):
            try:
                fn(value)
            except RuntimeError:  # a deleted widget
                self.listeners[topic].remove(fn)
