"""Data rights on the real encrypted file: no plaintext on disk, export, erase to the last page, backup, check."""
from __future__ import annotations

import json
from pathlib import Path
from datetime import datetime, timezone

import sqlcipher3

from app.core.domain import ActionItem, AuditEntry, Contact, Meeting, Note, Segment, Suggestion, Word
from app.store import keys as K
from app.store.db import open_store
from app.store.rights import backup, check, erase_person, export_person
from tests.store.conftest import decrypt_pages

NAME = "Quentin Marchetti"
EMAIL = "quentin@marchetti-labs.example"
LINE = "the zirconium shipment clears customs on Thursday"


def _populate(store):
    q = store.contacts.add(Contact(name=NAME, emails=[EMAIL], phones=["+39 055 123456"], title="Buyer",
                                   notes="prefers calls"))
    other = store.contacts.add(Contact(name="Ines Ortega", emails=["ines@ortega.example"], notes=f"introduced by {NAME}"))
    m = store.meetings.add(Meeting(title=f"Call with {NAME}", started_at=datetime(2026, 2, 2, tzinfo=timezone.utc)))
    store.meetings.add_participant(m.id, q.id)
    store.meetings.add_participant(m.id, other.id)
    segs = store.segments.add_many(m.id, [
        Segment(0, 3, f"Hi, this is {NAME} speaking.", speaker=NAME, channel=1,
                words=[Word(0, .2, " Hi,"), Word(.3, .5, " this"), Word(.5, .6, " is"), Word(.6, .9, " Quentin"),
                       Word(.9, 1.3, " Marchetti"), Word(1.3, 1.8, " speaking.")]),
        Segment(3, 6, LINE, speaker="You", channel=0),
    ])
    store.notes.add(Note(m.id, "user", f"{NAME} wants the Thursday slot; email {EMAIL}"))
    a = store.actions.add(ActionItem(m.id, f"Send {NAME} the customs form", owner_text=NAME, owner_contact_id=q.id,
                                     evidence=[segs[0].id]))
    store.suggestions.add(Suggestion("update_contact", {"contact_id": q.id, "fields": {"title": "Head buyer"}}))
    store.suggestions.add(Suggestion("create_contact", {"name": NAME.upper(), "email": EMAIL}))
    store.audit.record(AuditEntry(actor="ai", action="extract", output={"people": [{"name": NAME}]}))
    store.exports.set("contact", q.id, "hubspot", "hs-42")
    return q, other, m, segs, a


def _plain_copy(store, dest):
    """Decrypt the whole database into a plaintext SQLite file (the test's own forensic copy)."""
    conn = sqlcipher3.connect(str(store.path), isolation_level=None)
    conn.execute(K.raw_key_pragma(store.master_key))
    conn.execute(f"ATTACH DATABASE '{dest}' AS plain KEY ''")
    conn.execute("SELECT sqlcipher_export('plain')")
    conn.execute("DETACH DATABASE plain")
    conn.close()
    return dest.read_bytes()


def test_no_plaintext_on_disk(store, tmp_path):
    _populate(store)
    store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    files = [store.path, store.path.with_name(store.path.name + "-wal")]
    out = backup(store, tmp_path / "backup.kith")
    files.append(tmp_path / "backup.kith")
    assert files[1].exists() and files[1].stat().st_size > 0
    for f in files:
        raw = f.read_bytes()
        for needle in (NAME.encode(), LINE.encode(), EMAIL.encode(), b"SQLite format", "Marchetti".encode("utf-16-le")):
            assert needle not in raw, f"{needle!r} in {f.name}"
    # the checker itself can see plaintext once decrypted (so the test above can fail)
    assert NAME.encode() in decrypt_pages(store.path, store.master_key)
    assert out["bytes"] > 0


def test_export_person_has_every_record(store):
    q, other, m, segs, a = _populate(store)
    data = export_person(store, q.id)
    json.dumps(data)
    assert data["contact"]["name"] == NAME and data["contact"]["emails"] == [EMAIL]
    assert [x["id"] for x in data["meetings"]] == [m.id]
    assert {s["id"] for s in data["segments"]} == {segs[0].id}
    assert len(data["notes"]) == 1 and [x["id"] for x in data["action_items"]] == [a.id]
    assert len(data["suggestions"]) == 2 and data["exports"][0]["remote_id"] == "hs-42"
    assert len(data["audit_log"]) == 1


