"""Meetings as the user acts on them — process a file, store a live meeting, write or redo its
minutes, delete it, mark its action items, ask across meetings. One implementation for the CLI
(`kith process|import|meetings reprocess|delete|actions|ask`) and the app."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.core.domain import Meeting, Note, Segment
from app.ops.changes import Kind, OpChanges, OpResult

# what writing a meeting's minutes changes: the meeting, its items and the AI's CRM proposals
MINUTES = OpChanges.of(Kind.MEETINGS, Kind.ACTIONS, Kind.SUGGESTIONS)


def process(kith, path: Path, opts=None, engines=None, bus=None, cancel=None) -> OpResult:
    """The main job on a recording or transcript file: transcribe, extract, store."""
    from app.meetings.pipeline import ProcessOptions, process_file

    result = process_file(kith, Path(path), opts or ProcessOptions(), engines=engines, bus=bus, cancel=cancel)
    return OpResult(result, MINUTES | OpChanges.of(Kind.RECORDINGS))


def import_plan(kith, path: Path) -> OpResult:
    """What importing ``path`` would use (title, template suggested from the calendar event or the
    content, start time with its calendar event, attendees) — the app's import sheet shows it and
    passes the user's choices to :func:`process` as ProcessOptions. Changes nothing."""
    from app.meetings.import_plan import plan_import

    return OpResult(plan_import(kith, Path(path)))


def followup(kith, meeting_id: int) -> OpResult:
    """A follow-up email draft for a stored meeting (recap, decisions, next steps with owners and
    due dates, the user's sign-off), from stored data only. Kith sends nothing; changes nothing."""
    from app.export.followup import build_followup

    crm = kith.settings.crm
    return OpResult(build_followup(kith.store(), meeting_id, crm.my_name, crm.my_email))


def reprocess(kith, meeting_id: int, opts=None, engines=None, bus=None, cancel=None) -> OpResult:
    """Extract the minutes again from the stored transcript (the earlier AI output is replaced
    only once the new extraction succeeded)."""
    from app.meetings.resume import reprocess_meeting

    return OpResult(reprocess_meeting(kith, meeting_id, opts, engines=engines, bus=bus, cancel=cancel), MINUTES)


def write_minutes(kith, meeting_id: int, notes: str = "", engines=None, bus=None, cancel=None) -> OpResult[int]:
    """Minutes for a stored meeting that has none yet (a recovered or just-stored live meeting)."""
    from app.meetings.pipeline import ProcessOptions, extract_and_store

    store = kith.store()
    meeting = store.meetings.get(meeting_id)
    extract_and_store(kith, meeting, store.segments.for_meeting(meeting_id), ProcessOptions(user_notes=notes),
                      engines, bus, cancel)
    return OpResult(meeting_id, MINUTES)


def delete(kith, meeting_id: int) -> OpResult[dict]:
    """Delete a meeting and everything derived from it (audited; freed pages scrubbed). The counts
    of what went; ``recording_kept`` names a recording that stays."""
    from app.meetings.resume import delete_meeting

    return OpResult(delete_meeting(kith, meeting_id), MINUTES | OpChanges.of(Kind.RECORDINGS))


def store_live_meeting(kith, store, *, title: str, started_at: datetime, ended_at: datetime, recording,
                       segments: list[Segment], notes: str, event=None, calendar_event_id: int | None = None,
                       cancel=None) -> OpResult[tuple]:
    """Store a recorded meeting: the encrypted recording ((path, rate, seconds) or None), the
    transcript (the "Them" channel split into named voices first), the calendar event's known
    attendees as participants and the user's notes. Used by Stop and by crash recovery.
    The value is (meeting, stored segments)."""
    from app.store import recordings

    segs_in = [Segment(s.start, s.end, s.text, s.speaker, s.channel, list(s.words)) for s in segments]
    if recording is not None and segs_in:
        segs_in = _name_speakers(kith, store, recording[0], segs_in, event, cancel)
    with store.transaction():
        rec_id = (recordings.register(store, recording[0], recording[1], recording[2], channels=2, state="finished")
                  if recording is not None else None)
        lang = kith.settings.transcribe.language
        meeting = store.meetings.add(Meeting(
            title=title, started_at=started_at, ended_at=ended_at, recording_id=rec_id,
            calendar_event_id=getattr(event, "id", None) or calendar_event_id, language="" if lang == "auto" else lang,
            template=kith.settings.crm.default_template, status="transcribed"))
        segs = store.segments.add_many(meeting.id, segs_in)
        for a in getattr(event, "attendees", None) or []:
            c = store.contacts.find_by_email(a.email) if getattr(a, "email", None) else None
            if c is not None:
                store.meetings.add_participant(meeting.id, c.id)
        if notes.strip():
            store.notes.add(Note(meeting_id=meeting.id, author="user", body=notes, kind="notes"))
    return OpResult((meeting, segs), OpChanges.of(Kind.MEETINGS, Kind.RECORDINGS))


def _name_speakers(kith, store, path, segments: list[Segment], event, cancel) -> list[Segment]:
    """After stop: split the "Them" channel of the encrypted recording into named voices
    (the same step `kith process` runs; the transcript survives any failure)."""
    from app.capture.session import read_recording
    from app.speakers import diarize_and_name

    try:
        audio = read_recording(store, path)
    except Exception:  # noqa: BLE001 — keep the live labels
        return segments
    from app.calendar.link import invitees

    me = (kith.settings.crm.my_name, kith.settings.crm.my_email)
    return diarize_and_name(audio, segments, store=store, attendees=invitees(event, me), bus=kith.bus,
                            cancel=cancel, me=me)


ACTION_STATUSES = ("proposed", "open", "done", "dismissed")


def set_action_status(store, statuses: dict[int, str]) -> OpResult[dict[int, str]]:
    """Mark action items done / dismissed / open (``{id: status}``), in one transaction. The
    value is each item's status before, so the same call undoes it."""
    from app.core.errors import KithError

    bad = sorted({s for s in statuses.values() if s not in ACTION_STATUSES})
    if bad:
        raise KithError(f"not an action-item status: {', '.join(bad)}", hint=f"use one of {', '.join(ACTION_STATUSES)}")
    before: dict[int, str] = {}
    with store.transaction():
        for i, st in statuses.items():
            before[i] = store.actions.get(i).status
            store.actions.set_status(i, st)
    return OpResult(before, OpChanges.of(Kind.ACTIONS))


def ask(kith, question: str, engines=None, llm_name: str | None = None, cancel=None,
        keyword_only: bool = False) -> OpResult[dict]:
    """A question over all meetings, answered only from cited lines (`kith ask --json`'s dict).
    Changes nothing a view shows (it may add missing sentence vectors)."""
    from app.meetings.ask import ask as answer

    return OpResult(answer(kith, question, engines=engines, llm_name=llm_name, cancel=cancel,
                           keyword_only=keyword_only))
