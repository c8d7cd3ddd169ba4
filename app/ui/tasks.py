"""The task manager: nothing slow runs on the GUI thread.

Two lanes, each one worker thread (cf. Anki's ``taskman``):

* **db** — a serial executor that owns the app's :class:`~app.context.Kith` and its
  Store (SQLCipher connection). Every read and write the views make goes through it, in
  order, so the single-threaded Store is only ever touched by one thread.
* **model** — a serial executor for model work (transcription, extraction, downloads,
  asking). It owns a second Kith on the same profile (its own Store connection — SQLite
  WAL lets the two coexist) and one :class:`~app.meetings.pipeline.Engines`, so a loaded
  model is reused. On 2 cores, one model task at a time is also the fastest.

Results come back to the GUI thread through a queued Qt signal; progress and cancel go
through :class:`TaskHandle` (a :class:`~app.core.events.CancelToken` plus a throttled
progress signal). Errors reach the ``error`` callback (or :attr:`TaskManager.task_failed`),
never a traceback dialog.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable

from app.context import Kith
from app.core.errors import Cancelled
from app.core.events import CancelToken
from app.ops.changes import OpResult
from app.ui.qt import QObject, Qt, Signal

log = logging.getLogger("kith.ui.tasks")


class TaskHandle:
    """One submitted task: its name, lane, state, cancel token and progress reporter."""

    def __init__(self, manager: "TaskManager", id: int, name: str, lane: str):
        self._manager = manager
        self.id = id
        self.name = name
        self.lane = lane
        self.cancel_token = CancelToken()
        self.state = "queued"  # queued | running | done | failed | cancelled
        self.result: Any = None
        self.error: BaseException | None = None
        self.title = ""  # what the task is about (a meeting's title), for the activity list
        self.meeting_id: int | None = None  # the meeting it writes minutes for, once known (views show it there)
        self.detail = ""  # the last progress text
        self._last_progress = 0.0
        self._finished = threading.Event()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    def progress(self, done: float, total: float = 0.0, detail: str = "", force: bool = False) -> None:
        """Report progress from the worker (throttled to ~25 updates a second)."""
        now = time.monotonic()
        if not force and now - self._last_progress < 0.04 and (not total or done < total):
            return
        self._last_progress = now
        if detail:
            self.detail = detail
        self._manager.task_progress.emit(self, float(done), float(total), detail)

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name} {self.state}>"


class TaskManager(QObject):
    task_queued = Signal(object)
    task_started = Signal(object)
    task_progress = Signal(object, float, float, str)
    task_finished = Signal(object)
    task_failed = Signal(object, object)  # handle, exception (when no error callback was given)
    changed = Signal(object)  # OpChanges of an operation that finished as a task (UiContext.changed)
    locked = Signal(object)  # the store could not be opened (wrong passphrase, no keyring): the error
    _post = Signal(object)

    def __init__(self, kith: Kith, parent: QObject | None = None):
        super().__init__(parent)
        self.kith = kith  # belongs to the db lane: call kith.store() only inside db tasks
        self._model_kith: Kith | None = None
        self._engines = None
        self._ids = itertools.count(1)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="kith-db")
        self._models = ThreadPoolExecutor(1, thread_name_prefix="kith-model")
        self._live = ThreadPoolExecutor(1, thread_name_prefix="kith-live")
        self._active: dict[int, TaskHandle] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._post.connect(self._run_posted, Qt.ConnectionType.QueuedConnection)

    # -- lanes -----------------------------------------------------------------------
    def db(self, fn: Callable[[Any], Any], done: Callable | None = None, error: Callable | None = None,
           name: str = "db") -> TaskHandle:
        """Run ``fn(store)`` on the serial DB thread; ``done(result)`` on the GUI thread."""
        return self._submit(self._db, "db", name, lambda h: fn(self.open_store(self.kith)), done, error)

    def open_store(self, kith: Kith):
        """``kith.store()``, asking again after a wrong passphrase (up to MAX_PASSPHRASE_TRIES);
        after the last try the app shows its locked page (``locked``), never empty pages."""
        from app.store.keys import KeyError_, WrongKey

        broker = kith.ask_passphrase if isinstance(kith.ask_passphrase, PassphraseBroker) else None
        while True:
            try:
                store = kith.store()
            except WrongKey as e:
                if broker is None or kith.passphrase:
                    self.locked.emit(e)
                    raise
                if broker.failures < MAX_PASSPHRASE_TRIES:
                    broker.rejected()
                if broker.failures >= MAX_PASSPHRASE_TRIES:
                    err = broker._given_up()
                    self.locked.emit(err)
                    raise err from e
                continue
            except KeyError_ as e:  # no keyring / no passphrase given: the data is locked, not gone
                self.locked.emit(e)
                raise
            if broker is not None:
                broker.accepted()
            return store

    def db_kith(self, fn: Callable[[Kith], Any], done: Callable | None = None, error: Callable | None = None,
                name: str = "db") -> TaskHandle:
        """Like :meth:`db` but hands over the whole Kith (for core functions taking one)."""
        return self._submit(self._db, "db", name, lambda h: (self.open_store(self.kith), fn(self.kith))[1], done, error)

    def model(self, fn: Callable[[Kith, TaskHandle], Any], done: Callable | None = None,
              error: Callable | None = None, name: str = "model", title: str = "",
              meeting_id: int | None = None) -> TaskHandle:
        """Run ``fn(kith, handle)`` on the model thread (own Kith and store connection).
        ``handle.cancel_token`` and ``handle.progress(done, total, detail)`` are for the task.
        While it runs, the core's minutes progress and "meeting stored" events from that thread
        become the handle's progress ("Writing minutes… (2/4)") and ``handle.meeting_id``."""
        def work(h: TaskHandle):
            kith = self.model_kith()
            with _minutes_progress(kith.bus, h):
                return fn(kith, h)

        handle = self._submit(self._models, "model", name, work, done, error, title)
        if meeting_id is not None and handle.meeting_id is None:
            handle.meeting_id = meeting_id
        return handle

    def live(self, fn: Callable[[TaskHandle], Any], done: Callable | None = None, error: Callable | None = None,
             name: str = "live") -> TaskHandle:
        """Run ``fn(handle)`` on the live-meeting control thread (start/pause/stop a recording),
        so a long model task never delays the Stop button. No store access here."""
        return self._submit(self._live, "live", name, fn, done, error)

    def model_kith(self) -> Kith:
        """The model lane's Kith (same profile, settings and bus; its own store connection)."""
        if self._model_kith is None:
            k = self.kith
            self._model_kith = Kith(paths=k.paths, settings=k.settings, bus=k.bus,
                                    passphrase=k.passphrase, ask_passphrase=k.ask_passphrase)
        return self._model_kith

    @property
    def engines(self):
        """Loaded models kept between tasks (use only inside model tasks)."""
        if self._engines is None:
            from app.meetings.pipeline import Engines

            self._engines = Engines()
        return self._engines

    def forget_engines(self) -> None:
        """Drop loaded models (after the user changed models in Settings)."""
        self._models.submit(lambda: setattr(self, "_engines", None))

    def call_soon(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the GUI thread (safe to call from any thread)."""
        self._post.emit(fn)

    # -- plumbing --------------------------------------------------------------------
    def _submit(self, executor, lane, name, work, done, error, title: str = "") -> TaskHandle:
        handle = TaskHandle(self, next(self._ids), name, lane)
        handle.title = title
        if self._closed:
            handle.state = "cancelled"
            return handle
        with self._lock:
            self._active[handle.id] = handle
        self.task_queued.emit(handle)

        def run() -> None:
            handle.state = "running"
            self.task_started.emit(handle)
            t0 = time.perf_counter()
            try:
                if handle.cancelled:
                    raise Cancelled()
                handle.result = work(handle)
                handle.state = "done"
            except Cancelled as e:
                handle.state, handle.error = "cancelled", e
            except BaseException as e:  # noqa: BLE001 — every failure becomes a readable message
                handle.state, handle.error = "failed", e
                log.warning("task %s (%s) failed: %s", handle.name, handle.lane, type(e).__name__, exc_info=True)
            log.debug("task %s %s in %.3fs", handle.name, handle.state, time.perf_counter() - t0)
            self._post.emit(lambda: self._finish(handle, done, error))

        executor.submit(run)
        return handle

    def _finish(self, handle: TaskHandle, done, error) -> None:
        with self._lock:
            self._active.pop(handle.id, None)
        try:
            if handle.state == "done":
                if done is not None:
                    done(handle.result)
                if isinstance(handle.result, OpResult) and handle.result.changes:
                    self.changed.emit(handle.result.changes)
            elif handle.state == "failed":
                if error is not None:
                    error(handle.error)
                else:
                    self.task_failed.emit(handle, handle.error)
            elif handle.state == "cancelled" and error is not None and not isinstance(handle.error, Cancelled):
                error(handle.error)
        except RuntimeError as e:  # the widget that asked is gone (C++ object deleted)
            log.debug("callback of %s skipped: %s", handle.name, e)
        except Exception as e:  # noqa: BLE001 — a broken callback must not take the app down
            log.warning("callback of %s failed", handle.name, exc_info=True)
            self.task_failed.emit(handle, e)
        finally:
            handle._finished.set()
            self.task_finished.emit(handle)

    def _run_posted(self, fn) -> None:
        try:
            fn()
        except RuntimeError as e:
            log.debug("posted call skipped: %s", e)

    def active(self) -> list[TaskHandle]:
        with self._lock:
            return list(self._active.values())

    def cancel_all(self) -> None:
        for h in self.active():
            h.cancel()

    def shutdown(self, wait: bool = True) -> None:
        """Cancel what runs, then close both stores on their own threads."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        self._models.submit(lambda: self._model_kith.close() if self._model_kith else None)
        self._db.submit(self.kith.close)
        self._live.shutdown(wait=wait)
        self._models.shutdown(wait=wait, cancel_futures=True)
        self._db.shutdown(wait=wait)


MAX_PASSPHRASE_TRIES = 5


class PassphraseBroker(QObject):
    """Asks for the database passphrase on the GUI thread on behalf of a worker thread, and
    remembers the answer for the other lane (never written anywhere).

    The store says structurally what it needs: ``broker(prompt)`` for an existing database,
    ``broker.ask_new(reason)`` for a new one (typed twice, with the can't-be-recovered
    warning). After a wrong passphrase :meth:`rejected` forgets it and the next question says
    "wrong passphrase, try again"; :class:`TaskManager` stops after ``MAX_PASSPHRASE_TRIES``."""

    _ask = Signal(str, object)

    def __init__(self, ask_gui: Callable[[str], str | None], parent: QObject | None = None,
                 ask_new_gui: Callable[[str], str | None] | None = None):
        super().__init__(parent)
        self._ask_gui = ask_gui
        self._ask_new_gui = ask_new_gui
        self._cached: str | None = None
        self.failures = 0
        self.declined = False
        self._lock = threading.RLock()
        self._ask.connect(self._on_ask, Qt.ConnectionType.QueuedConnection)

    def _on_ask(self, prompt: str, box: dict) -> None:
        try:
            box["value"] = box["fn"](prompt)
        finally:
            box["event"].set()

    def _ask_on_gui(self, fn, prompt: str) -> str | None:
        from app.ui.qt import QApplication, QThread

        app = QApplication.instance()
        if app is not None and QThread.currentThread() is app.thread():
            return fn(prompt)  # already on the GUI thread: ask directly (a queued signal would deadlock)
        box: dict = {"event": threading.Event(), "value": None, "fn": fn}
        self._ask.emit(prompt, box)
        box["event"].wait()
        return box["value"]

    def prompt(self) -> str:
        if self.failures:
            left = MAX_PASSPHRASE_TRIES - self.failures
            return f"Wrong passphrase, try again ({left} {'try' if left == 1 else 'tries'} left):"
        return "Kith's data is protected with a passphrase:"

    def _given_up(self):
        from app.store.keys import KeyError_, WrongKey

        if self.failures >= MAX_PASSPHRASE_TRIES:
            return WrongKey(f"wrong passphrase ({self.failures} tries)",
                            hint="Kith cannot open your data without it; press “Try again”, or restart Kith")
        if self.declined:
            return KeyError_("no passphrase given", hint="Kith needs the passphrase to open your encrypted data; "
                             "press “Try again”")
        return None

    def _get(self, fn, prompt: str) -> str:
        with self._lock:
            if self._cached is not None:
                return self._cached
            stop = self._given_up()
            if stop is not None:  # no more dialogs until the user presses "Try again"
                raise stop
            value = self._ask_on_gui(fn, prompt)
            if not value:
                self.declined = True
                raise self._given_up()
            self._cached = value
            return value

    def __call__(self, _prompt: str) -> str:
        return self._get(self._ask_gui, self.prompt())

    def ask_new(self, reason: str) -> str:
        """A NEW passphrase (first start without a keyring): typed twice, with the warning."""
        return self._get(self._ask_new_gui or self._ask_gui, reason)

    def rejected(self) -> None:
        """The last answer did not open the database: forget it."""
        with self._lock:
            self._cached = None
            self.failures += 1

    def accepted(self) -> None:
        self.failures = 0

    def reset(self) -> None:
        """Try again from the start (the locked page's button)."""
        with self._lock:
            self._cached = None
            self.failures = 0
            self.declined = False


@contextmanager
def _minutes_progress(bus, handle: TaskHandle):
    """Forward this thread's extraction progress and stored-meeting events to ``handle``."""
    from app.core.events import Progress
    from app.meetings.pipeline import MeetingStored

    me = threading.get_ident()

    def on_progress(ev) -> None:
        if ev.task == "extract" and threading.get_ident() == me:
            step = f" ({int(ev.done)}/{int(ev.total)})" if ev.total else ""
            handle.progress(ev.done, ev.total, f"Writing minutes…{step}", force=True)

    def on_stored(ev) -> None:
        if threading.get_ident() == me:
            handle.meeting_id = ev.meeting_id
            handle.progress(0, 0, "Writing minutes…", force=True)

    unsubs = [bus.subscribe(Progress, on_progress), bus.subscribe(MeetingStored, on_stored)]
    try:
        yield
    finally:
        for u in unsubs:
            u()
