"""Fuzzing what strangers' files can hold: transcripts (WebVTT, SRT, plain text, JSON),
.ics feeds and audio headers. Each input ends in a clear KithError or a valid result — never
another exception (a traceback for the user) — and on error nothing reaches the store (the
importers and decoders run before anything is written; the CLI cases check the store)."""
from __future__ import annotations

import json
import math
import struct
from datetime import datetime, timedelta, timezone

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.calendar import ics
from app.cli import main
from app.core.errors import KithError
from app.meetings.importers import MAX_LINE_CHARS, import_transcript
from app.transcribe.audio import iter_blocks, probe

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


def _valid_segments(segs) -> None:
    assert segs, "a valid result has lines"
    for i, s in enumerate(segs, 1):
        assert s.index == i
        assert isinstance(s.text, str) and s.text.strip() and len(s.text) <= MAX_LINE_CHARS
        assert isinstance(s.speaker, str)
        assert math.isfinite(s.start) and math.isfinite(s.end) and 0 <= s.start <= s.end


def _import(path):
    try:
        segs, meta = import_transcript(path)
    except KithError as e:
        assert e.message and "\n" not in e.message
        return None
    _valid_segments(segs)
    assert set(meta) <= {"title", "language"} and all(isinstance(v, str) for v in meta.values())
    return segs


# -- transcripts --------------------------------------------------------------------------
_ts = st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 999))
_names = st.sampled_from(["Ana", "Bruno Zebrowski", "", "You", "x" * 60, "<b>", "\x1b[2J"])


@st.composite
def cue_files(draw):
    sep = draw(st.sampled_from([".", ","]))
    blocks = ["WEBVTT"] if sep == "." and draw(st.booleans()) else []
    for i in range(draw(st.integers(0, 8))):
        a, b = draw(_ts), draw(_ts)
        t = lambda x: f"{x[0]:02d}:{x[1]:02d}:{x[2]:02d}{sep}{x[3]:03d}"  # noqa: E731
        speaker = draw(_names)
        text = draw(st.text(min_size=0, max_size=200))
        voice = f"<v {speaker}>" if speaker and sep == "." else (f"{speaker}: " if speaker else "")
        head = f"{i + 1}\n" if sep == "," else ""
        blocks.append(f"{head}{t(a)} --> {t(b)}\n{voice}{text}")
    if draw(st.booleans()):
        blocks.append(draw(st.text(max_size=300)))
    return "\n\n".join(blocks)


@FUZZ
@given(text=st.one_of(cue_files(), st.text(max_size=2000),
                      st.lists(st.tuples(_names, st.text(max_size=300)), max_size=10)
                      .map(lambda rows: "\n".join(f"{n}: {t}" for n, t in rows))))
@example(text="Ana: " + "Sentence one. " * 600)
@example(text="00:00:05.000 --> 00:00:01.000\nBackwards")
def test_fuzz_text_transcripts(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("t")
    for suffix in (".vtt", ".srt", ".txt"):
        p = d / f"x{suffix}"
        p.write_text(text, encoding="utf-8")
        _import(p)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30)
_segment = st.fixed_dictionaries({}, optional={
    "start": _json | st.floats(0, 1e5), "end": _json | st.floats(0, 1e5), "text": _json | st.text(max_size=100),
    "speaker": _json | _names, "channel": _json | st.integers(-2, 3), "words": _json})
_doc = st.one_of(_json, st.lists(_segment, max_size=5),
                 st.fixed_dictionaries({"segments": st.lists(_segment, max_size=5)},
                                       optional={"title": _json, "language": _json}))


@FUZZ
@given(doc=_doc, nest=st.integers(0, 3000))
@example(doc={"segments": [{"start": 0, "end": 1, "text": "hi", "words": [{"start": 0, "end": 1, "text": "hi"}]}]},
         nest=0)
def test_fuzz_json_transcripts(tmp_path_factory, doc, nest):
    p = tmp_path_factory.mktemp("j") / "x.json"
    body = json.dumps(doc, allow_nan=True)
    p.write_text("[" * nest + body + "]" * nest)
    _import(p)


def test_cli_nothing_stored_for_fuzzed_bad_json(kith, tmp_path, capsys):
    """The CLI path for a spread of invalid documents: an error line and an empty store."""
    bad = ['{"segments": [{"start": 1e400, "end": 2, "text": "x"}]}', '{"segments": [{"start": 0, "end": 1}]}',
           '{"segments": [{"start": 0, "end": 1, "text": 5}]}', '[[[]]]', "null", '{"segments": {}}',
           '{"segments": [{"start": 0, "end": 1, "text": "x", "words": [1]}]}', "\ufeff{", ""]
    for i, text in enumerate(bad):
        f = tmp_path / f"b{i}.json"
        f.write_text(text)
        assert main(["import", str(f)]) == 1, text
        err = capsys.readouterr().err
        assert err.startswith("kith: error:") and "Traceback" not in err
    kith.close()
    assert kith.store().meetings.list() == []


