"""File exports parse back with real parsers; the meeting Markdown round-trips its action items."""
from __future__ import annotations

import csv
import json
import stat
import zipfile
from datetime import date

import icalendar
import vobject

from app.export import files
from app.export.base import gather
from app.export.markdown import parse_meeting_markdown, render_meeting


def data_for_files(store, **kw):
    return gather(store, with_segments=True, accepted_only=False, **kw)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_markdown_round_trips_action_items_and_front_matter(store, seed, tmp_path):
    data = data_for_files(store)
    paths = files.write_format("markdown", data, tmp_path)
    assert len(paths) == 2
    p = next(p for p in paths if "Acme pricing call" in p.name)
    assert p.name == f"2026-01-05 Acme pricing call ({seed.m1.id}).md"
    text = p.read_text(encoding="utf-8")
    parsed = parse_meeting_markdown(text)
    assert parsed.front["title"] == "Acme pricing call"
    assert parsed.front["attendees"] == ["[[Ada Lovelace]]", "[[Bob Stone]]", "[[Carol]]"]
    assert parsed.front["companies"] == ["[[Acme Corp]]", "[[Globex]]"]
    assert parsed.front["kith_meeting_id"] == seed.m1.id and parsed.front["tags"] == ["meeting", "kith"]

    stored = {a.id: a for a in store.actions.list(meeting_id=seed.m1.id)}
    assert {a.local_id for a in parsed.actions} == set(stored)
    by_index = {s.id: s for s in seed.segments}
    for pa in parsed.actions:
        a = stored[pa.local_id]
        owner = store.contacts.get(a.owner_contact_id).name if a.owner_contact_id else a.owner_text
        assert (pa.text, pa.owner, pa.status, pa.due) == (a.text, owner, a.status, a.due_date)
        assert pa.quotes == [(by_index[i].index, by_index[i].speaker, by_index[i].text) for i in a.evidence]
    assert next(pa for pa in parsed.actions if pa.local_id == seed.a_open.id).quotes[0][2] == \
        'I\'ll send the "annual" pricing sheet by Friday.'

    # Obsidian details: wiki links, block ids on transcript lines, [S#] turned into links to them
    assert "**[00:00:04] Ada Lovelace:** I'll send the \"annual\" pricing sheet by Friday. ^s2" in text
    assert "[[#^s3|S3]]" in text and "### Decisions" in text
    assert "- [x] Confirm the annual plan internally — owner: [[Bob Stone]]" in text


def test_front_matter_is_valid_yaml(store, seed, tmp_path):
    import yaml  # a real YAML parser agrees with our own reader

    data = data_for_files(store, meeting_id=seed.m1.id)
    data.meetings[0].meeting.title = 'Tricky: "quotes" — and # hashes'
    text = render_meeting(data.meetings[0], data)
    front = yaml.safe_load(text.split("---\n")[1])
    assert front == parse_meeting_markdown(text).front
    assert front["title"] == 'Tricky: "quotes" — and # hashes'


def test_csv_and_json_parse_back(store, seed, tmp_path):
    data = data_for_files(store)
    files.write_format("csv", data, tmp_path / "csv")
    files.write_format("json", data, tmp_path / "json")
    contacts = read_csv(tmp_path / "csv" / "contacts.csv")
    ada = next(r for r in contacts if r["name"] == "Ada Lovelace")
    assert ada["email"] == "ada@acme.com" and ada["company"] == "Acme Corp"
    assert ada["notes"] == "Prefers email; likes; semicolons, too"
    assert read_csv(tmp_path / "csv" / "companies.csv")[0]["domain"] == "acme.com"
    actions = read_csv(tmp_path / "csv" / "actions.csv")
    assert {r["status"] for r in actions} == {"open", "done", "proposed", "dismissed"}

    js = json.loads((tmp_path / "json" / "contacts.json").read_text())
    bob = next(r for r in js if r["name"] == "Bob Stone")
    assert bob["emails"] == ["bob@globex.io", "b.stone@example.org"]
    acts = json.loads((tmp_path / "json" / "actions.json").read_text())
    open_item = next(a for a in acts if a["id"] == seed.a_open.id)
    assert open_item["evidence_segment_ids"] == [seed.segments[1].id] and open_item["due_date"] == "2026-01-09"
    assert stat.S_IMODE((tmp_path / "json" / "contacts.json").stat().st_mode) == 0o600


