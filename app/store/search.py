"""Full-text search across people, notes and transcripts (FTS5, bm25 ranking)."""
from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+", re.UNICODE)


MIN_PREFIX = 3  # a shorter prefix matches too many terms to be useful (or fast)


def fts_query(text: str, prefix: bool = True) -> str:
    """User text → a safe FTS5 query: every word must match; the last one also as a prefix
    (search as you type) when it has at least MIN_PREFIX characters."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return ""
    parts = [f'"{t}"' for t in tokens]
    if prefix and len(tokens[-1]) >= MIN_PREFIX:
        parts[-1] += "*"
    return " ".join(parts)


def _ts(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


def search(store, query: str, limit: int = 20, prefix: bool = True):
    from app.store.db import SearchHit

    q = fts_query(query, prefix)
    if not q:
        return []
    conn = store.conn
    hits: list[SearchHit] = []
    for r in conn.execute(
        "SELECT c.id, c.name, snippet(contacts_fts, -1, '[', ']', '…', 12), f.rank FROM contacts_fts f "
        "JOIN contacts c ON c.id = f.rowid WHERE contacts_fts MATCH ? ORDER BY f.rank LIMIT ?", (q, limit)):
        hits.append(SearchHit("contact", r[0], None, r[1], r[2], r[3]))
    for r in conn.execute(
        "SELECT n.id, n.meeting_id, COALESCE(m.title, 'note'), snippet(notes_fts, 0, '[', ']', '…', 16), f.rank "
        "FROM notes_fts f JOIN notes n ON n.id = f.rowid LEFT JOIN meetings m ON m.id = n.meeting_id "
        "WHERE notes_fts MATCH ? ORDER BY f.rank LIMIT ?", (q, limit)):
        hits.append(SearchHit("note", r[0], r[1], r[2], r[3], r[4]))
    # rank first over the FTS index alone, then join the few winners (fast on 1M segments)
    for r in conn.execute(
        "WITH top AS (SELECT rowid, rank, snippet(segments_fts, 0, '[', ']', '…', 16) AS snip FROM segments_fts "
        "WHERE segments_fts MATCH ? ORDER BY rank LIMIT ?) "
        "SELECT s.id, s.meeting_id, m.title, s.start, s.speaker, top.snip, top.rank FROM top "
        "JOIN segments s ON s.id = top.rowid JOIN meetings m ON m.id = s.meeting_id ORDER BY top.rank", (q, limit)):
        title = f"{r[2]} @ {_ts(r[3])}" + (f" ({r[4]})" if r[4] else "")
        hits.append(SearchHit("segment", r[0], r[1], title, r[5], r[6]))
    hits.sort(key=lambda h: h.rank)
    return hits[:limit]
