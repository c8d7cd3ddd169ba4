"""Naming speakers: self-introductions, addressing, voice profiles, renames, erasure."""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import pytest

from app.core.domain import ActionItem, Contact, Meeting, Note, Segment
from app.core.errors import KithError
from app.core.events import EventBus
from app.speakers import profiles as P
from app.speakers.api import SpeakersFailed, SpeakersIdentified, diarize_and_name, rename_speaker, speaker_stats
from app.speakers.naming import addressings, choose_names, introductions

from .scripts import turns
from .synth import render, write


def _speaker_at(segments, start, end, channel):
    """Speakers of the segments overlapping a reference turn (mostly)."""
    got = {}
    for s in segments:
        ov = min(end, s.end) - max(start, s.start)
        if s.channel == channel and ov > 0.5 * (s.end - s.start):
            got[s.speaker] = got.get(s.speaker, 0) + ov
    return max(got, key=got.get) if got else None


def _seg(start, end, text, speaker, channel=1):
    return Segment(start, end, text, speaker=speaker, channel=channel)


# -- rules, no audio -----------------------------------------------------------------------------
def test_introduction_and_addressing_rules():
    segs = [
        _seg(0, 2, "Hi, this is Diane from Acme.", "Speaker 1"),
        _seg(2, 4, "I'm sure that works. This is great. It is Monday.", "Speaker 2"),
        _seg(4, 6, "My name is Ana Silva and I run sales.", "Speaker 2"),
        _seg(6, 8, "Raj, can you send the draft?", "You", 0),
        _seg(8.5, 9, "Yes, I will.", "Speaker 3"),
        _seg(20, 21, "What do you think, Diane?", "You", 0),
        _seg(30, 31, "Much later.", "Speaker 1"),  # too late to be the answer
    ]
    assert introductions(segs) == [(0, "Diane"), (2, "Ana Silva")]
    assert addressings(segs) == [(4, "Raj", 1.0)]
    names = choose_names(segs, ["Speaker 1", "Speaker 2", "Speaker 3"],
                         attendees=[("Diane Fox", "diane@acme.com"), ("Raj Patel", "raj@x.com")])
    assert {k: (v.name, v.how) for k, v in names.items()} == {
        "Speaker 1": ("Diane Fox", "introduction"), "Speaker 2": ("Ana Silva", "introduction"),
        "Speaker 3": ("Raj Patel", "addressed")}


def test_unsure_mappings_keep_their_label():
    # two labels claim the same name equally: neither is sure... the first-ranked keeps it only if clearly ahead
    segs = [_seg(0, 2, "I'm Tom.", "Speaker 1"), _seg(3, 5, "I'm Tom.", "Speaker 2"), _seg(6, 8, "And I'm Tom again.", "Speaker 1")]
    names = choose_names(segs, ["Speaker 1", "Speaker 2"])
    assert list(names) == ["Speaker 1"]  # Speaker 2 stays "Speaker 2" rather than a duplicate guess
    # a label with contradicting evidence of equal weight stays unnamed
    segs = [_seg(0, 2, "This is Maria.", "Speaker 1"), _seg(3, 5, "This is Linda.", "Speaker 1")]
    assert choose_names(segs, ["Speaker 1"]) == {}
    # a weak answer ("Much later") to an addressing is not enough on its own
    segs = [_seg(0, 2, "Raj, can you do it?", "You", 0), _seg(2.5, 4, "The budget is fine.", "Speaker 1")]
    assert choose_names(segs, ["Speaker 1"]) == {}
    # last attendee left: only with the user known and exactly one remote speaker unnamed
    segs = [_seg(0, 2, "The budget is fine.", "Speaker 1")]
    att = [("Me Myself", "me@x.com"), ("Raj Patel", "raj@x.com")]
    assert choose_names(segs, ["Speaker 1"], att) == {}
    assert choose_names(segs, ["Speaker 1"], att, me=("Me Myself", "me@x.com"))["Speaker 1"].name == "Raj Patel"


# -- scripted calls, real transcription ------------------------------------------------------------
def test_names_from_self_introductions(intro_meeting, transcribe, encoder):
    path, ref = intro_meeting
    segs = transcribe(path)
    bus, seen = EventBus(), []
    bus.subscribe(SpeakersIdentified, seen.append)
    out = diarize_and_name(path, segs, attendees=[("Linda Park", "linda@acme.com"), ("Thomas Baker", "tom@baker.io")],
                           bus=bus, encoder=encoder)
    expect = {"diane": "Linda Park", "tom": "Thomas Baker", "me": "You"}
    for s, e, who, ch in ref:
        assert _speaker_at(out, s, e, ch) == expect[who], (who, s)
    assert seen and {x[1] for x in seen[0].speakers} == {"Linda Park", "Thomas Baker"}
    assert " ".join(x.text for x in out).split() == " ".join(x.text for x in segs).split()  # no words lost