# -- calendar feeds -----------------------------------------------------------------------
NOW = datetime(2026, 10, 22, 12, 0, tzinfo=timezone.utc)
_rule = st.builds(
    lambda freq, interval, end, by: ";".join(x for x in [f"FREQ={freq}", interval, end, by] if x),
    st.sampled_from(["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "NEVER", ""]),
    st.sampled_from(["", "INTERVAL=1", "INTERVAL=7", "INTERVAL=0", "INTERVAL=-1", "INTERVAL=x"]),
    st.sampled_from(["", "COUNT=3", "COUNT=100000", "UNTIL=20261231T000000Z", "UNTIL=19700101", "COUNT=-1"]),
    st.sampled_from(["", "BYDAY=MO,TU", "BYHOUR=25", "BYMONTHDAY=31", "BYSETPOS=1;BYDAY=MO", "BYSECOND=0,30"]))


@st.composite
def feeds(draw):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN"]
    for i in range(draw(st.integers(0, 4))):
        start = NOW + timedelta(seconds=draw(st.integers(-10**9, 10**8)))
        lines += ["BEGIN:VEVENT", f"UID:e{i}", f"DTSTAMP:{NOW:%Y%m%dT%H%M%SZ}",
                  f"DTSTART:{start:%Y%m%dT%H%M%SZ}" if draw(st.booleans()) else f"DTSTART;VALUE=DATE:{start:%Y%m%d}"]
        if draw(st.booleans()):
            lines.append(f"RRULE:{draw(_rule)}")
        if draw(st.booleans()):
            lines.append(draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)))
        lines += [f"SUMMARY:{draw(st.text(max_size=30))}".replace("\n", " ").replace("\r", " "), "END:VEVENT"]
    if draw(st.booleans()):
        lines.append("END:VCALENDAR")
    return "\r\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(feed=feeds())
def test_fuzz_ics_feeds_are_bounded(feed):
    warnings: list[str] = []
    try:
        _, events = ics.parse(feed, ics.Window.around(NOW), warnings=warnings, per_event=200, per_feed=500,
                              seconds=0.5)
    except KithError as e:
        assert e.message
        return
    assert len(events) <= 500
    for e in events:
        assert e.start <= e.end and e.external_id


# -- audio headers -------------------------------------------------------------------------
def _wav(channels, rate, bits, fmt_tag, declared, payload) -> bytes:
    block = max(1, channels * bits // 8)
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    return (b"RIFF" + struct.pack("<I", (36 + declared) & 0xFFFFFFFF) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", declared & 0xFFFFFFFF) + payload)


_headers = st.one_of(
    st.builds(_wav, st.integers(0, 9), st.sampled_from([0, 1, 8000, 16000, 44100, 10**9]),
              st.sampled_from([0, 1, 8, 16, 24, 32, 33]), st.sampled_from([1, 3, 6, 7, 0xFFFE, 0]),
              st.sampled_from([0, 10, 32000, 2**32 - 1]), st.binary(max_size=4000)),
    st.builds(lambda magic, rest: magic + rest,
              st.sampled_from([b"fLaC", b"ID3\x03\x00\x00\x00\x00\x00\x00", b"OggS", b"\xff\xfb", b"\x1aE\xdf\xa3",
                               b"\x00\x00\x00\x18ftypmp42", b"RIFF\x00\x00\x00\x00WAVE", b""]),
              st.binary(max_size=4000)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_headers, suffix=st.sampled_from([".wav", ".mp3", ".flac", ".ogg", ".m4a"]))
def test_fuzz_audio_headers(tmp_path_factory, data, suffix):
    p = tmp_path_factory.mktemp("a") / f"x{suffix}"
    p.write_bytes(data)
    try:
        info = probe(p)
        blocks = list(iter_blocks(p, 5.0))
    except KithError as e:
        assert e.message
        return
    assert info.channels in (1, 2)
    assert blocks, "a file that decodes yields audio (an empty decode is an error)"
    for b in blocks:
        assert b.dtype == np.float32 and b.ndim == 2 and b.shape[0] in (1, 2) and np.isfinite(b).all()
