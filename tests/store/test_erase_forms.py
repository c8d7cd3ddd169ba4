"""Erase/export find a person by the short forms used in their meetings (first name, speaker labels)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlcipher3

from app.core.domain import ActionItem, AuditEntry, Contact, Meeting, Note, Segment, Suggestion, Word
from app.store import keys as K
from app.store.rights import check, erase_person, export_person
from tests.store.conftest import decrypt_pages


def _plain_dump(store) -> str:
    """Every row of every table, FTS shadow tables included, read through a decrypted connection."""
    conn = sqlcipher3.connect(str(store.path), isolation_level=None)
    conn.execute(K.raw_key_pragma(store.master_key))
    out = []
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        try:
            for row in conn.execute(f'SELECT * FROM "{name}"'):
                out.append(repr(row))
        except sqlcipher3.OperationalError:  # virtual tables need no dump: their shadow tables are dumped
            pass
    conn.close()
    return "\n".join(out)


def _populate(store):
    ana = store.contacts.add(Contact(name="Ana Costa", emails=["ana@acme.example"]))
    bruno = store.contacts.add(Contact(name="Bruno Zebrowski", emails=["bruno@globex.example"]))
    m = store.meetings.add(Meeting(title="Globex call", started_at=datetime(2026, 3, 1, tzinfo=timezone.utc)))
    store.meetings.add_participant(m.id, ana.id)
    store.meetings.add_participant(m.id, bruno.id)
    segs = store.segments.add_many(m.id, [
        Segment(0, 2, "Hi Bruno, thanks for joining.", speaker="Ana Costa"),
        Segment(2, 4, "Thanks Ana. Our budget is 50,000 euros.", speaker="Bruno",
                words=[Word(2, 2.5, " Thanks"), Word(2.5, 3, " Ana.")]),
        Segment(4, 6, "Bruno's team signs in May.", speaker="Bruno Z."),
    ])
    store.notes.add(Note(m.id, "ai", "## Summary\n\nAna Costa and Bruno agreed on a pilot [S2].", kind="minutes"))
    a = store.actions.add(ActionItem(m.id, "Send the pilot plan to Bruno", owner_text="Bruno", evidence=[segs[1].id]))
    store.suggestions.add(Suggestion("action_item", {"action_item_id": a.id, "task": a.text, "owner": "Bruno"},
                                     meeting_id=m.id))
    store.audit.record(AuditEntry(actor="ai", action="extract",
                                  output={"meeting_id": m.id, "result": {"people": [{"name": "Bruno"}]}}))
    # another meeting, without him, about a different Bruno: his first name is not his there
    other = store.meetings.add(Meeting(title="Supplier sync", started_at=datetime(2026, 3, 2, tzinfo=timezone.utc)))
    store.meetings.add_participant(other.id, ana.id)
    store.segments.add_many(other.id, [Segment(0, 2, "Bruno from the warehouse called.", speaker="Ana Costa")])
    return ana, bruno, m, other, segs


def test_export_includes_their_own_lines_under_a_first_name(store):
    ana, bruno, m, other, segs = _populate(store)
    data = export_person(store, bruno.id)
    json.dumps(data)
    assert {s["id"] for s in data["segments"]} == {s.id for s in segs}  # own lines ("Bruno:") and "Hi Bruno"
    assert data["name_forms"] == ["bruno", "zebrowski"]
    assert [n["kind"] for n in data["notes"]] == ["minutes"]
    assert len(data["action_items"]) == 1 and len(data["suggestions"]) == 1 and len(data["audit_log"]) == 1
    assert [x["id"] for x in data["meetings"]] == [m.id]
    assert all(s["meeting_id"] == m.id for s in data["segments"])  # the other meeting's Bruno is not him


def test_erase_removes_first_name_forms_everywhere_in_their_meetings(store):
    ana, bruno, m, other, segs = _populate(store)
    before = _plain_dump(store)
    assert "Bruno" in before and "Zebrowski" in before  # the dump sees the names (so the test can fail)
    counts = erase_person(store, bruno.id)
    assert counts["their_meetings"] == 1 and counts["segments"] == 3 and counts["suggestions"] == 1
    assert counts["action_owner"] == 1 and counts["audit_log"] == 1 and counts["notes"] == 1
    assert [s.speaker for s in store.segments.for_meeting(m.id)] == ["Ana Costa", "Them", "Them"]
    assert store.segments.get(segs[0].id).text == "Hi [erased], thanks for joining."
    assert "Ana" in store.segments.get(segs[1].id).text  # other people's names stay
    minutes = store.notes.for_meeting(m.id)[0].body
    assert "Bruno" not in minutes and "Ana Costa" in minutes
    act = store.actions.list(meeting_id=m.id)[0]
    assert act.owner_text == "unassigned" and "Bruno" not in act.text
    # the search finds only the other Bruno, in the meeting he was never part of
    hits = store.search("bruno")
    assert [(h.kind, h.meeting_id) for h in hits] == [("segment", other.id)]
    # forensic: logical rows of every table (FTS shadow tables included) and every decrypted page
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    dump = _plain_dump(store).casefold()
    pages = decrypt_pages(store.path, store.master_key).lower()
    assert "zebrowski" not in dump and b"zebrowski" not in pages and b"globex.example" not in pages
    # only the other meeting's line may still say Bruno
    rows_with_bruno = [ln for ln in _plain_dump(store).splitlines() if "bruno" in ln.casefold()]
    assert rows_with_bruno and all("warehouse" in ln for ln in rows_with_bruno), rows_with_bruno
    assert check(store)["ok"]


def test_erase_with_no_other_bruno_leaves_zero_hits_in_decrypted_pages(store):
    ana, bruno, m, other, segs = _populate(store)
    store.meetings.delete(other.id)
    erase_person(store, bruno.id)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = decrypt_pages(store.path, store.master_key).lower()
    assert b"bruno" not in pages and b"zebrowski" not in pages
    assert "bruno" not in _plain_dump(store).casefold()
    assert store.search("bruno") == [] and b"ana costa" in pages


def test_a_shared_first_name_is_not_erased_in_that_meeting(store):
    ana, bruno, m, other, segs = _populate(store)
    bruno2 = store.contacts.add(Contact(name="Bruno Alves"))
    store.meetings.add_participant(m.id, bruno2.id)
    erase_person(store, bruno.id)
    # "Bruno" could be either of them in this meeting: only the unambiguous forms go
    assert store.segments.get(segs[0].id).text == "Hi Bruno, thanks for joining."
    assert store.contacts.get(bruno2.id).name == "Bruno Alves"