def test_names_from_addressing(address_meeting, transcribe, encoder):
    path, ref = address_meeting
    out = diarize_and_name(path, transcribe(path), encoder=encoder)
    for s, e, who, ch in ref:
        got = _speaker_at(out, s, e, ch)
        if who == "ana":
            assert got == "Maria"
        elif who == "raj":
            assert got.startswith("Speaker ")  # never addressed: stays a label
        else:
            assert got == "You"


def test_failure_keeps_the_transcript(tmp_path):
    segs = [_seg(0, 2, "hello", "Them")]
    bus, seen = EventBus(), []
    bus.subscribe(SpeakersFailed, seen.append)
    out = diarize_and_name(tmp_path / "missing.wav", segs, bus=bus)
    assert [(s.text, s.speaker) for s in out] == [("hello", "Them")] and out[0] is not segs[0]
    assert seen and seen[0].error


# -- store: profiles, rename, stats, erase ---------------------------------------------------------
def _store_meeting(store, path, segments, title="call"):
    m = store.meetings.add(Meeting(title=title, started_at=datetime.now(timezone.utc), source_file=str(path)))
    store.segments.add_many(m.id, segments)
    return m


def _ref_segments(ref):
    return [Segment(s, e, f"turn {i}", speaker="", channel=-1) for i, (s, e, _who, _ch) in enumerate(ref)]


@pytest.mark.slow
def test_voice_profile_names_the_same_voice_later(kith, der_meetings, meetings_dir, encoder):
    store = kith.store()
    path, _audio, ref = der_meetings["four_voices"]
    ref4 = [(s, e, who, -1) for s, e, who in ref]
    first = diarize_and_name(path, _ref_segments(ref4), store=store, encoder=encoder)
    raj_label = _speaker_at(first, *[(s, e) for s, e, w, _ in ref4 if w == "raj"][0], -1)
    assert raj_label.startswith("Speaker ")
    m1 = _store_meeting(store, path, first)
    raj = store.contacts.add(Contact(name="Raj Patel", emails=["raj@patel.dev"]))
    res = rename_speaker(store, m1.id, raj_label, "Raj Patel", contact_id=raj.id, encoder=encoder)
    assert res.profile_id and P.count(store, raj.id) == 1
    # a second meeting, other words, raj among two other voices
    audio, ref2 = render(turns(["tom", "raj", "diane"], 8, seed=31))
    path2 = meetings_dir / "second.wav"
    write(path2, audio)
    out = diarize_and_name(path2, _ref_segments(ref2), store=store, encoder=encoder)
    for s, e, who, _ in ref2:
        got = _speaker_at(out, s, e, -1)
        assert (got == "Raj Patel") == (who == "raj"), (who, got)


def test_rename_propagates_and_stats(kith, tmp_path):
    store = kith.store()
    segs = [_seg(0, 4, "We should ship.", "Speaker 2"), _seg(4, 5, "Agreed.", "You", 0),
            _seg(5, 9, "Speaker 2 will send it.", "Speaker 2"), _seg(9, 10, "Me too.", "Speaker 21")]
    m = _store_meeting(store, tmp_path / "gone.wav", segs)
    store.notes.add(Note(meeting_id=m.id, author="ai", kind="minutes", body="- Speaker 2 sends the deck; Speaker 21 checks."))
    store.notes.add(Note(meeting_id=m.id, author="user", body="ask Speaker 2 later"))
    a = store.actions.add(ActionItem(meeting_id=m.id, text="Send the deck", owner_text="Speaker 2"))
    ana = store.contacts.add(Contact(name="Ana Silva", emails=["ana@silva.pt"]))
    res = rename_speaker(store, m.id, "Speaker 2", "Ana Silva")  # found as a contact by exact name
    assert (res.segments, res.notes, res.actions, res.contact_id) == (2, 1, 1, ana.id)
    assert res.profile_id is None and "audio" in res.warning  # no recording to learn the voice from
    assert [s.speaker for s in store.segments.for_meeting(m.id)] == ["Ana Silva", "You", "Ana Silva", "Speaker 21"]
    notes = {n.author: n.body for n in store.notes.for_meeting(m.id)}
    assert notes["ai"] == "- Ana Silva sends the deck; Speaker 21 checks." and notes["user"] == "ask Speaker 2 later"
    got = store.actions.get(a.id)
    assert (got.owner_text, got.owner_contact_id) == ("Ana Silva", ana.id)
    with pytest.raises(KithError, match="no speaker"):
        rename_speaker(store, m.id, "Speaker 9", "X")
    stats = speaker_stats(store, m.id)
    assert [(s.speaker, s.seconds) for s in stats] == [("Ana Silva", 8.0), ("You", 1.0), ("Speaker 21", 1.0)]
    assert stats[0].share == pytest.approx(0.8)


