"""The speakers step of the pipeline and the edits a user makes afterwards.

``diarize_and_name`` runs between transcription and extraction: it splits the remote ("Them")
channel — or a mono recording — into speakers, merges them into the transcript segments and names
the ones it is sure about. It never loses the transcript: on any failure it returns the input
labels and emits :class:`SpeakersFailed`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from app.core.domain import Segment
from app.core.errors import Cancelled, KithError
from app.core.events import Event, emitter
from app.speakers.diarize import DiarizeOptions, Diarization, assign_speakers, diarize_audio, load_channels
from app.speakers.encoder import SAMPLE_RATE, VoiceEncoder
from app.speakers.naming import NameChoice, choose_names
from app.speakers import profiles as P


@dataclass(frozen=True)
class SpeakersIdentified(Event):
    meeting_id: int | None
    # (label, name or "", seconds of speech, how it was named) per remote/mono speaker
    speakers: tuple = ()


@dataclass(frozen=True)
class SpeakersFailed(Event):
    meeting_id: int | None
    error: str  # the error type only (no transcript text or names)
    detail: str = ""


@dataclass
class SpeakerAnalysis:
    segments: list[Segment]
    diarization: Diarization | None
    names: dict[str, NameChoice] = field(default_factory=dict)
    channel: int | None = None


def _channel_plan(segments: list[Segment], n_channels: int) -> tuple[int, int | None]:
    """(segment channel to relabel, audio channel index or None for the mix)."""
    chans = {s.channel for s in segments}
    if 1 in chans and n_channels >= 2:
        return 1, 1
    if -1 in chans:
        return -1, None
    if 1 in chans:  # "Them" segments but a mono file: use what there is
        return 1, 0
    return -1, None


def analyse(audio_path, segments: list[Segment], store=None, attendees=(), meeting_id: int | None = None,
            encoder: VoiceEncoder | None = None, options: DiarizeOptions | None = None, me=None,
            cancel=None) -> SpeakerAnalysis:
    """Diarize and name; raises on failure (see :func:`diarize_and_name` for the safe wrapper)."""
    if not segments:
        return SpeakerAnalysis([], None)
    attendees = [(n or "", e or "") for n, e in (attendees or [])]
    if not attendees and store is not None and meeting_id is not None:
        attendees = [(c.name, c.email or "") for c in store.meetings.participants(meeting_id)]
    channels = load_channels(audio_path)
    seg_channel, audio_index = _channel_plan(segments, len(channels))
    if seg_channel == 0 or not any(s.channel == seg_channel for s in segments):
        return SpeakerAnalysis([replace(s) for s in segments], None)
    audio = channels[audio_index] if audio_index is not None else np.mean(np.stack(channels), axis=0)
    opts = replace(options) if options else DiarizeOptions()
    if attendees and opts.max_speakers is None:
        opts.max_speakers = max(1, len(attendees))
    encoder = encoder or VoiceEncoder()
    dia = diarize_audio(audio.astype(np.float32), encoder, opts, cancel=cancel)
    out = assign_speakers(segments, dia.turns, channel=seg_channel)
    # segments of this channel outside every turn keep their old label; give them "Speaker ?" only if empty
    known: dict[int, np.ndarray] = {}
    names_by_id: dict[int, str] = {}
    if store is not None:
        known = P.profiles(store, encoder.model)
        for cid in list(known):
            try:
                names_by_id[cid] = store.contacts.get(cid).name
            except KithError:
                known.pop(cid)
    matches = {lab: (cid, names_by_id[cid], sim) for lab, (cid, sim) in P.match(dia.centroids, known).items()}
    labels = [lab for lab in dia.labels]
    names = choose_names(out, labels, attendees, matches, me=me, user_among_labels=seg_channel == -1)
    for s in out:
        if s.channel == seg_channel and s.speaker in names:
            s.speaker = names[s.speaker].name
    return SpeakerAnalysis(out, dia, names, seg_channel)


def diarize_and_name(audio_path, segments: list[Segment], store=None, attendees=(), meeting_id: int | None = None,
                     bus=None, cancel=None, *, encoder: VoiceEncoder | None = None,
                     options: DiarizeOptions | None = None, me: tuple[str, str] | None = None) -> list[Segment]:
    """New segments with per-speaker labels ("Speaker 1", … or names); channel 0 stays "You".

    ``attendees``: [(name, email)] from the calendar (bounds the speaker count, resolves spoken
    first names); ``me``: the user's (name, email) so they are not counted as a remote speaker.
    On failure returns copies of the input segments and emits ``SpeakersFailed``.
    """
    emit = emitter(bus)
    try:
        res = analyse(audio_path, segments, store, attendees, meeting_id, encoder, options, me, cancel)
    except Cancelled:
        raise
    except Exception as e:  # noqa: BLE001 — the transcript must survive any failure here
        emit(SpeakersFailed(meeting_id, type(e).__name__, "speaker labels left as transcribed"))
        return [replace(s) for s in segments]
    if res.diarization is not None:
        speakers = tuple((lab, res.names[lab].name if lab in res.names else "", round(res.diarization.speech_s.get(lab, 0.0), 1),
                          res.names[lab].how if lab in res.names else "") for lab in res.diarization.labels)
        emit(SpeakersIdentified(meeting_id, speakers))
    return res.segments


# -- after the meeting: rename, confirm, stats ------------------------------------------------------
@dataclass
class RenameResult:
    segments: int = 0
    notes: int = 0
    actions: int = 0
    contact_id: int | None = None
    profile_id: int | None = None
    warning: str = ""


def _label_rx(old: str) -> re.Pattern:
    return re.compile(r"(?<![\w])" + re.escape(old) + r"(?![\w])")


def rename_speaker(store, meeting_id: int, old: str, new: str, contact_id: int | None = None,
                   audio_path=None, encoder: VoiceEncoder | None = None) -> RenameResult:
    """Rename a speaker everywhere in one meeting: transcript segments, the AI minutes and action items
    (owner text; owner contact when known). When the person is a contact (``contact_id``, or a
    contact with exactly that name) and the meeting's audio can be read, their voice is stored as a
    profile so later meetings recognise them."""
    new = (new or "").strip()
    if not new:
        raise KithError("the new speaker name is empty")
    meeting = store.meetings.get(meeting_id)
    segs = store.segments.for_meeting(meeting_id)
    if not any(s.speaker == old for s in segs):
        have = sorted({s.speaker for s in segs if s.speaker})
        raise KithError(f"no speaker {old!r} in meeting {meeting_id}",
                        hint="speakers in this meeting: " + (", ".join(have) or "none"))
    res = RenameResult()
    if contact_id is None:
        c = store.contacts.find_by_name(new, min_score=95)
        contact_id = c.id if c is not None else None
    elif contact_id is not None:
        store.contacts.get(contact_id)  # NotFound early
    res.contact_id = contact_id
    rx = _label_rx(old)
    with store.transaction():
        res.segments = store.segments.update_speaker(speaker=new, meeting_id=meeting_id, old_speaker=old)
        for note in store.notes.for_meeting(meeting_id):
            if note.author == "ai" and rx.search(note.body or ""):
                note.body = rx.sub(new, note.body)
                store.notes.update(note)
                res.notes += 1
        for a in store.actions.list(meeting_id=meeting_id):
            changed = False
            if (a.owner_text or "").strip().casefold() == old.casefold():
                a.owner_text = new
                if contact_id is not None:
                    a.owner_contact_id = contact_id
                changed = True
            if rx.search(a.text or ""):
                a.text = rx.sub(new, a.text)
                changed = True
            if changed:
                store.actions.update(a)
                res.actions += 1
        if contact_id is not None:
            store.meetings.add_participant(meeting_id, contact_id)
    if contact_id is not None:
        spans = [(s.start, s.end, s.channel) for s in segs if s.speaker == old]
        try:
            emb = voice_of(_meeting_audio(store, meeting, audio_path), spans, encoder)
            res.profile_id = P.add_profile(store, contact_id, emb, meeting_id=meeting_id,
                                           model=(encoder or VoiceEncoder).model)
        except Exception as e:  # noqa: BLE001 — the rename itself is done; the profile is a bonus
            res.warning = f"voice profile not stored ({type(e).__name__}): the meeting audio could not be read"
    return res


def _meeting_audio(store, meeting, audio_path=None):
    """A file path, or (samples, rate) of the meeting's encrypted recording; FileNotFoundError if none."""
    for p in (audio_path, meeting.source_file):
        if p and Path(p).is_file():
            return Path(p)
    from app.capture.session import read_recording, recording_file

    rec = recording_file(store, meeting.recording_id)
    if rec is not None and rec[0].is_file():
        return read_recording(store, rec[0])
    raise FileNotFoundError("no audio")


