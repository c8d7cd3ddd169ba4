"""Who said what: speaker diarization of the remote/mono channel, names for speakers, voice profiles.

Public API (heavy imports happen on first call, so importing this package stays cheap)::

    from app.speakers import diarize_and_name, rename_speaker, speaker_stats
    segments = diarize_and_name(audio_path, segments, store=None, attendees=[(name, email)],
                                meeting_id=None, bus=None, cancel=None)
"""
from __future__ import annotations


def diarize_and_name(audio_path, segments, store=None, attendees=(), meeting_id=None, bus=None, cancel=None, **kw):
    from app.speakers.api import diarize_and_name as f

    return f(audio_path, segments, store=store, attendees=attendees, meeting_id=meeting_id, bus=bus, cancel=cancel, **kw)


def rename_speaker(store, meeting_id, old, new, contact_id=None, **kw):
    from app.speakers.api import rename_speaker as f

    return f(store, meeting_id, old, new, contact_id=contact_id, **kw)


def speaker_stats(store, meeting_id):
    from app.speakers.api import speaker_stats as f

    return f(store, meeting_id)


__all__ = ["diarize_and_name", "rename_speaker", "speaker_stats"]