def test_cli_list_and_rename(kith, tmp_path, capsys):
    from app.speakers.cli import register

    store = kith.store()
    m = _store_meeting(store, tmp_path / "x.wav", [_seg(0, 65, "Long talk.", "Speaker 1"), _seg(65, 70, "Ok.", "You", 0)])
    ap = argparse.ArgumentParser()
    register(ap.add_subparsers())
    args = ap.parse_args(["speakers", str(m.id), "--json"])
    assert args.func(kith, args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["speaker"] == "Speaker 1" and data[0]["seconds"] == 65.0
    args = ap.parse_args(["speakers", str(m.id)])
    args.func(kith, args)
    assert "1:05" in capsys.readouterr().out
    args = ap.parse_args(["speakers", "rename", str(m.id), "Speaker 1", "Tom Baker"])
    assert args.func(kith, args) == 0
    assert "renamed" in capsys.readouterr().out
    assert store.segments.for_meeting(m.id)[0].speaker == "Tom Baker"
    with pytest.raises(KithError):
        args = ap.parse_args(["speakers", "rename", str(m.id), "Speaker 1"])
        args.func(kith, args)


def test_erasing_a_person_removes_their_voice_profile(kith):
    import numpy as np

    from app.store.rights import erase_person

    store = kith.store()
    keep = store.contacts.add(Contact(name="Keep Me", emails=["keep@x.com"]))
    gone = store.contacts.add(Contact(name="Erase Me", emails=["erase@x.com"]))
    v = np.ones(256, np.float32) / 16
    P.add_profile(store, gone.id, v)
    P.add_profile(store, gone.id, v)
    P.add_profile(store, keep.id, v)
    assert P.count(store, gone.id) == 2
    erase_person(store, gone.id)
    assert P.count(store, gone.id) == 0 and P.count(store, keep.id) == 1
    assert set(P.profiles(store)) == {keep.id}


def test_demo_meeting_lines_get_the_right_names(transcribe, encoder):
    """The bundled demo call (resources/samples): two customer voices share channel 1; Tom introduces
    himself, Maria's introduction is garbled by ASR but she answers "Maria, can you …"."""
    import tomllib
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "resources" / "samples"
    meta = tomllib.loads((sample / "demo_sales_call.toml").read_text())
    path = sample / meta["audio"]
    out = diarize_and_name(path, transcribe(path), attendees=[(a["name"], a["email"]) for a in meta["attendees"]],
                           encoder=encoder)
    lines = "\n".join(f"{s.start:6.1f} {s.speaker:12} {s.text}" for s in out)
    assert {s.speaker for s in out} == {"You", "Maria Lopez", "Tom Becker"}, lines

    def who(phrase):
        hits = {s.speaker for s in out if phrase in s.text.lower()}
        assert len(hits) == 1, (phrase, hits, lines)
        return hits.pop()

    assert who("run operations") == "Tom Becker"
    assert who("fuel invoices") == "Tom Becker"
    assert who("pilot running") == "Tom Becker"
    assert who("concern is security") == "Maria Lopez"
    assert who("signs off") == "Maria Lopez"
    assert who("security questionnaire") == "You"


def test_in_memory_recording_names_like_the_file(intro_meeting, transcribe, encoder):
    """The app's live meetings hand the decrypted recording over as (frames × channels, rate) —
    here at 48 kHz, as a sound card delivers it — and get the same names as from the file."""
    import numpy as np

    from app.speakers.diarize import load_channels

    path, ref = intro_meeting
    segs = transcribe(path)
    chans = load_channels(path)
    frames = np.stack(chans, axis=1) if len(chans) == 2 else chans[0]
    x48 = np.stack([np.interp(np.arange(len(frames) * 3) / 3, np.arange(len(frames)), frames[:, i])
                    for i in range(frames.shape[1])], axis=1) if frames.ndim == 2 else None
    attendees = [("Linda Park", "linda@acme.com"), ("Thomas Baker", "tom@baker.io")]
    out = diarize_and_name((x48, 48000), segs, attendees=attendees, encoder=encoder)
    expect = {"diane": "Linda Park", "tom": "Thomas Baker", "me": "You"}
    for s, e, who, ch in ref:
        assert _speaker_at(out, s, e, ch) == expect[who], (who, s)


def test_rename_learns_the_voice_from_an_encrypted_recording(kith, der_meetings, encoder, tmp_path):
    """A meeting recorded live has no source file, only its encrypted .krec: renaming a speaker
    there still stores the person's voice (decrypted in memory, never written out)."""
    import numpy as np

    from app.capture.container import RecordingWriter
    from app.store.keys import derive_subkey

    store = kith.store()
    _path, audio, ref = der_meetings["four_voices"]
    w = RecordingWriter(kith.paths.recordings, derive_subkey(store.master_key, "recordings"), 16000)
    frames = np.stack([np.zeros_like(audio), audio], axis=1).astype(np.float32)
    for a in range(0, len(frames), 16000):
        w.write_audio(frames[a:a + 16000], sync=False)
    w.close()
    now = datetime.now(timezone.utc).isoformat()
    with store.transaction():
        rec_id = store.execute("INSERT INTO recordings (path, channels, sample_rate, duration, state, meta, created_at, "
                               "updated_at) VALUES (?,?,?,?,?,?,?,?)",
                               (str(w.path), 2, 16000, len(audio) / 16000, "finished", "{}", now, now)).lastrowid
    m = store.meetings.add(Meeting(title="live call", started_at=datetime.now(timezone.utc), recording_id=rec_id))
    segs = [Segment(s, e, f"turn {i}", speaker="Speaker 3" if who == "raj" else "Speaker 1", channel=1)
            for i, (s, e, who) in enumerate(ref)]
    store.segments.add_many(m.id, segs)
    raj = store.contacts.add(Contact(name="Raj Patel", emails=["raj@patel.dev"]))
    res = rename_speaker(store, m.id, "Speaker 3", "Raj Patel", contact_id=raj.id, encoder=encoder)
    assert res.profile_id and not res.warning and P.count(store, raj.id) == 1


# -- evidence from the meeting itself: greetings, thanks, exclusion, the attendees left ------------
GUESTS = [("Dana Kim", "dana@northwind.io"), ("Leo Park", "leo@northwind.io")]
ME = ("Sam Reed", "sam@kith.test")


def _script(lines, channel=1):
    out, t = [], 0.0
    for who, text in lines:
        ch = 0 if who == "You" else channel
        out.append(_seg(t, t + 3, text, who, ch))
        t += 3.5
    return out


def _named(segs, labels, **kw):
    return {k: (v.name, v.how) for k, v in choose_names(segs, labels, **kw).items()}


def test_greeted_by_name_and_answering():
    segs = _script([("You", "Hi Dana, thanks for joining."), ("Speaker 1", "Hi Sam, glad to be here."),
                    ("You", "And welcome, Leo."), ("Speaker 2", "Thanks, good to see you."),
                    ("Speaker 1", "Our budget is approved for the pilot."), ("Speaker 2", "Legal still reviews the terms.")])
    assert _named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS, me=ME) == {
        "Speaker 1": ("Dana Kim", "addressed"), "Speaker 2": ("Leo Park", "addressed")}
    # without the user's identity there is no "attendee left" rule, but both greetings still hold
    assert set(_named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS)) == {"Speaker 1", "Speaker 2"}


