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

REDACTED = "[erased]"


def _rows(conn, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _needles(c) -> list[str]:
    out = [c.name.strip()] + list(c.emails) + [p for p in c.phones if len(p) >= 6]
    return [n for n in out if n and len(n) >= 3]


class _Matcher:
    """Case-insensitive (Unicode) matching/replacing of a person's identifiers."""

    def __init__(self, needles: list[str]):
        self.needles = sorted({n.casefold() for n in needles}, key=len, reverse=True)
        self.rx = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.IGNORECASE)

    def hit(self, text) -> int:
        if text is None:
            return 0
        t = str(text).casefold()
        return int(any(n in t for n in self.needles))

    def sub(self, text: str) -> str:
        return self.rx.sub(REDACTED, text)


def _mentioning(conn, table: str, col: str, extra: str = "") -> list[dict]:
    return _rows(conn, f"SELECT * FROM {table} WHERE kith_mentions({col}) {extra}")


def export_person(store, contact_id: int) -> dict:
    """Every record about a person, as JSON-ready data."""
    from app.core.output import to_jsonable

    c = store.contacts.get(contact_id)
    conn = store.conn
    m = _Matcher(_needles(c))
    conn.create_function("kith_mentions", 1, m.hit, deterministic=True)
    meetings = []
    for mt in store.meetings.meetings_with(contact_id):
        meetings.append({**to_jsonable(mt), "role": store.meetings.participant_roles(mt.id).get(contact_id)})
    segs = _rows(conn, "SELECT id, meeting_id, idx AS \"index\", start, \"end\", speaker, text FROM segments "
                       "WHERE speaker = ? COLLATE NOCASE OR kith_mentions(text) ORDER BY meeting_id, idx", (c.name,))
    acts = [a for a in store.actions.list() if a.owner_contact_id == contact_id or m.hit(a.owner_text) or m.hit(a.text)]
    suggs = [to_jsonable(s) for s in store.suggestions.list(status=None)
             if m.hit(dumps(s.payload)) or s.payload.get("contact_id") == contact_id]
    return to_jsonable({
        "format": "kith.person-export/1",
        "contact": c,
        "company": store.companies.get(c.company_id) if c.company_id else None,
        "meetings": meetings,
        "segments": segs,
        "notes": [{k: r[k] for k in ("id", "meeting_id", "author", "kind", "body", "created_at")}
                  for r in _mentioning(conn, "notes", "body")],
        "action_items": acts,
        "suggestions": suggs,
        "calendar_events": [{**r, "attendees": loads(r["attendees"], [])}
                            for r in _mentioning(conn, "calendar_events", "attendees || title || description")],
        "briefs": [{**r, "contact_ids": loads(r["contact_ids"], []), "data": loads(r["data"], {})}
                   for r in _rows(conn, "SELECT * FROM briefs") if contact_id in loads(r["contact_ids"], [])
                   or m.hit(r["markdown"]) or m.hit(r["data"])],
        "exports": _rows(conn, "SELECT * FROM exports WHERE entity = 'contact' AND local_id = ?", (contact_id,)),
        "audit_log": [{**r, "output": loads(r["output"])} for r in _mentioning(conn, "audit_log", "output")],
    })


def _redact_words(raw: str, name: str) -> str:
    parts = {t.casefold() for t in re.findall(r"\w+", name) if len(t) > 1}
    words = loads(raw, [])
    for w in words:
        text = w[2] if isinstance(w, list) else w.get("text", "")
        if re.sub(r"\W", "", text).casefold() in parts:
            if isinstance(w, list):
                w[2] = " " + REDACTED
            else:
                w["text"] = " " + REDACTED
    return dumps(words)