def test_vcard_4_parses_with_vobject(store, seed, tmp_path):
    data = data_for_files(store)
    (path,) = files.write_format("vcard", data, tmp_path)
    raw = path.read_bytes().decode("utf-8")  # keep the CRLF line ends
    assert raw.endswith("END:VCARD\r\n") and "\nBEGIN" not in raw.replace("\r\nBEGIN", "")
    cards = list(vobject.readComponents(raw))
    assert len(cards) == 3 and all(c.version.value == "4.0" for c in cards)
    ada = next(c for c in cards if c.fn.value == "Ada Lovelace")
    assert ada.n.value.family == "Lovelace" and ada.n.value.given == "Ada"
    assert ada.email.value == "ada@acme.com" and ada.org.value == ["Acme Corp"]
    assert ada.note.value == "Prefers email; likes; semicolons, too"
    bob = next(c for c in cards if c.fn.value == "Bob Stone")
    assert [e.value for e in bob.email_list] == ["bob@globex.io", "b.stone@example.org"]
    assert all(len(line.encode()) <= 75 for line in raw.split("\r\n"))


def test_vcard_folds_long_unicode_lines_safely(store, tmp_path):
    from app.core.domain import Contact
    from app.export.base import ExportData

    long_note = "Über-long note with emoji 🎉 and accents é " * 10
    data = ExportData(contacts=[Contact(name="Zoë Ünicode", emails=["z@example.com"], notes=long_note, id=1)])
    raw = files.vcard_text(data)
    card = vobject.readOne(raw)
    assert card.note.value == long_note and card.fn.value == "Zoë Ünicode"


def test_ics_vtodo_parses_with_icalendar(store, seed, tmp_path):
    data = data_for_files(store)
    (path,) = files.write_format("ics", data, tmp_path)
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    todos = {str(t["uid"]): t for t in cal.walk("VTODO")}
    assert len(todos) == 5
    t = todos[f"kith-action-{seed.a_open.id}@kith.local"]
    assert str(t["summary"]) == "Send the annual pricing sheet" and t.decoded("due") == date(2026, 1, 9)
    assert str(t["status"]) == "NEEDS-ACTION" and "Owner: Ada Lovelace" in str(t["description"])
    assert str(t["attendee"]) == "mailto:ada@acme.com"
    assert str(todos[f"kith-action-{seed.a_done.id}@kith.local"]["status"]) == "COMPLETED"
    assert str(todos[f"kith-action-{seed.a_dismissed.id}@kith.local"]["status"]) == "CANCELLED"


def test_crm_import_csvs(store, seed, tmp_path):
    data = gather(store, with_segments=True)
    files.write_format("hubspot-csv", data, tmp_path / "hs")
    contacts = read_csv(tmp_path / "hs" / "contacts.csv")
    assert set(contacts[0]) == {"First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
                                "Company Domain Name"}
    assert {r["Email"] for r in contacts} == {"ada@acme.com", "bob@globex.io", ""}
    notes = read_csv(tmp_path / "hs" / "notes.csv")
    assert len(notes) == 1 and notes[0]["Email"] == "ada@acme.com" and "Go with the annual plan" in notes[0]["Note body"]
    tasks = read_csv(tmp_path / "hs" / "tasks.csv")
    assert len(tasks) == 3 and {t["Task Status"] for t in tasks} == {"Not started", "Completed"}

    files.write_format("salesforce-csv", data, tmp_path / "sf")
    sf_contacts = read_csv(tmp_path / "sf" / "Contact.csv")
    assert next(r for r in sf_contacts if r["Email"] == "ada@acme.com")["AccountName"] == "Acme Corp"
    sdl = (tmp_path / "sf" / "Contact.sdl").read_text()
    assert "LastName=LastName" in sdl and "AccountName" not in sdl
    sf_tasks = read_csv(tmp_path / "sf" / "Task.csv")
    assert {t["Status"] for t in sf_tasks} <= {"Not Started", "Completed"} and len(sf_tasks) == 4


def test_archive_holds_every_format_and_every_table(store, seed, kith, tmp_path):
    data = data_for_files(store)
    out = tmp_path / "out"
    path = files.write_archive(store, data, out)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in out.iterdir()] == [path.name]  # no scratch files left behind
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {"contacts.vcf", "actions.ics", "csv/contacts.csv", "json/actions.json", "hubspot-import/contacts.csv",
                "salesforce-dataloader/Task.csv", "kith-data.json", "README.txt"} <= names
        assert any(n.startswith("meetings/2026-01-05 Acme pricing call") for n in names)
        dump = json.loads(z.read("kith-data.json"))
    tables = dump["tables"]
    for name in ("contacts", "companies", "meetings", "segments", "notes", "action_items", "audit_log", "exports"):
        assert name in tables
    assert len(tables["segments"]) == 3 and len(tables["action_items"]) == 5
    assert not any(n.startswith("_") or "fts" in n for n in tables)
    # every user table made it (nothing silently dropped)
    all_tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    user_tables = {t for t in all_tables if not t.startswith(("_", "sqlite_")) and "fts" not in t}
    assert user_tables <= set(tables)
