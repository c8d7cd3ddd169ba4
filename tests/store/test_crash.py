"""`kill -9` of a writer in the middle of its write loop, 20 times: the file always opens, is intact,
and every row the writer reported as committed is there."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.paths import Paths
from app.store.db import open_store
from app.store.rights import check

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys
from datetime import datetime, timezone
from app.context import Kith
from app.core.domain import Contact, Meeting, Segment, Note
run = int(sys.argv[1])
kith = Kith.from_env()
store = kith.store()
print("ready", flush=True)
i = 0
while True:
    i += 1
    with store.transaction():
        c = store.contacts.add(Contact(name=f"Writer {run} row {i}", emails=[f"w{run}.{i}@crash.test"]))
        m = store.meetings.add(Meeting(title=f"crash {run}.{i}", started_at=datetime.now(timezone.utc)))
        store.segments.add_many(m.id, [Segment(k, k + 1, f"run {run} row {i} segment {k} " + "lorem ipsum " * 8)
                                       for k in range(25)])
        store.notes.add(Note(m.id, "user", f"note {run}.{i}"))
    print(f"{c.id} {m.id}", flush=True)
"""


@pytest.mark.slow
def test_kill_dash_nine_twenty_times(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "KITH_HOME": str(home), "KITH_PASSPHRASE": "crash-test",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PYTHONPATH": str(ROOT)}
    rng = random.Random(20260522)
    committed: list[tuple[int, int]] = []
    paths = Paths.under(home)
    killed_mid = 0
    for run in range(20):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(run)], env=env, cwd=str(ROOT),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.35))
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err
        rows = [tuple(map(int, line.split())) for line in out.splitlines() if line.strip()]
        committed += rows
        killed_mid += bool(rows)
        store = open_store(paths, passphrase="crash-test")
        try:
            assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            have = {r[0] for r in store.conn.execute("SELECT id FROM contacts")}
            missing = [c for c, _ in committed if c not in have]
            assert not missing, f"run {run}: committed contacts lost: {missing[:5]}"
            for _, mid in rows:
                assert store.segments.count(mid) == 25 and len(store.notes.for_meeting(mid)) == 1
            # nothing half-written: every meeting has all its segments
            partial = store.conn.execute(
                "SELECT meeting_id FROM segments GROUP BY meeting_id HAVING count(*) != 25").fetchall()
            assert partial == []
        finally:
            store.close()
    assert killed_mid >= 10  # most kills landed inside the write loop, after commits
    store = open_store(paths, passphrase="crash-test")
    try:
        r = check(store)
        assert r["ok"], r
        title = store.meetings.get(committed[-1][1]).title  # "crash R.I"
        run_no, row_no = title.split()[1].split(".")
        hits = store.search(f"run {run_no} row {row_no} segment", limit=500)
        assert committed[-1][1] in {h.meeting_id for h in hits}  # the FTS index survived too
    finally:
        store.close()
