"""Repositories for meetings, participants, transcript segments and notes."""
from __future__ import annotations


from app.core.domain import Contact, Meeting, Note, Segment, Word
from app.core.errors import KithError, NotFound
from app.store._util import dt, dumps, loads, now_iso, ts
from app.store.crm import Repo


class Meetings(Repo):
    table = "meetings"
    noun = "meeting"

    @staticmethod
    def _from(r: dict) -> Meeting:
        return Meeting(
            title=r["title"], started_at=dt(r["started_at"]), ended_at=dt(r["ended_at"]),
            calendar_event_id=r["calendar_event_id"], recording_id=r["recording_id"], language=r["language"],
            template=r["template"], status=r["status"], source_file=r["source_file"], id=r["id"],
        )

    def _values(self, m: Meeting) -> tuple:
        if m.started_at is None:
            raise KithError("a meeting needs a start time")
        return (m.title or "", ts(m.started_at), ts(m.ended_at), m.calendar_event_id, m.recording_id, m.language or "",
                m.template or "general", m.status or "new", m.source_file or "")

    def add(self, m: Meeting) -> Meeting:
        with self.s.transaction():
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO meetings (title, started_at, ended_at, calendar_event_id, recording_id, language, template,"
                " status, source_file, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                self._values(m) + (now, now),
            )
            m.id = cur.lastrowid
        return m

    def get(self, id: int) -> Meeting:
        return self._from(self._row(id))

    def update(self, m: Meeting) -> Meeting:
        with self.s.transaction():
            self.get(m.id)
            self.conn.execute(
                "UPDATE meetings SET title=?, started_at=?, ended_at=?, calendar_event_id=?, recording_id=?, language=?,"
                " template=?, status=?, source_file=?, updated_at=? WHERE id=?",
                self._values(m) + (now_iso(), m.id),
            )
        return m

    def list(self, limit: int = 50, query: str | None = None) -> list[Meeting]:
        if query:
            like = f"%{query}%"
            rows = self._rows(
                "SELECT * FROM meetings WHERE title LIKE ? OR id IN (SELECT meeting_id FROM segments WHERE id IN "
                "(SELECT rowid FROM segments_fts WHERE segments_fts MATCH ?)) ORDER BY started_at DESC LIMIT ?",
                (like, _fts_or_never(query), limit),
            )
        else:
            rows = self._rows("SELECT * FROM meetings ORDER BY started_at DESC, id DESC LIMIT ?", (limit,))
        return [self._from(r) for r in rows]

    def delete(self, id: int) -> None:
        with self.s.transaction():
            self.get(id)
            self.conn.execute("DELETE FROM meetings WHERE id = ?", (id,))

    def set_source_hash(self, id: int, sha256: str) -> None:
        with self.s.transaction():
            self.get(id)
            self.conn.execute("UPDATE meetings SET source_sha256 = ? WHERE id = ?", (sha256, id))

    def find_by_source_hash(self, sha256: str) -> Meeting | None:
        rows = self._rows("SELECT * FROM meetings WHERE source_sha256 = ? AND source_sha256 != '' ORDER BY id LIMIT 1",
                          (sha256,))
        return self._from(rows[0]) if rows else None

    def clear_ai_output(self, id: int) -> dict:
        """Drop what an earlier extraction proposed (AI minutes, proposed action items, pending suggestions);
        what the person wrote or accepted stays. Returns counts."""
        with self.s.transaction():
            self.get(id)
            x = self.conn.execute
            return {
                "suggestions": x("DELETE FROM suggestions WHERE meeting_id = ? AND status = 'pending'", (id,)).rowcount,
                "action_items": x("DELETE FROM action_items WHERE meeting_id = ? AND status = 'proposed'", (id,)).rowcount,
                "minutes": x("DELETE FROM notes WHERE meeting_id = ? AND author = 'ai'", (id,)).rowcount,
            }

    def delete_with_derived(self, id: int) -> dict:
        """Delete a meeting with its transcript, notes, action items, suggestions, briefs, participants and the
        audit copies of its extractions. The recording (the source audio) is not touched. Returns counts."""
        with self.s.transaction():
            m = self.get(id)
            x = self.conn.execute
            counts = {t: x(f"SELECT count(*) FROM {t} WHERE meeting_id = ?", (id,)).fetchone()[0]
                      for t in ("segments", "notes", "action_items", "suggestions", "briefs", "meeting_participants")}
            audit = [aid for aid, out in x("SELECT id, output FROM audit_log WHERE action = 'extract'").fetchall()
                     if isinstance(loads(out, None), dict) and loads(out, None).get("meeting_id") == id]
            counts["audit_log"] = len(audit)
            for aid in audit:
                x("DELETE FROM audit_log WHERE id = ?", (aid,))
            x("DELETE FROM meetings WHERE id = ?", (id,))
            counts["recording_kept"] = m.recording_id
        return counts

    def add_participant(self, meeting_id: int, contact_id: int, role: str = "attendee") -> None:
        with self.s.transaction():
            self.get(meeting_id)
            self.s.contacts.get(contact_id)
            self.conn.execute(
                "INSERT INTO meeting_participants (meeting_id, contact_id, role) VALUES (?,?,?) "
                "ON CONFLICT (meeting_id, contact_id) DO UPDATE SET role = excluded.role",
                (meeting_id, contact_id, role),
            )

    def remove_participant(self, meeting_id: int, contact_id: int) -> None:
        with self.s.transaction():
            self.conn.execute(
                "DELETE FROM meeting_participants WHERE meeting_id = ? AND contact_id = ?", (meeting_id, contact_id)
            )

    def participants(self, meeting_id: int) -> list[Contact]:
        ids = [r[0] for r in self.conn.execute(
            "SELECT p.contact_id FROM meeting_participants p JOIN contacts c ON c.id = p.contact_id "
            "WHERE p.meeting_id = ? ORDER BY c.name COLLATE NOCASE", (meeting_id,))]
        return [self.s.contacts.get(i) for i in ids]

    def participant_roles(self, meeting_id: int) -> dict[int, str]:
        return dict(self.conn.execute(
            "SELECT contact_id, role FROM meeting_participants WHERE meeting_id = ?", (meeting_id,)).fetchall())

    def meetings_with(self, contact_id: int) -> list[Meeting]:
        rows = self._rows(
            "SELECT m.* FROM meetings m JOIN meeting_participants p ON p.meeting_id = m.id WHERE p.contact_id = ? "
            "ORDER BY m.started_at DESC", (contact_id,))
        return [self._from(r) for r in rows]


