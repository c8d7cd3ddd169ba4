"""The main job: a recording or transcript becomes a stored meeting with minutes, proposed
action items and suggestions for the CRM — each citing the transcript segments behind it.

capture/file → transcribe → extract → store. Plain Python: the CLI and the UI call the same
functions and follow progress through events. Nothing here opens a network connection.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from app.context import Kith
from app.core.domain import ActionItem, Meeting, Note, Segment, Suggestion
from app.core.errors import Cancelled, KithError
from app.core.events import CancelToken, Event, emitter
from app.meetings.importers import import_transcript, is_transcript


@dataclass(frozen=True)
class StageChanged(Event):
    stage: str  # transcribing | extracting | storing | done
    detail: str = ""


@dataclass(frozen=True)
class MeetingStored(Event):
    meeting_id: int


@dataclass
class ProcessOptions:
    template: str | None = None
    title: str | None = None
    with_emails: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    user_notes: str = ""
    language: str | None = None
    whisper_model: str | None = None
    llm_model: str | None = None
    speakers: bool = True  # split and name the voices on the "Them" channel (or a mono file)
    link_calendar: bool = True  # tie the meeting to the calendar event it happened during
    allow_duplicate: bool = False  # import a file again although a meeting came from the same bytes


class AlreadyImported(KithError):
    """The same file (by content) is already a meeting: offer to re-run it instead of a duplicate."""

    def __init__(self, path: Path, meeting: Meeting):
        self.meeting = meeting
        state = "its extraction did not finish" if meeting.status != "processed" else "processed"
        super().__init__(f"{path.name} was already imported as meeting #{meeting.id} ({state})",
                         hint=f"re-run its extraction with `kith meetings reprocess {meeting.id}`, "
                              "or pass --again to import a second copy")


class ExtractionFailed(KithError):
    """The model could not run; the meeting and its transcript are stored and can be re-run."""

    def __init__(self, meeting: Meeting, cause: Exception):
        self.meeting = meeting
        why = cause.message if isinstance(cause, KithError) else f"{type(cause).__name__}: {cause}"
        hint = (cause.hint + "; then " if isinstance(cause, KithError) and cause.hint else "")
        super().__init__(f"extraction failed for meeting #{meeting.id}: {why}",
                         hint=f"{hint}the transcript is stored — run `kith meetings reprocess {meeting.id}` to finish it")


def file_sha256(path: Path) -> str:
    from app.core.files import os_error

    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        raise os_error(e, path, "read") from None
    return h.hexdigest()


@dataclass
class ProcessResult:
    meeting: Meeting
    segments: list[Segment]
    actions: list[ActionItem]
    suggestions: list[Suggestion]
    dropped: list = field(default_factory=list)
    summary: str = ""


@dataclass
class Engines:
    """Loaded models, reused across meetings (the UI and `kith demo` keep one)."""

    llm: object | None = None
    whisper: object | None = None  # app.transcribe.engine.WhisperCache
    llm_path: Path | None = None
    embedder: object | None = None  # app.embed.MiniLM, loaded by Ask / when a meeting is stored

    def get_llm(self, kith: Kith, name: str | None, progress: Callable | None = None):
        from app.catalog import resolve_llm
        from app.extract import LocalLLM

        path = resolve_llm(kith.paths, name or kith.settings.llm.model, progress=progress)
        if self.llm is None or self.llm_path != path:
            s = kith.settings.llm
            self.llm = LocalLLM(path, n_threads=s.threads, n_ctx=s.context, hash_cache_dir=kith.paths.models)
            self.llm_path = path
        return self.llm

    def close(self) -> None:
        """Free the language model now (the CLI calls this before exit)."""
        llm, self.llm, self.llm_path = self.llm, None, None
        if llm is not None and hasattr(llm, "close"):
            llm.close()


def meeting_time(path: Path | None) -> datetime:
    """When a file's meeting started, by default: the file's modification time."""
    if path is not None and path.exists():
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    return datetime.now(timezone.utc)


def default_title(path: Path, meta: dict, event) -> str:
    """A meeting's title when none is given: the transcript's own, the calendar event's, else the file name."""
    return (meta.get("title") or (event.title if event is not None else "")
            or path.stem.replace("_", " ").replace("-", " ").strip().capitalize())


