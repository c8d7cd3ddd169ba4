"""Crash safety: `kill -9` of a recording process at 10 random moments, then recovery."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.capture.container import RecordingReader, find_unfinished, recover

CHILD = Path(__file__).with_name("record_child.py")


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_at_most_2_seconds(tmp_path):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    key = os.urandom(32)
    moments = [rng.uniform(0.3, 6.0) for _ in range(10)]
    runs = []
    for i, after in enumerate(moments):  # 10 recorders at once (2 cores: ~1 % CPU each)
        d = tmp_path / f"run{i}"
        p = subprocess.Popen([sys.executable, str(CHILD), str(d), key.hex()], stdout=subprocess.PIPE, text=True)
        runs.append((p, d, after))
    results = []
    try:
        started = []
        for p, d, after in runs:
            line = p.stdout.readline()
            assert line.startswith("STARTED "), f"child failed to start: {line!r}"
            started.append((p, d, after, time.monotonic(), Path(line.split(" ", 1)[1].strip())))
        for p, d, after, t0, path in sorted(started, key=lambda r: r[3] + r[2]):
            time.sleep(max(0.0, t0 + after - time.monotonic()))
            os.kill(p.pid, signal.SIGKILL)
            killed_at = time.monotonic() - t0
            p.wait(5)
            results.append((d, path, killed_at))
    finally:
        for p, *_ in runs:
            if p.poll() is None:
                p.kill()
    for d, path, killed_at in results:
        assert find_unfinished(d) == [path]
        (res,) = recover(d, key)
        assert res.action == "recovered", res
        reader = RecordingReader(path, key)
        audio = reader.read_all()
        assert reader.finished and reader.end["state"] == "recovered"
        assert not [p for p in reader.problems], reader.problems
        seconds = len(audio) / 16000
        print(f"killed at {killed_at:.2f} s, recovered {seconds:.2f} s")
        # the recording began a moment before STARTED was printed; a crash loses ≤ 2 s
        assert killed_at - 2.0 <= seconds <= killed_at + 1.0, (killed_at, seconds)
        if seconds > 0.5:
            assert abs(audio[: int(seconds * 16000) - 8000, 0]).max() > 0.2  # the tone made it to disk