def _fts_or_never(query: str) -> str:
    from app.store.search import fts_query

    return fts_query(query) or '"\x01never\x01"'


def _words_json(words: list[Word]) -> str:
    if not words:
        return "[]"
    return dumps([[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 4)] for w in words or []])


def _words(raw: str) -> list[Word]:
    out = []
    for w in loads(raw, []):
        if isinstance(w, dict):
            out.append(Word(**w))
        else:
            out.append(Word(start=w[0], end=w[1], text=w[2], probability=w[3] if len(w) > 3 else 1.0))
    return out


class Segments(Repo):
    table = "segments"
    noun = "segment"
    _cols = "id, meeting_id, idx, start, \"end\", speaker, channel, text, words"

    @staticmethod
    def _from_tuple(r) -> Segment:
        return Segment(id=r[0], meeting_id=r[1], index=r[2], start=r[3], end=r[4], speaker=r[5], channel=r[6],
                       text=r[7], words=_words(r[8]))

    def add_many(self, meeting_id: int, segments: list[Segment]) -> list[Segment]:
        """Append segments to a meeting; ``index`` continues after the last stored one."""
        with self.s.transaction():
            if not self.s.meetings.exists(meeting_id):
                raise NotFound(f"no meeting with id {meeting_id}")
            last = self.conn.execute("SELECT COALESCE(MAX(idx), 0) FROM segments WHERE meeting_id = ?", (meeting_id,))
            n = last.fetchone()[0]
            first_id = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM segments").fetchone()[0] + 1
            rows = []
            for seg in segments:
                n += 1
                seg.meeting_id, seg.index = meeting_id, n
                rows.append((meeting_id, n, float(seg.start), float(seg.end), seg.speaker or "", int(seg.channel),
                             seg.text or "", _words_json(seg.words)))
            # one statement for the batch; under the write lock rowids are MAX(id)+1, +2, … (no AUTOINCREMENT)
            self.conn.execute("INSERT INTO _fts_bulk (tbl) VALUES ('segments')")  # per-row FTS trigger stands aside
            self.conn.executemany(
                "INSERT INTO segments (meeting_id, idx, start, \"end\", speaker, channel, text, words) "
                "VALUES (?,?,?,?,?,?,?,?)", rows)
            self.conn.execute("INSERT INTO segments_fts (rowid, text, speaker) SELECT id, text, speaker FROM segments "
                              "WHERE id BETWEEN ? AND ?", (first_id, first_id + len(rows) - 1))
            self.conn.execute("DELETE FROM _fts_bulk")
            for k, seg in enumerate(segments):
                seg.id = first_id + k
            if segments:
                last_id = self.conn.execute("SELECT MAX(id) FROM segments").fetchone()[0]
                if last_id != first_id + len(segments) - 1:  # pragma: no cover - guards the assumption above
                    raise KithError("segment ids were not assigned in sequence")
        return segments

    def for_meeting(self, meeting_id: int) -> list[Segment]:
        cur = self.conn.execute(f"SELECT {self._cols} FROM segments WHERE meeting_id = ? ORDER BY idx", (meeting_id,))
        return [self._from_tuple(r) for r in cur]

    def get(self, id: int) -> Segment:
        got = self.get_many([id])
        if not got:
            raise NotFound(f"no segment with id {id}")
        return got[0]

    def get_many(self, ids: list[int]) -> list[Segment]:
        ids = [int(i) for i in ids]
        out: dict[int, Segment] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT {self._cols} FROM segments WHERE id IN ({marks})", chunk):
                out[r[0]] = self._from_tuple(r)
        return [out[i] for i in ids if i in out]

    def by_index(self, meeting_id: int, index: int) -> Segment | None:
        r = self.conn.execute(f"SELECT {self._cols} FROM segments WHERE meeting_id = ? AND idx = ?", (meeting_id, index))
        row = r.fetchone()
        return self._from_tuple(row) if row else None

    def replace(self, meeting_id: int, segments: list[Segment]) -> list[Segment]:
        """Replace a meeting's transcript (the final pass). Evidence ids pointing at old segments go stale."""
        with self.s.transaction():
            self.conn.execute("DELETE FROM segments WHERE meeting_id = ?", (meeting_id,))
            for seg in segments:
                seg.id = None
            return self.add_many(meeting_id, segments)

    def update_speaker(self, segment_ids: list[int] | None = None, speaker: str = "", *, meeting_id: int | None = None,
                       old_speaker: str | None = None) -> int:
        """Rename a speaker on given segments, or on every segment of ``meeting_id`` spoken by ``old_speaker``."""
        with self.s.transaction():
            if segment_ids is not None:
                n = 0
                for sid in segment_ids:
                    n += self.conn.execute("UPDATE segments SET speaker = ? WHERE id = ?", (speaker, sid)).rowcount
                return n
            if meeting_id is None or old_speaker is None:
                raise KithError("update_speaker needs segment ids, or a meeting id and the old speaker")
            return self.conn.execute("UPDATE segments SET speaker = ? WHERE meeting_id = ? AND speaker = ?",
                                     (speaker, meeting_id, old_speaker)).rowcount

    def update_text(self, segment_id: int, text: str) -> None:
        with self.s.transaction():
            self.conn.execute("UPDATE segments SET text = ? WHERE id = ?", (text, segment_id))

    def count(self, meeting_id: int | None = None) -> int:
        if meeting_id is None:
            return self.conn.execute("SELECT count(*) FROM segments").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM segments WHERE meeting_id = ?", (meeting_id,)).fetchone()[0]


