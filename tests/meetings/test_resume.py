"""Half-done work resumes: failed/interrupted extractions, reprocess, delete, re-import of the same file.

Real engines: llama.cpp with SmolLM2 (plumbing model) and SQLCipher; a bad model is a real
non-GGUF file that llama.cpp's loader refuses."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.core.domain import ActionItem, Note
from app.core.errors import Cancelled
from app.core.events import CancelToken, Progress
from app.meetings.pipeline import AlreadyImported, Engines, ExtractionFailed, ProcessOptions, process_file
from app.meetings.resume import delete_meeting, reprocess_meeting
from app.meetings.store_results import store_extraction

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT = "Ana: I will send the contract on Tuesday.\nBo: Thanks, I will review the security questionnaire.\n"


@pytest.fixture(scope="module")
def engines():
    return Engines()


@pytest.fixture
def files(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    t = tmp_path / "call.txt"
    t.write_text(TRANSCRIPT)
    return t, bad


@pytest.mark.slow  # a full extraction with the plumbing model
def test_failed_extraction_leaves_a_meeting_reprocess_finishes(smol, files, engines):
    t, bad = files
    with pytest.raises(ExtractionFailed) as e:
        process_file(smol, t, ProcessOptions(llm_model=str(bad)), engines=engines)
    mid = e.value.meeting.id
    assert f"kith meetings reprocess {mid}" in str(e.value)
    store = smol.store()
    m = store.meetings.get(mid)
    assert m.status == "transcribed" and store.segments.count(mid) == 2
    assert store.notes.for_meeting(mid) == []
    res = reprocess_meeting(smol, mid, engines=engines)
    assert res.meeting.id == mid and store.meetings.get(mid).status == "processed"
    assert [n.kind for n in store.notes.for_meeting(mid) if n.author == "ai"] == ["minutes"]
    assert len(store.meetings.list()) == 1


@pytest.mark.slow  # a full extraction with the plumbing model
def test_reprocess_replaces_ai_output_keeps_the_persons_work_and_survives_a_failure(smol, files, engines):
    t, bad = files
    res = process_file(smol, t, ProcessOptions(), engines=engines)
    store = smol.store()
    mid = res.meeting.id
    store.notes.add(Note(mid, "user", "my own note"))
    kept = store.actions.add(ActionItem(mid, "accepted task", status="open"))
    reprocess_meeting(smol, mid, engines=engines)
    notes = store.notes.for_meeting(mid)
    assert [n.body for n in notes if n.author == "user"] == ["my own note"]
    assert len([n for n in notes if n.author == "ai"]) == 1  # replaced, not piled up
    proposed = {a.id for a in store.actions.list(status=["proposed"], meeting_id=mid)}
    pending = [s for s in store.suggestions.list(status="pending", meeting_id=mid) if s.kind == "action_item"]
    assert {s.payload["action_item_id"] for s in pending} == proposed  # only this run's proposals
    assert store.actions.get(kept.id).status == "open"
    assert len([a for a in store.audit.list() if a.action == "extract"]) == 2  # every run stays audited
    before = [n.body for n in store.notes.for_meeting(mid)]
    with pytest.raises(ExtractionFailed):  # a failed re-run keeps what the last good run stored
        reprocess_meeting(smol, mid, ProcessOptions(llm_model=str(bad)), engines=Engines())
    assert [n.body for n in store.notes.for_meeting(mid)] == before
    assert store.meetings.get(mid).status == "processed"


def test_cancelled_extraction_leaves_a_resumable_meeting(smol, files, engines):
    t, _ = files
    cancel = CancelToken()
    smol.bus.subscribe(Progress, lambda e: cancel.cancel())  # Ctrl-C at the first extraction progress
    with pytest.raises(Cancelled):
        process_file(smol, t, ProcessOptions(), engines=engines, bus=smol.bus, cancel=cancel)
    store = smol.store()
    (m,) = store.meetings.list()
    assert m.status == "transcribed" and store.segments.count(m.id) == 2
    assert store.notes.for_meeting(m.id) == []


@pytest.mark.slow  # a full extraction with the plumbing model
def test_kill_9_during_extraction_then_reprocess(smol, files, kith_home, tmp_path, monkeypatch):
    t, _ = files
    # the child has no in-memory keyring: both sides open the profile with one passphrase
    smol.passphrase = "kill-9-test-passphrase"
    monkeypatch.setenv("KITH_PASSPHRASE", smol.passphrase)  # for the CLI calls in this process
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KITH_HOME": str(kith_home), "KITH_PASSPHRASE": smol.passphrase}
    p = subprocess.Popen([sys.executable, "-m", "app", "import", str(t), "--llm", "smollm2-135m", "-q"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if line.startswith("kith: extracting"):
            p.send_signal(signal.SIGKILL)
            break
    p.wait(timeout=120)
    assert p.returncode == -signal.SIGKILL
    store = smol.store()
    (m,) = store.meetings.list()
    assert m.status == "transcribed"
    assert main(["meetings", "reprocess", str(m.id), "--llm", "smollm2-135m", "-q"]) == 0
    assert store.meetings.get(m.id).status == "processed"


def test_importing_the_same_file_again_finds_the_meeting(smol, files, engines, tmp_path, capsys):
    t, bad = files
    with pytest.raises(ExtractionFailed):
        process_file(smol, t, ProcessOptions(llm_model=str(bad)), engines=engines)
    copy = tmp_path / "renamed copy.txt"
    copy.write_bytes(t.read_bytes())  # same bytes, another name
    with pytest.raises(AlreadyImported) as e:
        process_file(smol, copy, ProcessOptions(), engines=engines)
    assert "reprocess" in str(e.value)
    assert main(["import", str(t), "--llm", str(bad), "-q"]) == 1
    assert "was already imported as meeting" in capsys.readouterr().err
    assert len(smol.store().meetings.list()) == 1
    with pytest.raises(ExtractionFailed):
        process_file(smol, t, ProcessOptions(allow_duplicate=True, llm_model=str(bad)), engines=engines)
    assert len(smol.store().meetings.list()) == 2


def test_delete_removes_the_meeting_and_everything_derived(smol, files, engines, capsys):
    t, bad = files
    with pytest.raises(ExtractionFailed) as e:
        process_file(smol, t, ProcessOptions(llm_model=str(bad)), engines=engines)
    mid = e.value.meeting.id
    store = smol.store()
    segs = store.segments.for_meeting(mid)
    # what an extraction stores (the model's output as data: this test is about deleting it)
    store_extraction(smol, store.meetings.get(mid), segs, {
        "summary": "Ana sends the contract.", "action_items": [{"owner": "Ana", "task": "send the contract",
                                                                 "evidence": [1]}]})
    assert store.search("questionnaire")
    assert main(["meetings", "delete", str(mid)]) == 1  # no terminal, no --yes: nothing deleted
    assert "confirmation" in capsys.readouterr().err and store.meetings.get(mid)
    counts = delete_meeting(smol, mid)
    assert counts["segments"] == 2 and counts["audit_log"] == 1 and counts["action_items"] == 1
    assert store.meetings.list() == [] and store.search("questionnaire") == []
    assert store.suggestions.list(status=None) == [] and store.actions.list() == []
    assert [a.action for a in store.audit.list()][0] == "meeting.delete"
    assert not [a for a in store.audit.list() if a.action == "extract"]
    assert main(["meetings", "delete", str(mid), "--yes"]) == 4  # already gone: not found
