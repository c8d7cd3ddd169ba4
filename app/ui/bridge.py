"""Core events → Qt signals. The core's :class:`~app.core.events.EventBus` calls
subscribers in the emitting (worker) thread; this bridge re-emits every event as a Qt
signal, which Qt delivers to GUI-thread slots through a queued connection."""
from __future__ import annotations

from app.core.events import Event, EventBus
from app.ui.qt import QObject, Signal


class EventBridge(QObject):
    event = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None):
        super().__init__(parent)
        self._bus = bus
        self._unsubscribe = bus.subscribe(Event, self._forward)

    def _forward(self, ev: Event) -> None:
        try:
            self.event.emit(ev)
        except RuntimeError:  # the bridge was deleted while a worker still emitted
            pass

    def close(self) -> None:
        self._unsubscribe()