class Notes(Repo):
    table = "notes"
    noun = "note"

    @staticmethod
    def _from(r: dict) -> Note:
        return Note(meeting_id=r["meeting_id"], author=r["author"], body=r["body"], kind=r["kind"], id=r["id"],
                    created_at=dt(r["created_at"]))

    def add(self, n: Note) -> Note:
        if n.author not in ("user", "ai"):
            raise KithError(f"note author must be 'user' or 'ai', not {n.author!r}")
        with self.s.transaction():
            now = now_iso()
            cur = self.conn.execute(
                "INSERT INTO notes (meeting_id, author, kind, body, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (n.meeting_id, n.author, n.kind or "notes", n.body or "", now, now),
            )
            n.id, n.created_at = cur.lastrowid, dt(now)
        return n

    def get(self, id: int) -> Note:
        return self._from(self._row(id))

    def update(self, n: Note) -> Note:
        with self.s.transaction():
            self.get(n.id)
            self.conn.execute("UPDATE notes SET body = ?, kind = ?, updated_at = ? WHERE id = ?",
                              (n.body, n.kind, now_iso(), n.id))
        return n

    def delete(self, id: int) -> None:
        with self.s.transaction():
            self.conn.execute("DELETE FROM notes WHERE id = ?", (id,))

    def minutes(self, meeting_id: int) -> list[Note]:
        """The AI minutes of a meeting (the one answer to "what are its minutes")."""
        return [n for n in self.for_meeting(meeting_id, kind="minutes") if n.author == "ai"]

    def user_notes(self, meeting_id: int) -> list[Note]:
        """What the person wrote themselves about a meeting."""
        return [n for n in self.for_meeting(meeting_id) if n.author == "user"]

    @staticmethod
    def is_minutes(n: Note) -> bool:
        return n.kind == "minutes" and n.author == "ai"

    def for_meeting(self, meeting_id: int, kind: str | None = None) -> list[Note]:
        if kind is None:
            rows = self._rows("SELECT * FROM notes WHERE meeting_id = ? ORDER BY id", (meeting_id,))
        else:
            rows = self._rows("SELECT * FROM notes WHERE meeting_id = ? AND kind = ? ORDER BY id", (meeting_id, kind))
        return [self._from(r) for r in rows]