def erase_person(store, contact_id: int) -> dict:
    """Erase a person and every derived trace, then scrub freed pages. Returns counts (no names)."""
    c = store.contacts.get(contact_id)
    conn = store.conn
    m = _Matcher(_needles(c))
    conn.create_function("kith_mentions", 1, m.hit, deterministic=True)
    n: dict[str, int] = {}
    with store.transaction():
        x = conn.execute
        n["action_owner"] = x("UPDATE action_items SET owner_contact_id = NULL, owner_text = 'unassigned' "
                              "WHERE owner_contact_id = ? OR kith_mentions(owner_text)", (contact_id,)).rowcount
        for table, cols in (("action_items", ["text"]), ("notes", ["body"]), ("meetings", ["title"]),
                            ("contacts", ["notes", "title"]), ("companies", ["notes"]), ("deals", ["next_step", "title", "notes"]),
                            ("calendar_events", ["title", "description", "location"])):
            for col in cols:
                for r in _rows(conn, f"SELECT id, {col} AS v FROM {table} WHERE id != ? AND kith_mentions({col})"
                               if table == "contacts" else f"SELECT id, {col} AS v FROM {table} WHERE kith_mentions({col})",
                               (contact_id,) if table == "contacts" else ()):
                    x(f"UPDATE {table} SET {col} = ? WHERE id = ?", (m.sub(r["v"]), r["id"]))
                    n[table] = n.get(table, 0) + 1
        segs = _rows(conn, "SELECT id, speaker, text, words FROM segments WHERE speaker = ? COLLATE NOCASE "
                           "OR kith_mentions(speaker) OR kith_mentions(text)", (c.name,))
        for r in segs:
            speaker = "Them" if m.hit(r["speaker"]) or r["speaker"].casefold() == c.name.casefold() else r["speaker"]
            words = _redact_words(r["words"], c.name) if m.hit(r["text"]) else r["words"]
            x("UPDATE segments SET speaker = ?, text = ?, words = ? WHERE id = ?", (speaker, m.sub(r["text"]), words, r["id"]))
        n["segments"] = len(segs)
        sugg = [r["id"] for r in _rows(conn, "SELECT id, payload FROM suggestions")
                if m.hit(r["payload"]) or loads(r["payload"], {}).get("contact_id") == contact_id]
        for sid in sugg:
            x("DELETE FROM suggestions WHERE id = ?", (sid,))
        n["suggestions"] = len(sugg)
        for r in _rows(conn, "SELECT id, attendees FROM calendar_events WHERE kith_mentions(attendees)"):
            kept = [a for a in loads(r["attendees"], []) if not m.hit(dumps(a))]
            x("UPDATE calendar_events SET attendees = ? WHERE id = ?", (dumps(kept), r["id"]))
        briefs = [r["id"] for r in _rows(conn, "SELECT id, contact_ids, markdown, data FROM briefs")
                  if contact_id in loads(r["contact_ids"], []) or m.hit(r["markdown"]) or m.hit(r["data"])]
        for bid in briefs:
            x("DELETE FROM briefs WHERE id = ?", (bid,))
        n["briefs"] = len(briefs)
        n["audit_log"] = x("UPDATE audit_log SET output = '{\"redacted\":\"erased person\"}' "
                           "WHERE kith_mentions(output)").rowcount
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
    conn = store.conn
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    cipher = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    fts_problems = []
    for t in migrations.FTS_TABLES:
        try:
            conn.execute(f"INSERT INTO {t}_fts({t}_fts, rank) VALUES ('integrity-check', 1)")
        except Exception as e:  # noqa: BLE001
            fts_problems.append(f"{t}_fts: {e}")
    st = migrations.state(conn)
    result = {
        "path": str(store.path),
        "key": {"mode": store.key_mode, "opens": True},
        "integrity": integrity,
        "cipher_integrity": cipher or ["ok"],
        "foreign_key_violations": len(fk),
        "fts": fts_problems or ["ok"],
        "migrations": st,
        "cipher_version": conn.execute("PRAGMA cipher_version").fetchone()[0],
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
    }
    result["ok"] = (integrity == ["ok"] and not cipher and not fk and not fts_problems and not st["pending"]
                    and not st["unknown"])
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
        finally:
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


__all__ = ["export_person", "erase_person", "rekey", "check", "backup", "compact"]