def test_greeting_both_at_once_names_nobody():
    segs = _script([("You", "Hi Dana and Leo, thanks for joining."), ("Speaker 1", "Hello, thanks for having us."),
                    ("Speaker 2", "The budget is approved.")])
    assert _named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS) == {}


def test_thanks_names_the_previous_speaker():
    segs = _script([("Speaker 1", "Hi Dana, thanks for joining. I wanted to talk about the renewal."),
                    ("Speaker 2", "Thanks Leo. Our main blocker is the security review."),
                    ("Speaker 1", "Understood, I will send the answers.")], channel=-1)
    # a mono file, no calendar: the names as spoken
    assert _named(segs, ["Speaker 1", "Speaker 2"]) == {"Speaker 1": ("Leo", "addressed"), "Speaker 2": ("Dana", "addressed")}
    # a mono file where the user is Leo: their own voice is "You"
    got = _named(segs, ["Speaker 1", "Speaker 2"], attendees=[GUESTS[0]], me=("Leo Park", "leo@northwind.io"),
                 user_among_labels=True)
    assert got == {"Speaker 1": ("You", "addressed"), "Speaker 2": ("Dana Kim", "addressed")}
    # one voice on a mono file and no attendees: the user's default name is no evidence
    one = _script([("Speaker 1", "The budget is approved.")], channel=-1)
    assert _named(one, ["Speaker 1"], me=("You", ""), user_among_labels=True) == {}
    assert _named(one, ["Speaker 1"], me=("Leo Park", ""), user_among_labels=True) == {}