def transcribe(kith: Kith, path: Path, opts: ProcessOptions, engines: Engines, bus=None, cancel=None,
               hotwords: str | None = None) -> tuple[list[Segment], str]:
    from app.transcribe import transcribe_file

    emit = emitter(bus)
    emit(StageChanged("transcribing", path.name))
    if engines.whisper is None:
        from app.transcribe.engine import WhisperCache

        engines.whisper = WhisperCache(kith.paths)
    tr = transcribe_file(path, kith.paths, kith.settings.transcribe, model=opts.whisper_model, language=opts.language,
                         bus=bus, cancel=cancel, cache=engines.whisper, hotwords=hotwords)
    segs = list(tr.segments)
    for i, s in enumerate(segs, 1):
        s.index = i
    return segs, getattr(tr, "language", "") or ""


def context_names(kith: Kith, store, event, opts: ProcessOptions) -> str | None:
    """The names this meeting's context expects, for the speech model: the calendar event's
    attendees, the user, ``--with`` contacts, and the companies of the contacts among them."""
    from app.calendar.link import invitees
    from app.transcribe.context import hotwords

    crm = kith.settings.crm
    people = [n or e for n, e in invitees(event, me=(crm.my_name, crm.my_email))]
    emails = [e for _, e in invitees(event, me=(crm.my_name, crm.my_email)) if e] + list(opts.with_emails)
    companies = []
    for email in emails:
        c = store.contacts.find_by_email(email)
        if c is None:
            continue
        if email in opts.with_emails:
            people.append(c.name)
        if c.company_id is not None:
            try:
                companies.append(store.companies.get(c.company_id).name)
            except KithError:
                pass
    if not people and not companies:
        # nothing but the user: no prompt. A prompt biases every line (bench/names_bench.py: name-free
        # lines lose words to it), worth it only for names the meeting is expected to contain.
        return None
    me = [crm.my_name] if crm.my_name and crm.my_name != "You" else []
    return hotwords(people, me, companies)


def name_speakers(kith: Kith, store, path: Path, segments: list[Segment], event,
                  opts: ProcessOptions, bus=None, cancel=None) -> list[Segment]:
    """Tell the voices on the "Them" channel (or a mono file) apart and name the sure ones.

    Attendees bound the speaker count and resolve spoken names: the calendar event the meeting
    happened during, plus ``--with`` contacts. Never loses the transcript (see app.speakers)."""
    from app.calendar.link import invitees
    from app.speakers import diarize_and_name

    emitter(bus)(StageChanged("speakers", path.name))
    crm = kith.settings.crm
    attendees = invitees(event, me=(crm.my_name, crm.my_email))
    for email in opts.with_emails:
        c = store.contacts.find_by_email(email)
        if c is not None and email.casefold() not in {e.casefold() for _, e in attendees}:
            attendees.append((c.name, c.email or ""))
    segs = diarize_and_name(path, segments, store=store, attendees=attendees, bus=bus, cancel=cancel,
                            me=(crm.my_name, crm.my_email))
    for i, s in enumerate(segs, 1):
        s.index = i
    return segs


def process_file(
    kith: Kith,
    path: Path,
    opts: ProcessOptions | None = None,
    engines: Engines | None = None,
    bus=None,
    cancel: CancelToken | None = None,
) -> ProcessResult:
    """Transcribe (or import) a file, extract minutes and store everything. Returns what was stored."""
    opts = opts or ProcessOptions()
    engines = engines or Engines()
    path = Path(path)
    if not path.exists():
        raise KithError(f"{path}: no such file")
    if path.is_dir():
        raise KithError(f"{path}: is a folder, not a file", hint="give the path of a recording or a transcript file")
    store = kith.store()  # open (and check the key) before spending minutes on the audio
    sha = file_sha256(path)
    previous = store.meetings.find_by_source_hash(sha)
    if previous is not None and not opts.allow_duplicate:
        raise AlreadyImported(path, previous)
    meta: dict = {}
    started_at = opts.started_at or meeting_time(path)
    event = None
    if opts.link_calendar:
        from app.calendar.link import event_for

        event = event_for(store, started_at)  # the calendar event this meeting happened during
    if is_transcript(path):
        segments, meta = import_transcript(path)
        language = meta.get("language", "")
    else:
        segments, language = transcribe(kith, path, opts, engines, bus, cancel,
                                        hotwords=context_names(kith, store, event, opts))
        if cancel:
            cancel.raise_if_cancelled()
        if opts.speakers and segments:
            segments = name_speakers(kith, store, path, segments, event, opts, bus, cancel)
    if cancel:
        cancel.raise_if_cancelled()
    title = opts.title or default_title(path, meta, event)
    meeting = Meeting(
        title=title,
        started_at=started_at,
        language=language,
        template=opts.template or kith.settings.crm.default_template,
        status="transcribed",
        source_file=str(path.resolve()),
    )
    with store.transaction():
        meeting = store.meetings.add(meeting)
        store.meetings.set_source_hash(meeting.id, sha)
        segments = store.segments.add_many(meeting.id, segments)
        for email in opts.with_emails:
            c = store.contacts.find_by_email(email)
            if c is not None:
                store.meetings.add_participant(meeting.id, c.id)
        if opts.user_notes.strip():
            store.notes.add(Note(meeting_id=meeting.id, author="user", body=opts.user_notes, kind="notes"))
    if opts.link_calendar:
        from app.calendar.link import link_if_during_event

        crm = kith.settings.crm
        if link_if_during_event(store, meeting.id, crm.auto_accept, crm.my_name) is not None:
            meeting = store.meetings.get(meeting.id)  # the event's title and attendees
    emitter(bus)(MeetingStored(meeting.id))
    from app.meetings.ask import embed_meeting

    embed_meeting(store, meeting.id, engines, cancel)  # sentence vectors for Ask (skipped if the model is absent)
    return extract_and_store(kith, meeting, segments, opts, engines, bus, cancel)


