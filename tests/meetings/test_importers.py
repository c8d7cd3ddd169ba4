import json

import pytest

from app.core.errors import KithError
from app.meetings.importers import import_transcript

ZOOM_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.500
Dana Reyes: Thanks for joining, everyone.

2
00:00:05.000 --> 00:00:09.250
Omar Haddad: Happy to be here. Let's talk pricing

3
00:00:09.300 --> 00:00:11.000
Omar Haddad: for the pilot.
"""

TEAMS_VTT = """WEBVTT

0b2c-1
00:00:00.000 --> 00:00:03.120
<v Priya Nair>Can you send the contract by Friday?</v>

0b2c-2
00:00:03.500 --> 00:00:05.000
<v Sam Lee>Yes, I will.</v>
"""

SRT = """1
00:00:01,000 --> 00:00:03,000
Alice: Hello there.

2
00:00:03,500 --> 00:00:06,000
Bob: Hi Alice, good to see you.
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_zoom_vtt_speakers_and_merge(tmp_path):
    segs, _ = import_transcript(write(tmp_path, "zoom.vtt", ZOOM_VTT))
    assert [s.speaker for s in segs] == ["Dana Reyes", "Omar Haddad"]
    assert segs[1].text == "Happy to be here. Let's talk pricing for the pilot."
    assert segs[1].start == 5.0 and segs[1].end == 11.0
    assert [s.index for s in segs] == [1, 2]


def test_teams_voice_tags(tmp_path):
    segs, _ = import_transcript(write(tmp_path, "teams.vtt", TEAMS_VTT))
    assert [(s.speaker, s.text) for s in segs] == [("Priya Nair", "Can you send the contract by Friday?"), ("Sam Lee", "Yes, I will.")]


def test_srt(tmp_path):
    segs, _ = import_transcript(write(tmp_path, "call.srt", SRT))
    assert [s.speaker for s in segs] == ["Alice", "Bob"]
    assert segs[1].start == 3.5


def test_speaker_lines_with_and_without_stamps(tmp_path):
    text = "[00:00:05] Ana: I'll send the deck.\nmore words on the same turn\nBen: Great, thanks.\n"
    segs, _ = import_transcript(write(tmp_path, "notes.txt", text))
    assert [s.speaker for s in segs] == ["Ana", "Ben"]
    assert segs[0].start == 5.0 and "same turn" in segs[0].text
    assert segs[1].start >= segs[0].end


def test_kith_json_roundtrip(tmp_path):
    data = {"title": "Sync", "segments": [{"start": 0, "end": 2, "text": "Hi", "speaker": "You", "channel": 0}]}
    segs, meta = import_transcript(write(tmp_path, "t.json", json.dumps(data)))
    assert segs[0].speaker == "You" and segs[0].channel == 0 and meta["title"] == "Sync"


@pytest.mark.parametrize("name,body", [("empty.vtt", ""), ("junk.json", "{not json"), ("bad.json", '{"segments": [{"text": 1}]}'), ("nothing.txt", "\n\n")])
def test_bad_transcripts_give_clear_errors(tmp_path, name, body):
    with pytest.raises(KithError):
        import_transcript(write(tmp_path, name, body))


def test_binary_file_is_rejected(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(KithError, match="UTF-8"):
        import_transcript(p)
