"""Typed lifecycle events and a tiny synchronous event bus.

The core emits events; the CLI prints progress from them and the UI turns them into Qt
signals. Areas define their own event dataclasses by subclassing :class:`Event`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, TypeVar

E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class Progress(Event):
    """Generic progress of a long task: ``done`` of ``total`` units (total 0 = unknown)."""

    task: str
    done: float
    total: float
    detail: str = ""


class CancelToken:
    """Cooperative cancellation shared between a caller (UI button, Ctrl-C) and a task."""

    def __init__(self) -> None:
        self._ev = threading.Event()

    def cancel(self) -> None:
        self._ev.set()

    @property
    def cancelled(self) -> bool:
        return self._ev.is_set()

    def raise_if_cancelled(self) -> None:
        if self._ev.is_set():
            from app.core.errors import Cancelled

            raise Cancelled()


Handler = Callable[[Event], None]


@dataclass
class EventBus:
    """Subscribers are called in the emitting thread; UI adapters re-post to the GUI thread."""

    _subs: list[tuple[type, Handler]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        with self._lock:
            self._subs.append((kind, handler))  # type: ignore[arg-type]

        def unsubscribe() -> None:
            with self._lock:
                try:
                    self._subs.remove((kind, handler))  # type: ignore[arg-type]
                except ValueError:
                    pass

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for kind, handler in subs:
            if isinstance(event, kind):
                handler(event)


def emitter(bus: EventBus | None) -> Callable[[Event], None]:
    """A callable that emits on ``bus`` or does nothing; keeps call sites free of None checks."""
    return bus.emit if bus is not None else (lambda _e: None)
