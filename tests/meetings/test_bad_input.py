"""Bad input at the command line: one `kith: error:` line (plus a hint), a non-zero exit, no
traceback and nothing stored — for hostile JSON transcripts, folders where files belong,
unreadable notes, bad output paths (refused before any transcription), undecodable audio,
a full disk, and settings/database paths that are folders. Long lines are split so a chunk fits."""
from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from app.meetings.importers import MAX_LINE_CHARS, import_transcript

ROOT = Path(__file__).resolve().parents[2]
JFK = ROOT / "tests" / "data" / "jfk.wav"
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana>Hello there.\n"

BAD_JSON = {
    "nested": "[" * 200_000 + "]" * 200_000,
    "title_object": '{"title": {"a": 1}, "segments": [{"start": 0, "end": 1, "text": "hi"}]}',
    "nan_start": '{"segments": [{"start": NaN, "end": 1, "text": "hi"}]}',
    "infinity": '{"segments": [{"start": 0, "end": Infinity, "text": "hi"}]}',
    "bare_string": '"hello"',
    "bare_number": "42",
    "int_segments": '{"segments": [1, 2, 3]}',
    "language_list": '{"language": ["en", "de"], "segments": [{"start": 0, "end": 1, "text": "hi"}]}',
    "string_time": '{"segments": [{"start": "0", "end": 1, "text": "hi"}]}',
    "ends_before_start": '{"segments": [{"start": 5, "end": 1, "text": "hi"}]}',
    "no_segments": '{"title": "x"}',
    "truncated": '{"segments": [{"start": 0,',
}


def _one_error(err: str) -> None:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("kith: ") or ln.startswith("kith: error:")]
    errors = [ln for ln in lines if ln.startswith("kith: error:")]
    assert len(errors) == 1, err
    extra = [ln for ln in lines if not ln.startswith("kith: error:")]
    assert all(ln.lstrip().startswith("→") for ln in extra), err  # only the hint follows


def _no_meetings(kith) -> None:
    kith.close()
    assert kith.store().meetings.list() == []


@pytest.mark.parametrize("name", sorted(BAD_JSON))
def test_hostile_json_transcripts_are_clear_errors(kith, tmp_path, capsys, name):
    f = tmp_path / f"{name}.json"
    f.write_text(BAD_JSON[name])
    assert main(["import", str(f)]) == 1
    _one_error(capsys.readouterr().err)
    _no_meetings(kith)


def test_folder_named_txt_and_binary_and_missing(kith, tmp_path, capsys):
    (tmp_path / "notes.txt").mkdir()
    (tmp_path / "bin.txt").write_bytes(b"Ana: hi\x00\x01\x02")
    for name in ("notes.txt", "bin.txt", "missing.vtt"):
        assert main(["import", str(tmp_path / name)]) != 0
        _one_error(capsys.readouterr().err)
    _no_meetings(kith)


@pytest.mark.parametrize("notes", ["missing", "latin1", "folder"])
def test_bad_notes_are_refused_before_any_work(kith, tmp_path, capsys, notes):
    vtt = tmp_path / "call.vtt"
    vtt.write_text(VTT)
    n = tmp_path / "notes.txt"
    if notes == "latin1":
        n.write_bytes("Olá, café, preço".encode("latin-1"))
    elif notes == "folder":
        n.mkdir()
    assert main(["import", str(vtt), "--notes", str(n)]) == 1
    err = capsys.readouterr().err
    _one_error(err)
    assert "--notes" in err
    _no_meetings(kith)


