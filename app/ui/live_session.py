"""A live meeting, end to end, off the GUI thread:

capture's :class:`~app.capture.recorder.Recorder` (encrypted .krec) → its frames feed a
:class:`~app.transcribe.streaming.StreamingTranscriber` → partial/final lines reach the UI
as events → Stop: the transcript and the user's notes are stored as a meeting and
:func:`~app.meetings.pipeline.extract_and_store` writes the minutes (progress, cancel).

Start/pause/stop run on the task manager's *live* lane; storing and extraction on the
*model* lane. The GUI only receives signals.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from app.core.domain import Segment
from app.core.errors import KithError
from app.ui.context import UiContext
from app.ui.qt import QObject, Signal

log = logging.getLogger("kith.ui.live")

# side records of a live recording (app.ui.recovery reads them back after a crash)
LIVE_META, NOTES, LINE = "kith_live", "notes", "line"


@dataclass
class _Running:
    recorder: object
    transcriber: object
    started_at: datetime
    sources: object
    finals: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    unsubscribe: object = None


class LiveSession(QObject):
    """States: idle → starting → recording ⇄ paused → stopping → processing → idle."""

    state_changed = Signal(str)
    line_final = Signal(object)  # Segment
    line_partial = Signal(int, str, str)  # channel, speaker, text
    levels = Signal(float, float, float, float)  # rms You, rms Them, peak You, peak Them
    warning = Signal(str)
    caught_up = Signal()
    stage = Signal(str)
    processed = Signal(int)  # meeting id with minutes
    stored = Signal(int)  # meeting id (transcript stored, before minutes)
    failed = Signal(object)

    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.state = "idle"
        self.calendar_event = None  # calendar event the recording belongs to
        self.title = ""
        self.notes_text = lambda: ""  # set by the view: the notes pad's text
        self.meeting_id: int | None = None
        self._run: _Running | None = None
        self._process_handle = None
        # one number per recording: the minutes of the previous meeting may still be written (model
        # lane) while the next one records; their callbacks only touch the state if it is still theirs
        self._gen = 0
        self.stopped_notes = ""
        ctx.bridge.event.connect(self._on_event)

    # -- state --------------------------------------------------------------------------
    def _set(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    @property
    def running(self) -> bool:
        return self.state in ("starting", "recording", "paused")

    @property
    def seconds(self) -> float:
        r = self._run
        return float(r.recorder.seconds) if r is not None else 0.0

    def transcript(self) -> list[Segment]:
        r = self._run
        if r is None:
            return []
        with r.lock:
            return sorted(r.finals, key=lambda s: (s.start, s.channel))

    # -- start ----------------------------------------------------------------------------
    def start(self, event=None, title: str = "") -> None:
        if self.state not in ("idle", "processing"):  # back-to-back: the previous minutes go on being written
            return
        self._gen += 1
        self.calendar_event = event
        self.title = title or (event.title if event is not None else f"Meeting {datetime.now():%d %b %H:%M}")
        self.meeting_id = None
        self._set("starting")
        kith = self.ctx.kith
        tasks = self.ctx.tasks

        def got_key(key: bytes) -> None:
            tasks.live(lambda h: self._start_blocking(kith, key), self._started, self._start_failed, name="live-start")

        tasks.db(lambda s: s.master_key, got_key, self._start_failed, name="live-key")

    def _start_blocking(self, kith, key: bytes) -> _Running:
        from app.capture.recorder import Recorder
        from app.store.keys import derive_subkey
        from app.transcribe.engine import WhisperCache
        from app.transcribe.streaming import StreamingTranscriber

        engines = self.ctx.tasks.engines
        if engines.whisper is None:
            engines.whisper = WhisperCache(kith.paths)
        ts = kith.settings.transcribe
        lw = engines.whisper.get(ts.model, ts.threads, bus=kith.bus)
        sources = self.ctx.audio_source_factory(kith)
        cs = kith.settings.capture
        finals: list = []
        lock = threading.Lock()
        holder: dict = {}

        def on_event(ev) -> None:
            from app.transcribe.events import FinalSegment

            if isinstance(ev, FinalSegment):
                seg = ev.segment
                with lock:
                    finals.append(seg)
                rec = holder.get("rec")
                if rec is not None:  # autosaved (encrypted) in the recording: a crash keeps the transcript
                    rec.note(LINE, start=seg.start, end=seg.end, text=seg.text, speaker=seg.speaker, channel=seg.channel)

        st = StreamingTranscriber(lw, cs.sample_rate, on_event=on_event, bus=kith.bus, language=ts.language,
                                  speakers={0: kith.settings.crm.my_name, 1: "Them"},
                                  endpoint_silence_ms=ts.vad_min_silence_ms, beam_size=ts.beam_size)
        rec = Recorder(kith.paths.recordings, derive_subkey(key, "recordings"), sources.mic, sources.system,
                       sample_rate=cs.sample_rate, bus=kith.bus, silence_warning_s=cs.silence_warning_s,
                       min_free_disk_mb=cs.min_free_disk_mb,
                       meta={"title_set": True, LIVE_META: True, "title": self.title,
                             "calendar_event_id": getattr(self.calendar_event, "id", None),
                             "started_at": datetime.now(timezone.utc).isoformat()})
        holder["rec"] = rec
        has = (sources.mic is not None, sources.system is not None)

        def feed(frames) -> None:  # capture's writer thread: queue and return
            if has[0]:
                st.feed(frames[:, 0], 0)
            if has[1]:
                st.feed(frames[:, 1], 1)

        run = _Running(rec, st, datetime.now(timezone.utc), sources, finals, lock)
        run.unsubscribe = rec.subscribe(feed)
        kith.paths.recordings.mkdir(parents=True, exist_ok=True)
        try:
            rec.start()
        except BaseException:
            st.close(timeout=5)
            raise
        return run

    def autosave_notes(self, text: str) -> None:
        """Append the notes pad's text to the encrypted recording (the last one wins on recovery)."""
        r = self._run
        if r is not None and self.state in ("recording", "paused"):
            r.recorder.note(NOTES, body=text)

    def _started(self, run: _Running) -> None:
        self._run = run
        self._set("recording")
        if self.notes_text():  # typed before Start
            self.autosave_notes(self.notes_text())
        for note in getattr(run.sources, "notes", None) or []:
            self.warning.emit(note)

    def _start_failed(self, exc) -> None:
        self._set("idle")
        self.failed.emit(exc)

    # -- pause / stop ---------------------------------------------------------------------------
    def pause(self) -> None:
        if self.state == "recording" and self._run is not None:
            rec = self._run.recorder
            self.ctx.tasks.live(lambda h: rec.pause(), lambda _r: self._set("paused"), self.failed.emit, name="live-pause")

    def resume(self) -> None:
        if self.state == "paused" and self._run is not None:
            rec = self._run.recorder
            self.ctx.tasks.live(lambda h: rec.resume(), lambda _r: self._set("recording"), self.failed.emit, name="live-resume")

    def stop(self, process: bool = True) -> None:
        """Stop recording; store the meeting (transcript, notes, recording); then, if
        ``process``, write the minutes from the transcript and the notes."""
        if self.state not in ("recording", "paused") or self._run is None:
            return
        run = self._run
        self._set("stopping")
        notes = self.notes_text() or ""
        self.stopped_notes = notes
        event = self.calendar_event
        title = self.title

        def stop_blocking(h):
            summary = None
            try:
                summary = run.recorder.stop()
            finally:
                if run.unsubscribe:
                    run.unsubscribe()
                run.transcriber.close(timeout=120)  # finalizes what was still being said
            return summary

        def stopped(summary) -> None:
            self._set("processing" if process else "storing")
            self._store_and_process(run, summary, notes, title, event, process)

        def stop_failed(exc) -> None:
            # the recorder failed: keep what was transcribed
            self._set("processing" if process else "storing")
            self.warning.emit(f"The recording ended with a problem: {getattr(exc, 'message', exc)}")
            self._store_and_process(run, None, notes, title, event, process)

        self.ctx.tasks.live(stop_blocking, stopped, stop_failed, name="live-stop")

    def _store_and_process(self, run: _Running, summary, notes: str, title: str, event, process: bool) -> None:
        tasks = self.ctx.tasks
        segments = self.transcript()
        gen = self._gen

        def current() -> bool:
            return self._gen == gen

        def work(kith, handle):
            from app.meetings.pipeline import ProcessOptions, extract_and_store

            rec = (summary.path, summary.sample_rate, summary.seconds) if summary is not None else None
            meeting, segs = save_meeting(kith, kith.store(), title=title, started_at=run.started_at,
                                         ended_at=datetime.now(timezone.utc), recording=rec, segments=segments,
                                         notes=notes, event=event, cancel=handle.cancel_token)
            handle.meeting_id = meeting.id  # the meeting page shows "Writing minutes…" while this runs
            tasks.call_soon(lambda mid=meeting.id: self._stored(mid, current()))
            if not process:
                return meeting.id
            extract_and_store(kith, meeting, segs, ProcessOptions(user_notes=notes), tasks.engines, kith.bus, handle.cancel_token)
            return meeting.id

        def done(mid: int) -> None:
            if current():
                self._process_handle = None
                self._run = None
                self._set("idle")
            self.processed.emit(mid)

        def failed(exc) -> None:
            if current():
                self._process_handle = None
                self._run = None
                self._set("idle")
            self.failed.emit(exc)

        self._process_handle = tasks.model(work, done, failed, name="live-process", title=title)

    def _stored(self, meeting_id: int, current: bool = True) -> None:
        if current:
            self.meeting_id = meeting_id
        self.stored.emit(meeting_id)

    @property
    def process_handle(self):
        return self._process_handle

    def cancel_processing(self) -> None:
        if self._process_handle is not None:
            self._process_handle.cancel()

    # -- events from the core (GUI thread, via the bridge) -------------------------------------
    def _on_event(self, ev) -> None:
        from app.capture import events as cap
        from app.meetings.pipeline import StageChanged
        from app.transcribe import events as tr

        name = type(ev).__name__
        if isinstance(ev, tr.FinalSegment):
            if self.running or self.state == "stopping":
                self.line_final.emit(ev.segment)
        elif isinstance(ev, tr.PartialSegment):
            if self.running:
                self.line_partial.emit(ev.channel, ev.speaker, ev.text)
        elif isinstance(ev, cap.Levels):
            if self.running:
                self.levels.emit(ev.rms[0], ev.rms[1], ev.peak[0], ev.peak[1])
        elif isinstance(ev, cap.SilenceWarning):
            who = "microphone" if ev.channel == 0 else "call audio"
            self.warning.emit(ev.message or f"Your {who} has been silent for {ev.seconds:.0f} s — is it muted?")
        elif isinstance(ev, cap.DiskLow):
            self.warning.emit(f"Disk space is low ({ev.free_mb:.0f} MB free)" + (" — recording stopped." if ev.stopping else "."))
        elif isinstance(ev, cap.DeviceLost):
            self.warning.emit(f"Lost {ev.device or 'an audio device'}: {ev.reason}. Recording continues with silence.")
        elif isinstance(ev, cap.RecordingStopped) and ev.reason != "user" and self.state in ("recording", "paused"):
            self.warning.emit(f"Recording stopped ({ev.reason.replace('_', ' ')}).")
            self.stop()
        elif isinstance(ev, tr.Lagging):
            self.warning.emit(f"Transcription is {ev.behind_seconds:.0f} s behind; nothing is lost, it will catch up.")
        elif isinstance(ev, tr.CaughtUp):
            self.caught_up.emit()
        elif isinstance(ev, tr.StreamError):
            self.warning.emit(f"Live transcription problem: {ev.message}")
        elif isinstance(ev, StageChanged) and self.state == "processing":
            self.stage.emit(ev.stage)
        elif name == "ExtractionProgress" and self.state == "processing":
            self.stage.emit("extracting")

    def ensure_stopped(self) -> None:
        """Quitting: stop and store the transcript (minutes can be written later)."""
        if self.state in ("recording", "paused"):
            self.stop(process=False)


def save_meeting(kith, store, **kw):
    """Store a recorded meeting (Stop and crash recovery): the one operation, ``ops.meetings.store_live_meeting``."""
    from app.ops.meetings import store_live_meeting

    return store_live_meeting(kith, store, **kw).value


def require_idle(session: LiveSession) -> None:
    if session.state != "idle":
        raise KithError("a live meeting is in progress", hint="stop it first")