def test_erase_leaves_the_name_nowhere(store, tmp_path):
    q, other, m, segs, a = _populate(store)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = decrypt_pages(store.path, store.master_key)
    counts = erase_person(store, q.id)
    assert counts["participants"] == 1 and counts["suggestions"] == 2 and counts["action_owner"] == 1
    assert store.search("Quentin") == [] and store.search("Marchetti") == [] and store.search("marchetti labs") == []
    assert store.contacts.find_by_email(EMAIL) is None
    assert store.actions.get(a.id).owner_text == "unassigned" and store.actions.get(a.id).owner_contact_id is None
    assert store.segments.get(segs[0].id).speaker == "Them"
    assert store.segments.get(segs[1].id).text == LINE  # other people's words stay
    assert [c.name for c in store.meetings.participants(m.id)] == ["Ines Ortega"]
    assert store.exports.get("contact", q.id, "hubspot") is None
    last = store.audit.list(1)[0]
    assert last.action == "person.erase" and NAME not in json.dumps(last.output)
    # forensic checks: a decrypted logical copy, and every raw page (free pages included) decrypted
    plain = _plain_copy(store, tmp_path / "plain.db")
    pages = decrypt_pages(store.path, store.master_key)
    wal = store.path.with_name(store.path.name + "-wal")
    wal_bytes = wal.read_bytes() if wal.exists() else b""
    for needle in ("Quentin", "Marchetti", "marchetti-labs", "055 123456"):
        for blob, where in ((plain, "plaintext copy"), (pages, "decrypted pages"), (wal_bytes, "wal")):
            assert needle.encode() not in blob and needle.lower().encode() not in blob.lower(), f"{needle} in {where}"
    assert b"Quentin" in before  # the same check finds the name before the erase
    assert b"Ines Ortega" in plain and LINE.encode() in plain
    assert check(store)["ok"]


def test_backup_while_another_writer_is_busy(store, tmp_path):
    _populate(store)
    writer = open_store(store.paths)
    try:
        with writer.transaction():  # an uncommitted write on another connection
            writer.contacts.add(Contact(name="Uncommitted Ursula"))
            r = backup(store, tmp_path / "hot.kith")
    finally:
        writer.close()
    s2 = open_store(store.paths)  # sanity: the writer's commit landed in the live DB
    assert s2.contacts.find_by_name("Uncommitted Ursula")
    s2.close()
    conn = sqlcipher3.connect(r["path"], isolation_level=None)
    conn.execute(K.raw_key_pragma(store.master_key))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM contacts WHERE name LIKE 'Uncommitted%'").fetchone()[0] == 0
    assert conn.execute("SELECT rowid FROM segments_fts WHERE segments_fts MATCH 'zirconium'").fetchall()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    bad = sqlcipher3.connect(r["path"], isolation_level=None)
    bad.execute(K.raw_key_pragma(bytes(32)))
    try:
        bad.execute("SELECT count(*) FROM sqlite_master")
        raise AssertionError("the backup opened with a wrong key")
    except sqlcipher3.DatabaseError:
        pass
    finally:
        bad.close()


def test_check_reports_ok_and_state(store):
    _populate(store)
    r = check(store)
    assert r["ok"] and r["integrity"] == ["ok"] and r["cipher_integrity"] == ["ok"] and r["fts"] == ["ok"]
    assert r["migrations"]["pending"] == [] and r["key"]["mode"] == "keyring"


def test_passphrase_backup_carries_its_salt(paths, tmp_path):
    from tests.store.conftest import FailKeyring
    from app.core.paths import Paths

    FailKeyring.install()
    s = open_store(paths, passphrase="pp")
    s.contacts.add(Contact(name="Salted"))
    r = backup(s, tmp_path / "pp.kith")
    s.close()
    assert Path(r["salt"]).read_bytes() == paths.key_salt_file.read_bytes()
    restored = Paths.under(tmp_path / "restored").ensure()  # restore = copy the two files into a profile
    restored.database.write_bytes(Path(r["path"]).read_bytes())
    restored.key_salt_file.write_bytes(Path(r["salt"]).read_bytes())
    s2 = open_store(restored, passphrase="pp")
    assert [c.name for c in s2.contacts.list()] == ["Salted"]
    s2.close()