def voice_of(path, spans: list[tuple[float, float, int]], encoder: VoiceEncoder | None = None,
             max_s: float = 90.0) -> np.ndarray:
    """One voice embedding from a speaker's spans (start, end, segment channel) of a recording."""
    encoder = encoder or VoiceEncoder()
    channels = load_channels(path)
    pieces, total = [], 0.0
    for s, e, ch in sorted(spans, key=lambda x: -(x[1] - x[0])):
        audio = channels[1] if ch == 1 and len(channels) > 1 else (
            channels[0] if ch == 0 or len(channels) == 1 else np.mean(np.stack(channels), axis=0))
        piece = audio[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)]
        if len(piece) >= SAMPLE_RATE // 2:
            pieces.append(piece)
            total += len(piece) / SAMPLE_RATE
        if total >= max_s:
            break
    if not pieces:
        raise KithError("too little speech from this speaker to learn their voice")
    embs = [encoder.embed_utterance(p) for p in pieces]
    w = np.array([len(p) for p in pieces], np.float64)
    m = (np.stack(embs) * w[:, None]).sum(axis=0)
    return (m / np.linalg.norm(m)).astype(np.float32)


@dataclass
class SpeakerStat:
    speaker: str
    seconds: float
    segments: int
    words: int
    share: float
    first_at: float


def speaker_stats(store, meeting_id: int) -> list[SpeakerStat]:
    """Talk time per speaker of a stored meeting, most talkative first."""
    store.meetings.get(meeting_id)
    by: dict[str, list] = {}
    for s in store.segments.for_meeting(meeting_id):
        key = s.speaker or "Unknown"
        st = by.setdefault(key, [0.0, 0, 0, s.start])
        st[0] += max(0.0, s.end - s.start)
        st[1] += 1
        st[2] += len((s.text or "").split())
        st[3] = min(st[3], s.start)
    total = sum(v[0] for v in by.values()) or 1.0
    out = [SpeakerStat(k, round(v[0], 1), v[1], v[2], round(v[0] / total, 3), round(v[3], 1)) for k, v in by.items()]
    return sorted(out, key=lambda x: -x.seconds)
