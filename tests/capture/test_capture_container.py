"""The encrypted .krec container: round trip, tampering, wrong key, truncation, recovery, export."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from app.capture import container as c
from app.core.errors import KithError


def _audio(seconds: float, rate: int = 16000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-0.5, 0.5, size=(int(seconds * rate), 2))).astype(np.float32)


def _write(tmp_path, key, x, close=True, chunk=16000):
    w = c.RecordingWriter(tmp_path, key, 16000, 2, meta={"mic": "m", "system": "s"})
    for i in range(0, len(x), chunk):
        w.write_audio(x[i:i + chunk])
    if close:
        w.close()
    return w


def _digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns


def test_round_trip_with_meta_marks_and_end(tmp_path):
    key = os.urandom(32)
    x = _audio(3.5)
    w = c.RecordingWriter(tmp_path, key, 16000, 2, meta={"mic": "Built-in"})
    w.write_audio(x[:16000])
    w.mark("pause", at=1.0)
    w.mark("resume", at=3.0)
    w.write_audio(x[16000:])
    w.close()
    assert w.path.parent == tmp_path and w.path.suffix == ".krec"
    assert oct(w.path.stat().st_mode & 0o777) == "0o600"
    r = c.RecordingReader(w.path, key)
    y = r.read_all()
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 1 / 32768 + 1e-7  # int16 storage
    assert r.meta == {"mic": "Built-in"}
    assert [m["kind"] for m in r.marks] == ["pause", "resume"] and r.marks[0]["frame"] == 16000
    assert r.finished and r.end["frames"] == len(x) and r.problems == []
    i16 = np.concatenate(list(c.RecordingReader(w.path, key).blocks(dtype="int16")))
    assert i16.dtype == np.int16 and i16.shape == x.shape
    info = c.info(w.path)
    assert info.state == "finished" and info.frames == len(x) and info.seconds == pytest.approx(3.5)


def test_nothing_in_clear(tmp_path):
    """A loud constant signal must not appear in the file bytes (it is encrypted)."""
    key = os.urandom(32)
    x = np.full((16000, 2), 0.25, dtype=np.float32)
    w = _write(tmp_path, key, x)
    pcm = c.to_int16(x[:512]).tobytes()
    assert pcm[:64] not in w.path.read_bytes()


def test_tampered_byte_reports_that_chunk_and_decodes_the_rest(tmp_path):
    key = os.urandom(32)
    x = _audio(5)
    w = _write(tmp_path, key, x)
    data = bytearray(w.path.read_bytes())
    # find the third audio record (index 3: META is 0) and flip one byte in its ciphertext
    pos, index = c.HEADER_SIZE, 0
    while index < 3:
        _m, _t, _n, length = c._REC.unpack(data[pos:pos + c._REC.size])
        pos += c._REC.size + length
        index += 1
    data[pos + c._REC.size + 1000] ^= 0x01
    w.path.write_bytes(bytes(data))
    r = c.RecordingReader(w.path, key)
    y = r.read_all()
    assert [p.index for p in r.problems] == [3] and "tampered" in r.problems[0].message
    assert y.shape == x.shape  # the damaged second stays on the timeline as silence
    assert np.all(y[32000:48000] == 0)
    for s in (slice(0, 32000), slice(48000, 80000)):
        assert np.max(np.abs(y[s] - x[s])) <= 1 / 32768 + 1e-7
    assert r.finished


def test_reordered_or_dropped_chunks_are_detected(tmp_path):
    key = os.urandom(32)
    x = _audio(4)
    w = _write(tmp_path, key, x)
    data = w.path.read_bytes()
    recs, pos = [], c.HEADER_SIZE
    while pos < len(data):
        _m, _t, _n, length = c._REC.unpack(data[pos:pos + c._REC.size])
        recs.append(data[pos:pos + c._REC.size + length])
        pos += c._REC.size + length
    swapped = data[:c.HEADER_SIZE] + recs[0] + recs[2] + recs[1] + b"".join(recs[3:])
    w.path.write_bytes(swapped)
    r = c.RecordingReader(w.path, key)
    r.read_all()
    assert {p.index for p in r.problems} == {1, 2}


def test_wrong_key_is_a_clear_error_and_changes_nothing(tmp_path):
    key = os.urandom(32)
    finished = _write(tmp_path, key, _audio(2)).path
    unfinished = _write(tmp_path, key, _audio(2), close=False)
    unfinished._f.close()
    before = {p: _digest(p) for p in (finished, unfinished.path)}
    wrong = os.urandom(32)
    with pytest.raises(KithError, match="wrong key"):
        c.RecordingReader(finished, wrong)
    with pytest.raises(KithError, match="wrong key"):
        c.export_plain(finished, wrong, tmp_path / "out.wav")
    results = c.recover(tmp_path, wrong)
    assert [r.action for r in results] == ["error"] and "wrong key" in results[0].message
    assert {p: _digest(p) for p in before} == before
    assert not (tmp_path / "out.wav").exists()


def test_recover_truncates_torn_tail_and_finalizes(tmp_path):
    key = os.urandom(32)
    x = _audio(4)
    w = _write(tmp_path, key, x, close=False)
    w._f.write(c._REC.pack(c.REC_MAGIC, c.AUDIO, 16000, 64016) + os.urandom(3000))  # torn: half a record
    w._f.close()
    assert c.info(w.path).state == "unfinished"
    assert c.find_unfinished(tmp_path) == [w.path]
    r = c.RecordingReader(w.path, key)
    assert len(r.read_all()) == len(x) and not r.finished and "torn" in r.problems[-1].message
    (res,) = c.recover(tmp_path, key)
    assert res.action == "recovered" and res.frames == len(x) and res.truncated_bytes == c._REC.size + 3000
    assert res.seconds == pytest.approx(4.0)
    r = c.RecordingReader(w.path, key)
    y = r.read_all()
    assert r.finished and r.end["state"] == "recovered" and r.problems == []
    assert np.max(np.abs(y - x)) <= 1 / 32768 + 1e-7
    assert c.recover(tmp_path, key) == []  # nothing left to do


def test_recover_leaves_a_file_being_written_alone(tmp_path):
    key = os.urandom(32)
    w = _write(tmp_path, key, _audio(1), close=False)
    (res,) = c.recover([w.path], key)
    assert res.action == "skipped_locked"
    w.write_audio(_audio(1))
    w.close()
    assert c.RecordingReader(w.path, key).read_all().shape == (32000, 2)


def test_not_a_recording(tmp_path):
    p = tmp_path / "x.krec"
    p.write_bytes(b"RIFF" + os.urandom(100))
    with pytest.raises(KithError, match="not a Kith recording"):
        c.RecordingReader(p, os.urandom(32))
    with pytest.raises(KithError, match="32 bytes"):
        c.RecordingWriter(tmp_path, b"short", 16000)


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_export_plain(tmp_path, fmt):
    import soundfile as sf

    key = os.urandom(32)
    x = _audio(2.5)
    w = _write(tmp_path / "rec", key, x)
    out = c.export_plain(w.path, key, tmp_path / f"out.{fmt}", format=fmt)
    y, sr = sf.read(str(out), dtype="float32")
    assert sr == 16000 and y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 1 / 32768 + 1e-7
    with pytest.raises(KithError, match="already exists"):
        c.export_plain(w.path, key, out, format=fmt)
    with pytest.raises(KithError, match="unknown export format"):
        c.export_plain(w.path, key, tmp_path / "o.mp3", format="mp3")
    assert not list(tmp_path.glob(".*part"))
