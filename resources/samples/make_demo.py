#!/usr/bin/env python3
"""Make the demo meeting's audio from its script (demo_sales_call.toml) with espeak-ng and sox.

    python resources/samples/make_demo.py            # writes demo_sales_call.ogg beside this file

Output: Ogg Vorbis, 16 kHz, STEREO — channel 0 is the user ("You", one voice), channel 1 the
customer side ("Them", two voices), the way Kith records a call (mic left, system audio right).
Needs the espeak-ng and sox command-line tools (Debian: apt-get install espeak-ng sox
libsox-fmt-all). Deterministic for a given espeak-ng/sox version.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "demo_sales_call.toml"
RATE = 16000
GAP_SAME = 0.45  # seconds of silence between lines of the same speaker
GAP_TURN = 0.8  # ... and when the speaker changes


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def silence(path: Path, seconds: float) -> Path:
    run("sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path), "trim", "0", f"{seconds:.3f}")
    return path


def main(out: Path | None = None) -> Path:
    for tool in ("espeak-ng", "sox", "soxi"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install espeak-ng sox libsox-fmt-all)")
    spec = tomllib.loads(SCRIPT.read_text(encoding="utf-8"))
    out = out or HERE / spec["audio"]
    voices = spec["voices"]
    with tempfile.TemporaryDirectory(prefix="kith-demo-") as tmp:
        t = Path(tmp)
        tracks: dict[int, list[Path]] = {0: [], 1: []}
        prev_who = None
        for i, line in enumerate(spec["lines"]):
            v = voices[line["who"]]
            raw, speech = t / f"raw{i}.wav", t / f"line{i}.wav"
            run("espeak-ng", "-v", v["voice"], "-s", str(v["speed"]), "-p", str(v["pitch"]), "-w", str(raw), line["text"])
            run("sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(speech), "norm", "-3")
            dur = float(run("soxi", "-D", str(speech)).strip())
            gap = GAP_SAME if line["who"] == prev_who else GAP_TURN
            prev_who = line["who"]
            for ch in (0, 1):
                tracks[ch].append(silence(t / f"gap{i}_{ch}.wav", gap))
                tracks[ch].append(speech if ch == v["channel"] else silence(t / f"sil{i}_{ch}.wav", dur))
        for ch in (0, 1):
            tracks[ch].append(silence(t / f"tail_{ch}.wav", 1.0))
            run("sox", *map(str, tracks[ch]), str(t / f"ch{ch}.wav"))
        run("sox", "-M", str(t / "ch0.wav"), str(t / "ch1.wav"), "-C", "1", str(out))
    print(f"wrote {out} ({out.stat().st_size // 1024} KB, {float(run('soxi', '-D', str(out))):.1f} s)")
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