def extract_and_store(
    kith: Kith,
    meeting: Meeting,
    segments: list[Segment],
    opts: ProcessOptions | None = None,
    engines: Engines | None = None,
    bus=None,
    cancel: CancelToken | None = None,
    replace_previous: bool = False,
) -> ProcessResult:
    """Run the LLM over a stored meeting's segments and store minutes, actions, suggestions.

    A failure leaves the meeting stored with its transcript (status ``transcribed``), which
    ``app.meetings.resume.reprocess_meeting`` finishes. With ``replace_previous`` the earlier
    AI output (minutes, proposed items, pending suggestions) is replaced in the same transaction."""
    from app.extract import MeetingContext, extract_meeting
    from app.extract.extractor import ExtractOptions

    opts = opts or ProcessOptions()
    engines = engines or Engines()
    store = kith.store()
    emit = emitter(bus)
    if not segments:
        meeting.status = "processed"
        store.meetings.update(meeting)
        emit(StageChanged("done", "no speech found"))
        return ProcessResult(meeting, [], [], [], summary="No speech was found in this recording.")
    emit(StageChanged("extracting", meeting.title))
    try:
        llm = engines.get_llm(kith, opts.llm_model)
    except Cancelled:
        raise
    except Exception as e:  # noqa: BLE001 — a model llama.cpp cannot load
        raise ExtractionFailed(meeting, e) from e
    attendees = [(c.name, c.email or "") for c in store.meetings.participants(meeting.id)]
    if meeting.calendar_event_id is not None:  # invitees not (yet) in the CRM still name speakers and owners
        from app.calendar.link import invitees
        from app.calendar.repo import CalendarRepo

        have = {e.casefold() for _, e in attendees if e} | {n.casefold() for n, _ in attendees}
        attendees += [(n, e) for n, e in invitees(CalendarRepo(store).get_event(meeting.calendar_event_id),
                                                  me=(kith.settings.crm.my_name, kith.settings.crm.my_email))
                      if n and n.casefold() not in have and e.casefold() not in have]
    user_notes = "\n\n".join(n.body for n in store.notes.for_meeting(meeting.id) if n.author == "user")
    ctx = MeetingContext(
        title=meeting.title,
        date=meeting.started_at.date() if isinstance(meeting.started_at, datetime) else date.today(),
        attendees=attendees,
        user_name=kith.settings.crm.my_name,
        user_notes=user_notes,
        template=meeting.template,
        paths=kith.paths,
    )
    try:
        result = extract_meeting(segments, ctx, llm, bus=bus, cancel=cancel,
                                 options=ExtractOptions(max_tokens=kith.settings.llm.max_tokens))
    except Cancelled:
        raise
    except (KithError, RuntimeError, ValueError, OSError) as e:
        raise ExtractionFailed(meeting, e) from e
    if cancel:
        cancel.raise_if_cancelled()
    emit(StageChanged("storing", meeting.title))
    from app.meetings.store_results import store_extraction

    with store.transaction():
        if replace_previous:
            store.meetings.clear_ai_output(meeting.id)
        actions, suggestions = store_extraction(kith, meeting, segments, result)
    emit(StageChanged("done", meeting.title))
    return ProcessResult(meeting, segments, actions, suggestions, dropped=list(result.dropped), summary=result.summary)


def prompt_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