def test_exclusion_and_the_attendees_left():
    # nobody introduces themself or is addressed; Speaker 2 names Dana, so Speaker 2 is Leo and Speaker 1 is Dana
    segs = _script([("You", "Let us go through the numbers."), ("Speaker 1", "The budget is approved for the pilot."),
                    ("Speaker 2", "As Dana said, the pilot can start in May."), ("Speaker 1", "Legal still reviews the terms.")])
    assert _named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS, me=ME) == {
        "Speaker 2": ("Leo Park", "exclusion"), "Speaker 1": ("Dana Kim", "attendee")}
    # the same without knowing who the user is: the user might be one of the voices, so no names
    assert _named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS) == {}
    # a third, uninvited voice: labels and attendees no longer line up, nobody is forced
    segs3 = segs + _script([("Speaker 3", "I joined late, sorry.")])
    assert _named(segs3, ["Speaker 1", "Speaker 2", "Speaker 3"], attendees=GUESTS, me=ME) == {}


def test_a_speaker_who_names_someone_is_not_them():
    # the addressing would make Speaker 1 "Dana", but Speaker 1 also talks about Dana in the third person
    segs = _script([("You", "Dana, can you share the plan?"), ("Speaker 1", "Sure. I will ask Dana to share it."),
                    ("Speaker 2", "Yes, I have it here.")])
    got = _named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS, me=ME)
    assert got.get("Speaker 1", ("", ""))[0] != "Dana Kim"


def test_the_issue_meeting_names_both_guests():
    """The host greets each guest, a guest thanks the host by name, one guest mentions the other."""
    segs = _script([
        ("You", "Good morning. Hi Dana, good to have you."), ("Speaker 1", "Good morning, thanks Sam."),
        ("You", "And hello Leo."), ("Speaker 2", "Hi. Thanks for setting this up, Sam."),
        ("Speaker 2", "Our main blocker is the security review."),
        ("Speaker 1", "Leo is right, the security review comes first."),
        ("You", "Then I will send the questionnaire today."),
    ])
    assert _named(segs, ["Speaker 1", "Speaker 2"], attendees=GUESTS, me=ME) == {
        "Speaker 1": ("Dana Kim", "addressed"), "Speaker 2": ("Leo Park", "addressed")}


def test_guests_named_from_greetings_and_mentions_on_a_call(greeting_meeting, session_paths, encoder):
    """A two-channel call during an event inviting Dana and Leo, with the user's name known:
    nobody introduces themself, but the host greets each guest by name, a guest thanks the host,
    and one guest names the other — both far voices get their names, every word kept."""
    from app.core.config import TranscribeSettings
    from app.transcribe.context import hotwords
    from app.transcribe.engine import WhisperCache
    from app.transcribe.file import transcribe_file

    path, ref = greeting_meeting
    me = ("Sam Reed", "sam@kith.test")
    names = hotwords([n for n, _ in GUESTS], [me[0]])  # what the pipeline tells the recogniser
    segs = list(transcribe_file(path, session_paths, TranscribeSettings(),
                                model=WhisperCache(session_paths).get("tiny.en", 2), hotwords=names).segments)
    out = diarize_and_name(path, segs, attendees=GUESTS, encoder=encoder, me=me)
    lines = "\n".join(f"{s.start:6.1f} {s.speaker:10} {s.text}" for s in out)
    expect = {"diane": "Dana Kim", "raj": "Leo Park", "me": "You"}
    for s, e, who, ch in ref:
        assert _speaker_at(out, s, e, ch) == expect[who], (who, s, print(lines))
    assert " ".join(x.text for x in out).split() == " ".join(x.text for x in segs).split()
