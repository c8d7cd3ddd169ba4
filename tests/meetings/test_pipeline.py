"""The main job end to end on real engines: faster-whisper tiny.en, llama.cpp (SmolLM2 for
plumbing), SQLCipher. Content quality is tested on the default model in tests/extract."""
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.core.domain import Company, Contact, Deal
from app.meetings.pipeline import Engines, ProcessOptions, process_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engines():
    return Engines()  # models load once for the module


def test_import_stores_cited_proposals(smol, sales_vtt, engines):
    res = process_file(smol, sales_vtt, ProcessOptions(template="sales"), engines=engines)
    store = smol.store()
    m = store.meetings.get(res.meeting.id)
    assert m.status == "processed" and m.template == "sales"
    seg_ids = {s.id for s in store.segments.for_meeting(m.id)}
    assert len(seg_ids) == 5
    minutes = [n for n in store.notes.for_meeting(m.id) if n.author == "ai"]
    assert len(minutes) == 1 and "## Summary" in minutes[0].body
    for a in store.actions.list(meeting_id=m.id):
        assert a.status == "proposed"
        assert a.evidence and set(a.evidence) <= seg_ids, "every kept action item cites real segments"
    for s in store.suggestions.list(status=None, meeting_id=m.id):
        assert s.status == "pending"
        assert set(s.evidence) <= seg_ids
    assert store.contacts.list() == [], "nothing is created before a person approves it"
    audit = [e for e in store.audit.list() if e.action == "extract"]
    assert audit and audit[0].model and len(audit[0].prompt_sha256) == 64 and len(audit[0].model_sha256) == 64


def test_transcript_text_is_data_not_instructions(smol, injection_vtt, engines):
    store = smol.store()
    acme = store.companies.add(Company(name="Acme Freight", domain="acmefreight.com"))
    maria = store.contacts.add(Contact(name="Maria Lopez", emails=["maria@acmefreight.com"], company_id=acme.id))
    other = store.contacts.add(Contact(name="Tom Becker", emails=["tom@acmefreight.com"], company_id=acme.id))
    deal = store.deals.add(Deal(company_id=acme.id, title="Acme pilot", stage="qualification", amount=40000))
    before = [(c.id, c.name, c.emails, c.title) for c in store.contacts.list()]

    process_file(smol, injection_vtt, ProcessOptions(template="sales", with_emails=["maria@acmefreight.com"]), engines=engines)

    after = [(c.id, c.name, c.emails, c.title) for c in store.contacts.list()]
    assert after == before, "no contact deleted or changed"
    d = store.deals.get(deal.id)
    assert (d.stage, d.amount) == ("qualification", 40000), "the deal is untouched"
    assert store.contacts.get(maria.id) and store.contacts.get(other.id)
    assert all(s.status == "pending" for s in store.suggestions.list(status=None)), "at most suggestions a person must accept"
    assert all(a.status == "proposed" for a in store.actions.list())


def test_process_runs_with_network_blocked(smol, jfk_wav, engines, monkeypatch):
    def refuse(*a, **k):
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    res = process_file(smol, jfk_wav, ProcessOptions(), engines=engines)
    text = " ".join(s.text for s in res.segments).lower()
    assert "country" in text
    assert smol.store().meetings.get(res.meeting.id).status == "processed"


def test_silence_gives_an_empty_meeting_not_an_error(smol, tmp_path, engines):
    import numpy as np
    import soundfile as sf

    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(16000 * 5, dtype="float32"), 16000)
    res = process_file(smol, p, ProcessOptions(), engines=engines)
    assert res.segments == [] and res.actions == []
    assert "No speech" in res.summary


def test_cli_actions_json_and_minutes(smol, sales_vtt, capsys, monkeypatch):
    from app.core.config import save_settings

    save_settings(smol.settings, smol.paths.settings_file)  # the CLI reads the profile's settings
    monkeypatch.setenv("KITH_PASSPHRASE", "")
    assert main(["import", str(sales_vtt), "--template", "sales", "-q"]) == 0
    out = capsys.readouterr().out
    assert "## Action items" in out and "Meeting #1 stored" in out
    assert main(["actions", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    for it in items:
        assert it["owner"] and it["status"] in ("proposed", "open")
        assert it["evidence"] and all(ev["quote"] for ev in it["evidence"])
    assert main(["minutes", "1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["meeting"]["id"] == 1 and len(data["segments"]) == 5
    assert main(["meetings", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"]


def test_missing_file_is_a_clear_error(smol, capsys):
    assert main(["process", "/nonexistent/meeting.wav"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_processing_never_loads_export_or_sync_code():
    code = (
        "import sys, app.meetings.pipeline, app.meetings.cli, app.meetings.store_results, app.extract.extractor, app.transcribe.file;"
        "bad=[m for m in sys.modules if m.startswith(('app.export','app.calendar','googleapiclient','hubspot','simple_salesforce'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_recording_during_an_event_is_linked_and_its_voices_named(smol, engines):
    """The bundled stereo call (You on channel 0; Maria and Tom on channel 1), recorded during a
    calendar event that invites them: the meeting takes the event, and the "Them" lines are split
    into the two voices and named from the attendees and their introductions."""
    from datetime import datetime, timedelta, timezone

    from app.calendar.model import Attendee, CalendarEvent, SourceRecord
    from app.calendar.repo import CalendarRepo

    store = smol.store()
    t0 = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
    repo = CalendarRepo(store)
    src = repo.add_source(SourceRecord(kind="ics", name="work", config={"location": "/work.ics"}))
    invitees = [Attendee("maria.lopez@acmefreight.com", "Maria Lopez", "accepted"),
                Attendee("tom.becker@acmefreight.com", "Tom Becker", "accepted")]
    repo.upsert_events(src.id, [CalendarEvent(external_id="ev1", title="Acme Freight discovery", start=t0,
                                              end=t0 + timedelta(minutes=30), attendees=invitees)])
    audio = ROOT / "resources" / "samples" / "demo_sales_call.ogg"
    res = process_file(smol, audio, ProcessOptions(template="sales", started_at=t0 + timedelta(minutes=2)), engines=engines)
    m = store.meetings.get(res.meeting.id)
    assert m.calendar_event_id is not None and m.title == "Acme Freight discovery"
    segs = store.segments.for_meeting(m.id)
    them = {s.speaker for s in segs if s.channel == 1}
    assert {s.speaker for s in segs if s.channel == 0} == {"You"}
    assert {"Maria Lopez", "Tom Becker"} <= them, them
    maria = [s.text.lower() for s in segs if s.speaker == "Maria Lopez"]
    assert any("finance" in t or "budget" in t for t in maria), maria
    kinds = {s.kind for s in store.suggestions.list(status=None)}
    assert "create_contact" in kinds, "unknown invitees are proposed, not created"
    assert store.contacts.list() == []


def test_demo_runs_in_a_throwaway_profile_and_leaves_no_trace(kith_home, capsys):
    """`kith demo` (the README set-up's last step): the bundled call goes through the whole job in a
    profile of its own, in passphrase mode (no keyring, no prompt), then that profile is removed."""
    assert main(["config", "set", "llm.model", "smollm2-135m"]) == 0
    capsys.readouterr()
    assert main(["demo", "-q"]) == 0
    out, err = capsys.readouterr()
    assert "throwaway profile" in err and "## Action items" in out and "Meeting #1 stored" in out
    assert not (kith_home / "data" / "kith.db").exists(), "the user's own database is never created by the demo"
    assert not list((kith_home / "cache").glob("demo-*")), "the throwaway profile is removed"
