"""`kith devices`, `kith record`, `kith recordings …` end to end (real Pulse, real store key)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from app.cli import main

from .conftest import write_at_rate


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.audio
def test_devices_json(pulse, capsys):
    rc, out, _err = _run(capsys, "devices", "--json")
    assert rc == 0
    data = json.loads(out)
    names = {d["name"]: d for d in data["devices"]}
    assert names[pulse.mic_source]["kind"] == "monitor" and names[pulse.mic_source]["host_api"] == "PulseAudio"
    assert data["default_system"].startswith("pulse:")
    rc, out, _err = _run(capsys, "devices")
    assert rc == 0 and pulse.call_source in out and "system (default)" in out


def test_no_input_devices_is_a_clear_error(monkeypatch, tmp_path, capsys):
    import os

    from app.capture import devices as dv

    before = os.environ.get("PULSE_SERVER")
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-such-server")
    if dv.list_devices():
        pytest.skip("this machine has hardware input devices")
    rc, _out, err = _run(capsys, "devices")
    assert rc == 1 and "no audio input devices found" in err and "pactl info" in err
    rc, _out, err = _run(capsys, "record", "--seconds", "1", "--no-live")
    assert rc == 1 and "no audio input devices found" in err
    rc, _out, err = _run(capsys, "record", "--mic", "nonexistent", "--seconds", "1")
    assert rc == 1 and "no audio input devices found" in err
    if before is None:
        monkeypatch.delenv("PULSE_SERVER")
    else:
        monkeypatch.setenv("PULSE_SERVER", before)
    dv.list_devices()  # PortAudio back on the real server for the next tests


@pytest.mark.audio
def test_record_list_export(pulse, tmp_path, capsys):
    import soundfile as sf

    rc, out, err = _run(capsys, "record", "--mic", pulse.mic_source, "--system", pulse.call_source,
                        "--seconds", "1.5", "--no-live")
    assert rc == 0, err
    rec_id = re.search(r"saved recording (\S+)", out).group(1)
    assert f"{rec_id}.krec" in out
    rc, out, _ = _run(capsys, "recordings", "list", "--json")
    (item,) = json.loads(out)
    assert item["id"] == rec_id and item["state"] == "finished" and 1.3 < item["seconds"] < 2.5
    dest = tmp_path / "copy.flac"
    rc, out, err = _run(capsys, "recordings", "export", rec_id[:12], "--format", "flac", "-o", str(dest))
    assert rc == 0, err
    y, sr = sf.read(str(dest))
    assert sr == 16000 and y.shape[1] == 2 and abs(len(y) / sr - item["seconds"]) < 0.01
    rc, _out, err = _run(capsys, "recordings", "export", "nope", "-o", str(tmp_path / "x.wav"))
    assert rc == 4 and "no recording" in err


def test_recover_command_finalizes_a_crashed_recording(kith, capsys):
    from app.capture.cli import recordings_key
    from app.capture.container import RecordingReader, RecordingWriter

    key = recordings_key(kith)
    w = RecordingWriter(kith.paths.ensure().recordings, key, 16000, 2)
    w.write_audio(np.zeros((16000, 2), np.float32))
    w._f.close()  # the process "died" here: no END record
    kith.close()
    rc, out, _ = _run(capsys, "recordings", "list")
    assert "unfinished" in out
    rc, out, _ = _run(capsys, "recordings", "recover")
    assert rc == 0 and f"{w.id}: recovered" in out
    assert RecordingReader(w.path, key).read_all().shape == (16000, 2)


@pytest.mark.audio
@pytest.mark.slow
def test_record_with_live_transcript(pulse, tmp_path, capsys, jfk_wav):
    """The live transcript of the call channel appears in the terminal while recording."""
    pytest.importorskip("app.transcribe.streaming")
    import subprocess
    import threading

    import soundfile as sf

    x, sr = sf.read(str(jfk_wav), dtype="float32")
    wav = write_at_rate(x, sr, pulse.call_rate, tmp_path / "jfk44.wav")
    timer = threading.Timer(2.5, lambda: subprocess.run(["paplay", f"--device={pulse.call_sink}", str(wav)]))
    timer.start()
    try:
        rc, out, err = _run(capsys, "record", "--no-mic", "--system", pulse.call_source, "--seconds", "15")
    finally:
        timer.cancel()
    assert rc == 0, err
    text = out.lower()
    assert "them:" in text and "country" in text, out