@pytest.mark.parametrize("where", ["missing_folder", "onto_folder"])
def test_transcribe_output_is_checked_before_transcription(tmp_path, capsys, where):
    out = tmp_path / "nope" / "t.txt" if where == "missing_folder" else tmp_path
    assert main(["transcribe", str(JFK), "-o", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    _one_error(err)
    assert "-o" in err and "transcribing" not in err
    assert "tiny" not in err


def test_transcribe_output_is_private(tmp_path, capsys):
    out = tmp_path / "jfk.txt"
    assert main(["transcribe", str(JFK), "-o", str(out), "--no-progress"]) == 0
    assert "country" in out.read_text().lower()
    assert (out.stat().st_mode & 0o777) == 0o600


def test_export_out_onto_a_file_is_refused(kith, tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["export", "markdown", "--out", str(f)]) == 1
    _one_error(capsys.readouterr().err)
    assert f.read_text() == "x"


def test_settings_and_database_that_are_folders(kith, capsys):
    kith.paths.config.mkdir(parents=True, exist_ok=True)
    kith.paths.settings_file.mkdir()
    assert main(["config", "show"]) == 1
    _one_error(capsys.readouterr().err)
    kith.paths.settings_file.rmdir()
    kith.paths.data.mkdir(parents=True, exist_ok=True)
    kith.paths.database.mkdir()
    assert main(["people", "list"]) == 1
    err = capsys.readouterr().err
    _one_error(err)
    assert "folder" in err


def _audio_files(tmp_path: Path) -> dict[str, Path]:
    rnd = random.Random(7)
    files = {}
    p = tmp_path / "random.mp3"
    p.write_bytes(bytes(rnd.randrange(256) for _ in range(100_000)))
    files["random"] = p
    sr = 16000
    t = np.arange(sr * 3) / sr
    flac = tmp_path / "ok.flac"
    sf.write(flac, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    b = bytearray(flac.read_bytes())
    for i in range(200, len(b)):
        b[i] = rnd.randrange(256)
    p = tmp_path / "scrambled.flac"
    p.write_bytes(bytes(b))
    files["scrambled"] = p
    p = tmp_path / "empty.wav"
    p.write_bytes(b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
                  + b"data" + struct.pack("<I", 0))
    files["header_only"] = p
    return files


def test_undecodable_audio_is_refused_and_nothing_is_stored(kith, tmp_path, capsys):
    for name, f in _audio_files(tmp_path).items():
        assert main(["transcribe", str(f), "--no-progress"]) == 1, name
        _one_error(capsys.readouterr().err)
        assert main(["process", str(f), "--quiet"]) == 1, name
        _one_error(capsys.readouterr().err)
    _no_meetings(kith)


def test_one_72kb_line_is_split_at_sentence_ends(tmp_path):
    rnd = random.Random(3)
    words = ["pricing", "Acme", "contract", "renewal", "budget", "the", "we", "will", "review", "next", "quarter"]
    sentences = [" ".join(rnd.choice(words) for _ in range(rnd.randint(4, 25))).capitalize() + rnd.choice(".!?")
                 for _ in range(600)]
    line = "Ana Costa: " + " ".join(sentences)
    while len(line) < 72_000:
        line += " " + line[11:2000]
    f = tmp_path / "long.txt"
    f.write_text(line + "\nBruno: Short reply.\n")
    segs, _ = import_transcript(f)
    assert len(segs) > 50 and all(len(s.text) <= MAX_LINE_CHARS for s in segs)
    assert " ".join(s.text for s in segs[:-1]).split() == line[len("Ana Costa: "):].split()  # no word lost
    assert all(s.text.endswith((".", "!", "?")) for s in segs[:-2])  # cut at sentence ends
    assert all(a.end <= b.start + 1e-6 for a, b in zip(segs, segs[1:]))
    assert {s.speaker for s in segs[:-1]} == {"Ana Costa"} and segs[-1].speaker == "Bruno"
    # one endless sentence is cut at spaces
    f.write_text("Ana: " + "word " * 20_000)
    segs, _ = import_transcript(f)
    assert all(len(s.text) <= MAX_LINE_CHARS for s in segs) and sum(len(s.text.split()) for s in segs) == 20_000


def test_a_split_long_line_fits_the_models_context(tmp_path):
    """The pieces are what the extractor chunks: each is far below the 4096-token context."""
    from app.catalog import resolve_llm
    from app.core.paths import Paths
    from app.extract.llm import LocalLLM

    f = tmp_path / "long.txt"
    f.write_text("Ana: " + "We agreed the budget is forty thousand dollars for next year. " * 1200)
    segs, _ = import_transcript(f)
    llm = LocalLLM(resolve_llm(Paths.from_env(), "smollm2-135m"), n_ctx=4096)
    try:
        assert max(llm.count_tokens(s.text) for s in segs) < 1024
    finally:
        llm.close()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root to mount a small tmpfs")
def test_full_disk_during_writes_is_a_clear_error(tmp_path):
    """A real full disk: Kith's profile on a 12 MB tmpfs, filled up, then `people add` and `db backup`."""
    script = f"""
set -u
mnt={tmp_path}/mnt; mkdir -p $mnt; mount -t tmpfs -o size=12m tmpfs $mnt || exit 99
export KITH_HOME=$mnt/kith KITH_PASSPHRASE=full-disk-test PYTHONPATH={ROOT}
{sys.executable} -m app people add --name 'Ada Lovelace' >/dev/null || exit 98
dd if=/dev/zero of=$mnt/filler bs=64k >/dev/null 2>&1
for i in $(seq 1 40); do {sys.executable} -m app people add --name "Person $i Somebody With A Long Name" \\
  --email p$i@example.com >/dev/null 2>{tmp_path}/err.txt || break; done
echo "=== add"; tail -3 {tmp_path}/err.txt
echo "=== backup"; {sys.executable} -m app db backup $mnt/backup.db 2>&1; echo "rc=$?"
rm -f $mnt/filler $mnt/backup.db
{sys.executable} -m app people list 2>&1 | grep -c 'Ada Lovelace'
umount $mnt
"""
    r = subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True, timeout=600)
    if r.returncode == 99:
        pytest.skip("tmpfs cannot be mounted here")
    out = r.stdout
    assert "Traceback" not in out + r.stderr, out + r.stderr
    add = out.split("=== add")[1].split("=== backup")[0]
    backup = out.split("=== backup")[1]
    assert "kith: error:" in add and ("full" in add or "disk I/O" in add), out
    assert "kith: error:" in backup and "rc=1" in backup, out
    assert out.strip().splitlines()[-1] == "1", "what was stored before the disk filled is still there"
