"""Half-done work: re-run a meeting's extraction from its stored transcript, or delete a meeting.

Plain functions the CLI (`kith meetings reprocess|delete`) and the app call alike.
"""
from __future__ import annotations

from app.context import Kith
from app.core.errors import KithError
from app.meetings.pipeline import Engines, ProcessOptions, ProcessResult, extract_and_store


def reprocess_meeting(kith: Kith, meeting_id: int, opts: ProcessOptions | None = None, engines: Engines | None = None,
                      bus=None, cancel=None) -> ProcessResult:
    """Extract minutes, action items and suggestions again from the stored transcript.

    Finishes a meeting whose extraction was interrupted or failed, or redoes a processed one
    (e.g. with another model or template). The earlier AI output is replaced only once the new
    extraction has succeeded; the person's own notes, accepted items and decisions stay."""
    opts = opts or ProcessOptions()
    store = kith.store()
    meeting = store.meetings.get(meeting_id)
    segments = store.segments.for_meeting(meeting_id)
    if not segments:
        raise KithError(f"meeting #{meeting_id} has no transcript to extract from",
                        hint=f"delete it with `kith meetings delete {meeting_id}` and process the recording again")
    if opts.template:
        meeting.template = opts.template
        store.meetings.update(meeting)
    return extract_and_store(kith, meeting, segments, opts, engines, bus, cancel, replace_previous=True)


def delete_meeting(kith: Kith, meeting_id: int) -> dict:
    """Delete a meeting and everything derived from it; then scrub freed pages. Returns counts."""
    from app.core.domain import AuditEntry
    from app.store.rights import scrub

    store = kith.store()
    with store.transaction():
        counts = store.meetings.delete_with_derived(meeting_id)
        store.audit.record(AuditEntry(actor="user", action="meeting.delete", output={"meeting_id": meeting_id}))
    scrub(store)
    return counts
