"""Data rights and upkeep: export or erase a person, rekey, check, backup."""
from __future__ import annotations

import os
import re
from pathlib import Path

from app.core.domain import AuditEntry
from app.core.errors import KithError
from app.store import keys as K
from app.store import migrations
from app.store._util import dumps, loads

from app.store.person_scope import REDACTED, meeting_of_audit, name_tokens, scope


def _rows(conn, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _bind(conn, sc) -> None:
    """SQL functions over the person's scope: kith_mentions(meeting_id, text), kith_label(meeting_id, speaker)."""
    conn.create_function("kith_mentions", 2, lambda mid, t: sc.hit(mid, t), deterministic=True)
    conn.create_function("kith_label", 2, lambda mid, s: int(sc.at(mid).is_label(s)), deterministic=True)
    conn.create_function("kith_audit_hit", 1, lambda out: sc.hit(meeting_of_audit(out), out), deterministic=True)


def _events_of(conn, sc) -> dict[int, int]:
    """calendar event id → one of the person's meetings it belongs to."""
    out: dict[int, int] = {}
    for mid in sc.meetings:
        r = conn.execute("SELECT calendar_event_id FROM meetings WHERE id = ?", (mid,)).fetchone()
        if r and r[0] is not None:
            out.setdefault(r[0], mid)
    return out


def export_person(store, contact_id: int) -> dict:
    """Every record about a person, as JSON-ready data (their own lines and the short forms of their name
    used in their meetings included)."""
    from app.core.output import to_jsonable

    c = store.contacts.get(contact_id)
    conn = store.conn
    sc = scope(store, contact_id)
    _bind(conn, sc)
    roles = {}
    for mt in store.meetings.meetings_with(contact_id):
        roles[mt.id] = store.meetings.participant_roles(mt.id).get(contact_id)
    meetings = [{**to_jsonable(store.meetings.get(mid)), "role": roles.get(mid)} for mid in sorted(set(roles) | set(sc.meetings))]
    segs = _rows(conn, "SELECT id, meeting_id, idx AS \"index\", start, \"end\", speaker, text FROM segments "
                       "WHERE kith_label(meeting_id, speaker) OR kith_mentions(meeting_id, text) ORDER BY meeting_id, idx")
    acts = [a for a in store.actions.list() if a.owner_contact_id == contact_id
            or sc.hit(a.meeting_id, a.owner_text) or sc.hit(a.meeting_id, a.text)]
    suggs = [to_jsonable(s) for s in store.suggestions.list(status=None)
             if sc.hit(s.meeting_id, dumps(s.payload)) or s.payload.get("contact_id") == contact_id]
    ev = _events_of(conn, sc)
    return to_jsonable({
        "format": "kith.person-export/1",
        "contact": c,
        "company": store.companies.get(c.company_id) if c.company_id else None,
        "name_forms": sorted({w for m in sc.meetings.values() for w in m.words}),
        "meetings": meetings,
        "segments": segs,
        "notes": [{k: r[k] for k in ("id", "meeting_id", "author", "kind", "body", "created_at")}
                  for r in _rows(conn, "SELECT * FROM notes WHERE kith_mentions(meeting_id, body)")],
        "action_items": acts,
        "suggestions": suggs,
        "calendar_events": [{**r, "attendees": loads(r["attendees"], [])}
                            for r in _rows(conn, "SELECT * FROM calendar_events")
                            if sc.hit(ev.get(r["id"]), (r["attendees"] or "") + (r["title"] or "") + (r["description"] or ""))],
        "briefs": [{**r, "contact_ids": loads(r["contact_ids"], []), "data": loads(r["data"], {})}
                   for r in _rows(conn, "SELECT * FROM briefs") if contact_id in loads(r["contact_ids"], [])
                   or sc.hit(r["meeting_id"], r["markdown"]) or sc.hit(r["meeting_id"], r["data"])],
        "exports": _rows(conn, "SELECT * FROM exports WHERE entity = 'contact' AND local_id = ?", (contact_id,)),
        "audit_log": [{**r, "output": loads(r["output"])} for r in _rows(conn, "SELECT * FROM audit_log WHERE kith_audit_hit(output)")],
    })


def _redact_words(raw: str, forms: set[str]) -> str:
    words = loads(raw, [])
    for w in words:
        text = w[2] if isinstance(w, list) else w.get("text", "")
        if re.sub(r"\W", "", text).casefold() in forms:
            if isinstance(w, list):
                w[2] = " " + REDACTED
            else:
                w["text"] = " " + REDACTED
    return dumps(words)


def erase_person(store, contact_id: int) -> dict:
    """Erase a person and every derived trace, then scrub freed pages. Returns counts of what changed (no names)."""
    c = store.contacts.get(contact_id)
    conn = store.conn
    sc = scope(store, contact_id)
    _bind(conn, sc)
    full = name_tokens(c.name)
    n: dict[str, int] = {"their_meetings": len(sc.meetings),
                         "name_forms": len({w for m in sc.meetings.values() for w in m.words})}
    with store.transaction():
        x = conn.execute
        n["action_owner"] = x("UPDATE action_items SET owner_contact_id = NULL, owner_text = 'unassigned' "
                              "WHERE owner_contact_id = ? OR kith_mentions(meeting_id, owner_text)", (contact_id,)).rowcount
        for table, cols, mid in (("action_items", ["text"], "meeting_id"), ("notes", ["body"], "meeting_id"),
                                 ("meetings", ["title"], "id"), ("contacts", ["notes", "title"], "NULL"),
                                 ("companies", ["notes"], "NULL"), ("deals", ["next_step", "title", "notes"], "NULL")):
            for col in cols:
                for r in _rows(conn, f"SELECT id, {mid} AS mid, {col} AS v FROM {table} WHERE id != ? "
                                     f"AND kith_mentions({mid}, {col})", (contact_id if table == "contacts" else -1,)):
                    x(f"UPDATE {table} SET {col} = ? WHERE id = ?", (sc.at(r["mid"]).sub(r["v"]), r["id"]))
                    n[table] = n.get(table, 0) + 1
        ev = _events_of(conn, sc)
        for r in _rows(conn, "SELECT id, title, description, location, attendees FROM calendar_events"):
            m = sc.at(ev.get(r["id"]))
            if not any(m.hit(r[k]) for k in ("title", "description", "location", "attendees")):
                continue
            kept = [a for a in loads(r["attendees"], []) if not m.hit(dumps(a))]
            x("UPDATE calendar_events SET title = ?, description = ?, location = ?, attendees = ? WHERE id = ?",
              (m.sub(r["title"]), m.sub(r["description"]), m.sub(r["location"]), dumps(kept), r["id"]))
            n["calendar_events"] = n.get("calendar_events", 0) + 1
        segs = _rows(conn, "SELECT id, meeting_id, speaker, text, words FROM segments "
                           "WHERE kith_label(meeting_id, speaker) OR kith_mentions(meeting_id, speaker) "
                           "OR kith_mentions(meeting_id, text)")
        for r in segs:
            m = sc.at(r["meeting_id"])
            speaker = "Them" if m.is_label(r["speaker"]) or m.hit(r["speaker"]) else r["speaker"]
            words = _redact_words(r["words"], full | set(m.words)) if m.hit(r["text"]) else r["words"]
            x("UPDATE segments SET speaker = ?, text = ?, words = ? WHERE id = ?", (speaker, m.sub(r["text"]), words, r["id"]))
        n["segments"] = len(segs)
        sugg = [r["id"] for r in _rows(conn, "SELECT id, meeting_id, payload FROM suggestions")
                if sc.hit(r["meeting_id"], r["payload"]) or loads(r["payload"], {}).get("contact_id") == contact_id]
        for sid in sugg:
            x("DELETE FROM suggestions WHERE id = ?", (sid,))
        n["suggestions"] = len(sugg)
        briefs = [r["id"] for r in _rows(conn, "SELECT id, meeting_id, contact_ids, markdown, data FROM briefs")
                  if contact_id in loads(r["contact_ids"], []) or sc.hit(r["meeting_id"], r["markdown"])
                  or sc.hit(r["meeting_id"], r["data"])]
        for bid in briefs:
            x("DELETE FROM briefs WHERE id = ?", (bid,))
        n["briefs"] = len(briefs)
        n["audit_log"] = x("UPDATE audit_log SET output = '{\"redacted\":\"erased person\"}' "
                           "WHERE kith_audit_hit(output)").rowcount
        # the remote ids, sent-fingerprints ("fp:contact") and note links ("note_link:<note>:contact") of this person
        x("DELETE FROM exports WHERE local_id = ? AND (entity IN ('contact', 'fp:contact') "
          "OR entity LIKE 'note\\_link:%:contact' ESCAPE '\\')", (contact_id,))
        n["voice_profiles"] = x("DELETE FROM voice_profiles WHERE contact_id = ?", (contact_id,)).rowcount
        # their voice stays in the audio of these meetings: reported, so the person can delete those recordings
        n["recordings_with_their_voice"] = x(
            "SELECT count(*) FROM meetings WHERE recording_id IS NOT NULL AND id IN "
            "(SELECT meeting_id FROM meeting_participants WHERE contact_id = ?)", (contact_id,)).fetchone()[0]
        n["participants"] = x("DELETE FROM meeting_participants WHERE contact_id = ?", (contact_id,)).rowcount
        x("DELETE FROM contacts WHERE id = ?", (contact_id,))
        for fts in migrations.FTS_TABLES:  # merge FTS segments so deleted terms leave the index b-trees
            x(f"INSERT INTO {fts}_fts({fts}_fts) VALUES ('optimize')")
        store.audit.record(AuditEntry(actor="user", action="person.erase", output={"contact_id": contact_id}))
    compact(store)
    return n


def scrub(store) -> None:
    """After deleting: merge the search index (deleted terms leave its b-trees), then compact."""
    with store.transaction():
        for fts in migrations.FTS_TABLES:
            store.conn.execute(f"INSERT INTO {fts}_fts({fts}_fts) VALUES ('optimize')")
    compact(store)


def compact(store) -> None:
    """Rewrite the file so no freed page or WAL frame keeps old data (secure_delete is on as well)."""
    conn = store.conn
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# -- keys ------------------------------------------------------------------------------------
def rekey(store, new_passphrase: str | None = None) -> str:
    """Re-encrypt the database under a new key. Returns the new key mode.

    * keyring mode, no passphrase: rotate to a fresh random key in the keyring;
    * any mode with ``new_passphrase``: switch to / change the passphrase (new salt);
    * passphrase mode, no passphrase: move the key into the keyring (when one works).
    A crash at any point leaves a key that opens the file (pending entries are finished on open).
    """
    paths = store.paths
    salt_new = paths.key_salt_file.with_name(paths.key_salt_file.name + ".new")
    conn = store.conn
    if new_passphrase is not None:
        salt = K.new_master_key()[: K.SALT_BYTES]
        key = K.passphrase_key(new_passphrase, salt)
        K.write_salt(salt_new, salt)
        conn.execute(K.raw_key_pragma(key, "rekey"))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        K.write_salt(paths.key_salt_file, salt)
        salt_new.unlink(missing_ok=True)
        if store.key_mode == "keyring":
            kr = K.Keyring()
            if kr.usable:
                kr.delete(K.USERNAME)
        store._master = K.MasterKey(key, "passphrase")
        return "passphrase"
    kr = K.Keyring()
    if not kr.usable:
        raise K.KeyError_(f"cannot rotate the key: {kr.problem}",
                          hint="give a new passphrase instead (kith db rekey --passphrase)")
    key = K.new_master_key()
    kr.set(key, K.PENDING_USERNAME)
    conn.execute(K.raw_key_pragma(key, "rekey"))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kr.set(key)
    paths.key_salt_file.unlink(missing_ok=True)
    kr.delete(K.PENDING_USERNAME)
    store._master = K.MasterKey(key, "keyring")
    return "keyring"


# -- check & backup --------------------------------------------------------------------------
def check(store) -> dict:
    """Integrity, page authentication, search index, schema and which tables are readable.
    Never raises on damage: each probe runs on its own read-only connection and reports its own error."""
    from app.store.repair import probe, readable_tables, reader, safe_rows

    rd = reader(store)
    integrity = safe_rows(rd, "PRAGMA integrity_check")
    cipher = safe_rows(rd, "PRAGMA cipher_integrity_check")
    fk = safe_rows(rd, "PRAGMA foreign_key_check")
    fk_n = 0 if not fk else (len(fk) if not fk[0].startswith("error:") else -1)
    fts_problems = []
    for t in migrations.FTS_TABLES:  # FTS5's own check writes nothing but needs a writable handle: the store's
        if store.damage is not None:
            status, v = probe(rd, lambda c, t=t: c.execute(f"SELECT count(*) FROM {t}_fts_data").fetchone())
            if status != "ok":
                fts_problems.append(f"{t}_fts: {v}")
            continue
        try:
            store.conn.execute(f"INSERT INTO {t}_fts({t}_fts, rank) VALUES ('integrity-check', 1)")
        except Exception as e:  # noqa: BLE001
            fts_problems.append(f"{t}_fts: {e}")
    status, st = probe(rd, migrations.state)
    if status != "ok":
        st = {"user_version": None, "known": len(migrations.MIGRATIONS), "applied": [], "pending": [],
              "unknown": [], "error": st}
    tables = readable_tables(rd)
    bad_pages = sorted({int(m) for line in cipher for m in re.findall(r"page (\d+)", line)})
    result = {
        "path": str(store.path),
        "key": {"mode": store.key_mode, "opens": True},
        "integrity": integrity,
        "cipher_integrity": cipher or ["ok"],
        "damaged_pages": bad_pages,
        "tables": tables,
        "unreadable_tables": sorted(t for t, v in tables.items() if not v["ok"]),
        "foreign_key_violations": fk_n,
        "fts": fts_problems or ["ok"],
        "migrations": st,
        "cipher_version": (safe_rows(rd, "PRAGMA cipher_version") or [""])[0],
        "journal_mode": (safe_rows(rd, "PRAGMA journal_mode") or [""])[0],
    }
    result["ok"] = (integrity == ["ok"] and not cipher and fk_n == 0 and not fts_problems and not st["pending"]
                    and not st["unknown"] and not st.get("error") and not result["unreadable_tables"])
    return result


def backup(store, dest: Path | str, overwrite: bool = False) -> dict:
    """An encrypted copy (same key) made through a separate read snapshot; safe while Kith writes."""
    from app.store.db import _connect

    dest = Path(dest).expanduser().resolve()
    if dest == Path(store.path).resolve():
        raise KithError("the backup cannot replace the live database", hint="choose another path")
    if dest.exists() and not overwrite:
        raise KithError(f"{dest} already exists", hint="choose a new file name or pass --force")
    if not dest.parent.is_dir():
        raise KithError(f"{dest.parent} is not a folder")
    part = dest.with_name(dest.name + ".partial")
    part.unlink(missing_ok=True)
    src = _connect(Path(store.path), store.master_key, create=False)
    try:
        esc = str(part).replace("'", "''")
        src.execute(f"ATTACH DATABASE '{esc}' AS kith_backup KEY \"x'{store.master_key.hex()}'\"")
        try:
            src.execute("BEGIN")
            version = src.execute("PRAGMA main.user_version").fetchone()[0]
            src.execute("SELECT sqlcipher_export('kith_backup')")
            src.execute(f"PRAGMA kith_backup.user_version = {int(version)}")
            src.execute("COMMIT")
        except BaseException as e:  # the real error, not the DETACH's "kith_backup is locked"
            if src.in_transaction:
                src.execute("ROLLBACK")
            src.execute("DETACH DATABASE kith_backup")
            from app.store.repair import damage_error

            damage = damage_error(e) if isinstance(e, Exception) else None
            if damage is not None:
                raise KithError(f"the backup stopped: {damage.message}",
                                hint="a backup copies every page; " + (damage.hint or "")) from e
            raise
        src.execute("DETACH DATABASE kith_backup")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    with open(part, "rb") as f:
        os.fsync(f.fileno())
    check_conn = _connect(part, store.master_key, create=False)
    try:
        ok = check_conn.execute("PRAGMA quick_check").fetchone()[0]
        tables = check_conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        check_conn.close()
    if ok != "ok":
        part.unlink(missing_ok=True)
        raise KithError(f"the backup failed its check ({ok})", hint="try again; the database itself is unchanged")
    os.replace(part, dest)
    os.chmod(dest, 0o600)
    out = {"path": str(dest), "bytes": dest.stat().st_size, "schema_objects": tables, "key_mode": store.key_mode}
    if store.key_mode == "passphrase":  # the passphrase alone is not enough: the scrypt salt travels with it
        salt_copy = dest.with_name(dest.name + ".salt")
        K.write_salt(salt_copy, K.read_salt(store.paths.key_salt_file))
        out["salt"] = str(salt_copy)
    return out


__all__ = ["export_person", "erase_person", "rekey", "check", "backup", "compact", "scrub"]
