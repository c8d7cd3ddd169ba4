import hashlib
import os
import threading

import pytest

from app.catalog.download import ChecksumMismatch, download
from app.core.errors import Cancelled, KithError
from app.core.events import CancelToken, EventBus, Progress

DATA = os.urandom(3 * 1024 * 1024 + 123)
SHA = hashlib.sha256(DATA).hexdigest()


def test_full_download_with_progress_and_events(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    seen, events = [], []
    bus = EventBus()
    bus.subscribe(Progress, events.append)
    got = download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA, progress=lambda d, t: seen.append((d, t)), bus=bus)
    assert got == SHA
    assert (tmp_path / "m.bin").read_bytes() == DATA
    assert not (tmp_path / "m.bin.part").exists()
    assert seen[-1] == (len(DATA), len(DATA))
    assert events and events[-1].done == len(DATA)


def test_interrupted_transfer_keeps_part_and_resumes_with_range(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    http_server.cut_after, http_server.cuts_left = 1_000_000, 1
    dest = tmp_path / "m.bin"
    with pytest.raises(KithError, match="interrupted"):
        download(f"{http_server.base}/m.bin", dest, SHA, retries=0)
    assert not dest.exists()
    part = tmp_path / "m.bin.part"
    have = part.stat().st_size
    assert 900_000 < have <= 1_000_000  # at most one 64 KiB read is lost at the cut
    download(f"{http_server.base}/m.bin", dest, SHA, retries=0)
    assert dest.read_bytes() == DATA
    assert http_server.requests[-1]["range"] == f"bytes={have}-"
    assert http_server.bytes_sent <= len(DATA) + 65536  # only the lost tail is fetched twice


def test_automatic_retries_resume_within_one_call(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    http_server.cut_after, http_server.cuts_left = 700_000, 3
    download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA, retries=5)
    assert (tmp_path / "m.bin").read_bytes() == DATA
    assert len(http_server.requests) == 4
    assert [r["range"] is not None for r in http_server.requests] == [False, True, True, True]


def test_server_ignoring_range_restarts_cleanly(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    (tmp_path / "m.bin.part").write_bytes(b"garbage that is not the file prefix")
    http_server.ignore_range = True
    download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA)
    assert (tmp_path / "m.bin").read_bytes() == DATA


def test_wrong_checksum_deletes_partial_and_raises(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    with pytest.raises(ChecksumMismatch, match="checksum mismatch"):
        download(f"{http_server.base}/m.bin", tmp_path / "m.bin", "0" * 64)
    assert list(tmp_path.iterdir()) == [] or all(p.name.endswith(".lock") for p in tmp_path.iterdir())


def test_corrupt_resumed_prefix_is_caught(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    bad = bytearray(DATA[:500_000])
    bad[10] ^= 0xFF
    (tmp_path / "m.bin.part").write_bytes(bytes(bad))
    with pytest.raises(ChecksumMismatch):
        download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA)
    assert not (tmp_path / "m.bin").exists() and not (tmp_path / "m.bin.part").exists()
    download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA)  # a clean retry works
    assert (tmp_path / "m.bin").read_bytes() == DATA


def test_cancel_stops_and_keeps_part_for_resume(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    http_server.throttle = 0.01
    cancel = CancelToken()

    def progress(done, total):
        if done > 400_000:
            cancel.cancel()

    with pytest.raises(Cancelled):
        download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA, progress=progress, cancel=cancel)
    assert not (tmp_path / "m.bin").exists()
    have = (tmp_path / "m.bin.part").stat().st_size
    assert 400_000 < have < len(DATA)
    http_server.throttle = 0
    download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA)
    assert (tmp_path / "m.bin").read_bytes() == DATA
    assert http_server.requests[-1]["range"] == f"bytes={have}-"


def test_unverified_download_refused_unless_allowed(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    with pytest.raises(KithError, match="unverified"):
        download(f"{http_server.base}/m.bin", tmp_path / "m.bin", "")
    assert http_server.requests == []
    assert download(f"{http_server.base}/m.bin", tmp_path / "m.bin", "", allow_unverified=True) == SHA


def test_http_404_is_a_clear_error(http_server, tmp_path):
    with pytest.raises(KithError, match="HTTP 404"):
        download(f"{http_server.base}/nope.bin", tmp_path / "m.bin", SHA)


def test_connection_refused_is_a_clear_error(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(KithError, match="interrupted"):
        download(f"http://127.0.0.1:{port}/m.bin", tmp_path / "m.bin", SHA, retries=1)


def test_two_concurrent_downloads_of_the_same_file(http_server, tmp_path):
    http_server.files["/m.bin"] = DATA
    http_server.throttle = 0.002
    errors = []

    def run():
        try:
            download(f"{http_server.base}/m.bin", tmp_path / "m.bin", SHA)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors
    assert (tmp_path / "m.bin").read_bytes() == DATA
    assert http_server.bytes_sent == len(DATA)  # the second waited, then found it done
