"""Ordered, named schema migrations recorded in ``_migrations`` (after simonw/llm).

Each migration is a function taking the connection; it runs inside one transaction with
the ``_migrations`` row and ``PRAGMA user_version`` (= number of known migrations applied).
A database written by a newer Kith (higher user_version, or a migration name we do not
know) is refused before anything is written.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from app.core.errors import KithError

Migration = tuple[str, Callable]
MIGRATIONS: list[Migration] = []


def migration(fn: Callable) -> Callable:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


class NewerSchema(KithError):
    exit_code = 1


FTS_TOKENIZE = "unicode61 remove_diacritics 2"


def _fts(conn, table: str, columns: list[str], bulk_guard: bool = False) -> None:
    """External-content FTS5 table over ``table`` kept in sync by triggers.

    With ``bulk_guard`` the insert trigger stands aside while a row exists in ``_fts_bulk``
    (only ever inside the writer's own transaction): the repository then indexes the whole
    batch with one INSERT … SELECT. A trigger per row makes FTS5 flush a tiny index segment
    per statement (it syncs on every savepoint), which is ~4-10× slower for a transcript."""
    fts = f"{table}_fts"
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    conn.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', tokenize='{FTS_TOKENIZE}')"
    )
    when = "WHEN NOT EXISTS (SELECT 1 FROM _fts_bulk) " if bulk_guard else ""
    conn.execute(
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} {when}BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    conn.execute(
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    conn.execute(
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
    )


_FTS_M001 = {"segments": ["text", "speaker"], "notes": ["body"], "contacts": ["name", "emails", "title", "notes"]}
FTS_TABLES = {**_FTS_M001, "action_items": ["text", "owner_text"]}  # every FTS index (m003 adds action items)


@migration
def m001_initial(conn) -> None:
    x = conn.execute
    x("""CREATE TABLE companies (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, domain TEXT UNIQUE COLLATE NOCASE,
        notes TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT 'user',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("""CREATE TABLE contacts (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, emails TEXT NOT NULL DEFAULT '[]',
        phones TEXT NOT NULL DEFAULT '[]', title TEXT NOT NULL DEFAULT '',
        company_id INTEGER REFERENCES companies(id) ON DELETE SET NULL,
        notes TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT 'user',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("CREATE INDEX contacts_company ON contacts(company_id)")
    # email is the natural key of a person: one row per address, unique across contacts
    x("""CREATE TABLE contact_emails (
        email TEXT PRIMARY KEY COLLATE NOCASE,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE)""")
    x("CREATE INDEX contact_emails_contact ON contact_emails(contact_id)")
    x("""CREATE TABLE deals (
        id INTEGER PRIMARY KEY, company_id INTEGER REFERENCES companies(id) ON DELETE SET NULL,
        title TEXT NOT NULL, stage TEXT NOT NULL DEFAULT '', amount REAL, currency TEXT NOT NULL DEFAULT '',
        next_step TEXT NOT NULL DEFAULT '', close_date TEXT, notes TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'user',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("CREATE INDEX deals_company ON deals(company_id)")
    x("""CREATE TABLE recordings (
        id INTEGER PRIMARY KEY, path TEXT NOT NULL, channels INTEGER NOT NULL DEFAULT 1,
        sample_rate INTEGER NOT NULL DEFAULT 16000, duration REAL NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'recording' CHECK (state IN ('recording','finished','recovered','deleted')),
        meta TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("""CREATE TABLE calendar_sources (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
        config TEXT NOT NULL DEFAULT '{}', sync_token TEXT, synced_at TEXT, created_at TEXT NOT NULL)""")
    x("""CREATE TABLE calendar_events (
        id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL REFERENCES calendar_sources(id) ON DELETE CASCADE,
        external_id TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', start TEXT NOT NULL, "end" TEXT,
        attendees TEXT NOT NULL DEFAULT '[]', location TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
        etag TEXT, status TEXT NOT NULL DEFAULT 'confirmed', updated_at TEXT NOT NULL,
        UNIQUE (source_id, external_id))""")
    x("CREATE INDEX calendar_events_start ON calendar_events(start)")
    x("""CREATE TABLE meetings (
        id INTEGER PRIMARY KEY, title TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
        calendar_event_id INTEGER REFERENCES calendar_events(id) ON DELETE SET NULL,
        recording_id INTEGER REFERENCES recordings(id) ON DELETE SET NULL,
        language TEXT NOT NULL DEFAULT '', template TEXT NOT NULL DEFAULT 'general',
        status TEXT NOT NULL DEFAULT 'new', source_file TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("CREATE INDEX meetings_started ON meetings(started_at)")
    x("""CREATE TABLE meeting_participants (
        meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        role TEXT NOT NULL DEFAULT 'attendee', PRIMARY KEY (meeting_id, contact_id))""")
    x("CREATE INDEX meeting_participants_contact ON meeting_participants(contact_id)")
    # idx = position of the segment in its meeting (1-based), the [S12] the LLM cites
    x("""CREATE TABLE segments (
        id INTEGER PRIMARY KEY, meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL, speaker TEXT NOT NULL DEFAULT '',
        channel INTEGER NOT NULL DEFAULT -1, text TEXT NOT NULL, words TEXT NOT NULL DEFAULT '[]',
        UNIQUE (meeting_id, idx))""")
    x("""CREATE TABLE notes (
        id INTEGER PRIMARY KEY, meeting_id INTEGER REFERENCES meetings(id) ON DELETE CASCADE,
        author TEXT NOT NULL CHECK (author IN ('user','ai')), kind TEXT NOT NULL DEFAULT 'notes',
        body TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("CREATE INDEX notes_meeting ON notes(meeting_id)")
    x("""CREATE TABLE action_items (
        id INTEGER PRIMARY KEY, meeting_id INTEGER REFERENCES meetings(id) ON DELETE CASCADE,
        owner_contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        owner_text TEXT NOT NULL DEFAULT 'unassigned', text TEXT NOT NULL, due_date TEXT,
        status TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed','open','done','dismissed')),
        evidence TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    x("CREATE INDEX action_items_meeting ON action_items(meeting_id)")
    x("CREATE INDEX action_items_owner ON action_items(owner_contact_id)")
    x("""CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY, meeting_id INTEGER REFERENCES meetings(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}', evidence TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','rejected')),
        reason TEXT NOT NULL DEFAULT '', result TEXT, created_at TEXT NOT NULL, decided_at TEXT)""")
    x("CREATE INDEX suggestions_status ON suggestions(status, meeting_id)")
    x("""CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '', model_sha256 TEXT NOT NULL DEFAULT '', template TEXT NOT NULL DEFAULT '',
        prompt_sha256 TEXT NOT NULL DEFAULT '', output TEXT)""")
    x("""CREATE TABLE briefs (
        id INTEGER PRIMARY KEY, event_id INTEGER REFERENCES calendar_events(id) ON DELETE CASCADE,
        meeting_id INTEGER REFERENCES meetings(id) ON DELETE CASCADE, contact_ids TEXT NOT NULL DEFAULT '[]',
        markdown TEXT NOT NULL DEFAULT '', data TEXT NOT NULL DEFAULT '{}', generated_at TEXT NOT NULL,
        inputs_hash TEXT NOT NULL DEFAULT '')""")
    x("CREATE INDEX briefs_event ON briefs(event_id)")
    x("""CREATE TABLE exports (
        entity TEXT NOT NULL, local_id INTEGER NOT NULL, target TEXT NOT NULL, remote_id TEXT NOT NULL,
        exported_at TEXT NOT NULL, PRIMARY KEY (entity, local_id, target))""")
    x("CREATE TABLE _fts_bulk (tbl TEXT NOT NULL)")  # empty in every committed state
    for table, cols in _FTS_M001.items():
        _fts(conn, table, cols, bulk_guard=table == "segments")


# -- runner ----------------------------------------------------------------------------------
@migration
def m002_voice_profiles(conn) -> None:
    """Confirmed voices (app.speakers.profiles): encrypted with the rest, gone with the person."""
    conn.execute("""CREATE TABLE IF NOT EXISTS voice_profiles (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        embedding BLOB NOT NULL,
        model TEXT NOT NULL,
        meeting_id INTEGER REFERENCES meetings(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL)""")
    conn.execute("CREATE INDEX IF NOT EXISTS voice_profiles_contact ON voice_profiles(contact_id)")


@migration
def m003_meeting_source_hash(conn) -> None:
    """The sha256 of the file a meeting came from: importing it again finds the meeting (no duplicate)."""
    cols = [r[1] for r in conn.execute("PRAGMA table_info(meetings)")]
    if "source_sha256" not in cols:
        conn.execute("ALTER TABLE meetings ADD COLUMN source_sha256 TEXT NOT NULL DEFAULT ''")
    conn.execute("CREATE INDEX IF NOT EXISTS meetings_source_sha256 ON meetings(source_sha256)")


@migration
def m004_ask_vectors(conn) -> None:
    """Ask (issue 18): sentence embeddings of transcript lines, inside the encrypted file, gone with the
    segment or meeting (cascade) and dropped when a line's text changes (an erased name, a correction)
    so no vector keeps what the text no longer says; plus bm25 over action items."""
    conn.execute("""CREATE TABLE segment_vectors (
        segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        vector BLOB NOT NULL)""")
    conn.execute("CREATE INDEX segment_vectors_meeting ON segment_vectors(meeting_id)")  # cascades
    conn.execute("CREATE INDEX segment_vectors_model ON segment_vectors(model, meeting_id)")  # counts without the BLOBs
    # a line's vector also encodes the line before it (app.embed.index): both go stale with its text
    conn.execute("CREATE TRIGGER segments_vec_stale AFTER UPDATE OF text ON segments BEGIN "
                 "DELETE FROM segment_vectors WHERE segment_id = old.id OR segment_id = "
                 "(SELECT id FROM segments WHERE meeting_id = old.meeting_id AND idx = old.idx + 1); END")
    _fts(conn, "action_items", FTS_TABLES["action_items"])
    conn.execute("INSERT INTO action_items_fts(rowid, text, owner_text) SELECT id, text, owner_text FROM action_items")


def _applied(conn) -> list[str]:
    has = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'").fetchone()
    if not has:
        return []
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def state(conn) -> dict:
    known = [name for name, _ in MIGRATIONS]
    applied = _applied(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return {
        "user_version": version,
        "known": len(known),
        "applied": applied,
        "pending": [n for n in known if n not in applied],
        "unknown": [n for n in applied if n not in known],
    }


def check_not_newer(conn, path: str = "the database") -> dict:
    st = state(conn)
    if st["user_version"] > st["known"] or st["unknown"]:
        raise NewerSchema(
            f"{path} was written by a newer version of Kith (schema {st['user_version']}, "
            f"this version knows {st['known']}{'; unknown migrations: ' + ', '.join(st['unknown']) if st['unknown'] else ''})",
            hint="upgrade Kith; nothing was changed",
        )
    return st


def migrate(conn, path: str = "the database") -> list[str]:
    """Apply pending migrations in order. Returns the names applied."""
    st = check_not_newer(conn, path)
    if not st["pending"]:
        return []
    done = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        applied = set(_applied(conn))
        for name, fn in MIGRATIONS:
            if name in applied:
                continue
            fn(conn)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, datetime.now(timezone.utc).isoformat())
            )
            done.append(name)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done
