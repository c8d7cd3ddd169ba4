"""Full-text search across people, notes, action items and transcripts (FTS5, bm25 ranking).

``fts_query`` is the one place user text becomes an FTS5 query:

* ``match="all"`` (search as you type, ``kith search``): every word must match, the last one
  also as a prefix when it has at least MIN_PREFIX characters;
* ``match="any"`` (questions, ``kith ask``): the content words of the question — stop words and
  question words dropped — any of which may match, each by its crude stem as a prefix
  ("pricing" → ``"pric"*`` finds "price"); bm25 ranks lines that hold more and rarer terms first.
Words are quoted, so FTS5 syntax in user text (OR, NEAR, ``-``, ``:``) is never interpreted.
"""
from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+", re.UNICODE)

MIN_PREFIX = 3  # a shorter prefix matches too many terms to be useful (or fast)

STOP = frozenset("""a an the and or but if of to in on at by for with about from into over after before is are was were
be been being do does did done what which who whom whose when where why how i you he she it we they me him her us them
my your his its our their this that these those there here can could would should will shall may might must have has had
not no yes any some all tell told say said says know knew anything something anyone someone think thought mention
mentioned mentions discuss discussed talk talked talking speak spoke ask asked get got let just also very really ever
than then so as up out much many most more other one ones thing things way like""".split())

_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    """A crude English stem, used only as an FTS prefix (never shown)."""
    w = word.lower()
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            w = w[: -len(suf)]
            break
    if len(w) >= 5 and w.endswith("e"):  # price/pricing, schedule/scheduling
        w = w[:-1]
    return w


def content_terms(text: str) -> list[str]:
    """The words of a question that carry its meaning (lower case, in order, once each)."""
    words = [t.lower() for t in _TOKEN.findall(text or "")]
    return list(dict.fromkeys(w for w in words if w not in STOP and (len(w) > 2 or w.isdigit())))


def fts_query(text: str, prefix: bool = True, match: str = "all") -> str:
    """User text → a safe FTS5 query (see the module docstring for the two modes)."""
    if match == "any":
        terms = content_terms(text)
        parts = []
        for t in terms:
            s = stem(t)
            parts.append(f'"{s}"*' if prefix and len(s) >= 4 else f'"{t}"')
        return " OR ".join(dict.fromkeys(parts))
    if match != "all":
        raise ValueError(f"match must be 'all' or 'any', not {match!r}")
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


KINDS = ("contact", "note", "segment")
ALL_KINDS = KINDS + ("action",)


def _in(col: str, ids) -> tuple[str, tuple]:
    if ids is None:
        return "", ()
    ids = tuple(int(i) for i in ids)
    return f" AND {col} IN ({','.join('?' * len(ids)) or 'NULL'})", ids


def search(store, query: str, limit: int = 20, prefix: bool = True, match: str = "all",
           kinds: tuple[str, ...] = KINDS, meeting_ids=None):
    """bm25-ranked hits of ``kinds``; ``meeting_ids`` keeps only hits in those meetings (contacts are kept)."""
    from app.store.db import SearchHit

    q = fts_query(query, prefix, match)
    if not q:
        return []
    conn = store.conn
    hits: list[SearchHit] = []
    if "contact" in kinds:
        for r in conn.execute(
            "SELECT c.id, c.name, snippet(contacts_fts, -1, '[', ']', '…', 12), f.rank FROM contacts_fts f "
            "JOIN contacts c ON c.id = f.rowid WHERE contacts_fts MATCH ? ORDER BY f.rank LIMIT ?", (q, limit)):
            hits.append(SearchHit("contact", r[0], None, r[1], r[2], r[3]))
    for kind, table, fallback in (("note", "notes", "note"), ("action", "action_items", "action item")):
        if kind in kinds:  # rows of a meeting: the hit names the meeting (or the kind when it has none)
            w, p = _in("x.meeting_id", meeting_ids)
            for r in conn.execute(
                f"SELECT x.id, x.meeting_id, COALESCE(m.title, '{fallback}'), snippet({table}_fts, 0, '[', ']', '…', 16), "
                f"f.rank FROM {table}_fts f JOIN {table} x ON x.id = f.rowid LEFT JOIN meetings m ON m.id = x.meeting_id "
                f"WHERE {table}_fts MATCH ?{w} ORDER BY f.rank LIMIT ?", (q, *p, limit)):
                hits.append(SearchHit(kind, r[0], r[1], r[2], r[3], r[4]))
    if "segment" in kinds:
        if meeting_ids is None:
            # rank first over the FTS index alone, then join the few winners (fast on 1M segments)
            sql = ("WITH top AS (SELECT rowid, rank, snippet(segments_fts, 0, '[', ']', '…', 16) AS snip FROM segments_fts "
                   "WHERE segments_fts MATCH ? ORDER BY rank LIMIT ?) "
                   "SELECT s.id, s.meeting_id, m.title, s.start, s.speaker, top.snip, top.rank FROM top "
                   "JOIN segments s ON s.id = top.rowid JOIN meetings m ON m.id = s.meeting_id ORDER BY top.rank")
            params: tuple = (q, limit)
        else:
            w, p = _in("s.meeting_id", meeting_ids)
            sql = ("SELECT s.id, s.meeting_id, m.title, s.start, s.speaker, snippet(segments_fts, 0, '[', ']', '…', 16), "
                   "f.rank FROM segments_fts f JOIN segments s ON s.id = f.rowid JOIN meetings m ON m.id = s.meeting_id "
                   f"WHERE segments_fts MATCH ?{w} ORDER BY f.rank LIMIT ?")
            params = (q, *p, limit)
        for r in conn.execute(sql, params):
            title = f"{r[2]} @ {_ts(r[3])}" + (f" ({r[4]})" if r[4] else "")
            hits.append(SearchHit("segment", r[0], r[1], title, r[5], r[6]))
    hits.sort(key=lambda h: h.rank)
    return hits[:limit]


# -- helpers for Ask's filters (app.meetings.retrieval) ------------------------------------------
def meetings_between(store, since, until) -> set[int]:
    from app.store._util import ts

    return {r[0] for r in store.conn.execute(
        "SELECT id FROM meetings WHERE started_at >= ? AND started_at < ?", (ts(since), ts(until)))}


def _word_in(word: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text or "", re.IGNORECASE) is not None


def meetings_titled(store, word: str, scope=None) -> set[int]:
    """Meetings whose title holds ``word``, or with a participant from a company of that name."""
    w, p = _in("id", scope)
    out = {r[0] for r in store.conn.execute(f"SELECT id, title FROM meetings WHERE title LIKE ?{w}",
                                            (f"%{word}%", *p)) if _word_in(word, r[1])}
    w, p = _in("mp.meeting_id", scope)
    out |= {r[0] for r in store.conn.execute(
        "SELECT DISTINCT mp.meeting_id FROM meeting_participants mp JOIN contacts c ON c.id = mp.contact_id "
        f"JOIN companies co ON co.id = c.company_id WHERE co.name = ? COLLATE NOCASE{w}", (word, *p))}
    return out


def speaker_meetings(store, word: str, scope=None, cap: int = 20000):
    """(the speaker's stored name, their meetings) when ``word`` names a transcript speaker or a contact."""
    q = f'speaker : "{word.replace(chr(34), "")}"'
    w, p = _in("s.meeting_id", scope)
    rows = store.conn.execute(
        "SELECT s.speaker, s.meeting_id FROM segments_fts f JOIN segments s ON s.id = f.rowid "
        f"WHERE segments_fts MATCH ?{w} LIMIT ?", (q, *p, cap)).fetchall()
    meetings = {r[1] for r in rows}
    name = next((r[0] for r in rows if r[0]), "")
    w, p = _in("mp.meeting_id", scope)
    for r in store.conn.execute(
            "SELECT c.name, mp.meeting_id FROM contacts_fts f JOIN contacts c ON c.id = f.rowid "
            f"JOIN meeting_participants mp ON mp.contact_id = c.id WHERE contacts_fts MATCH ?{w} LIMIT ?",
            (f'name : "{word.replace(chr(34), "")}"', *p, cap)).fetchall():
        meetings.add(r[1])
        name = name or r[0]
    return (name, meetings) if meetings else None


_REF = re.compile(r"\[S(\d+)\]")


def cited_segments(store, hits, terms: list[str]) -> list[int]:
    """Transcript line ids behind note / action-item hits: the [S#] references of the note lines that
    hold the question's words, and an action item's evidence."""
    from app.store._util import loads

    stems = [stem(t) for t in terms]
    out: list[int] = []
    for h in hits:
        if h.kind == "action":
            r = store.conn.execute("SELECT evidence FROM action_items WHERE id = ?", (h.id,)).fetchone()
            out += [int(i) for i in loads(r[0], [])] if r else []
        elif h.kind == "note" and h.meeting_id is not None:
            r = store.conn.execute("SELECT body FROM notes WHERE id = ?", (h.id,)).fetchone()
            scored = []
            for line in (r[0] if r else "").splitlines():
                words = {t.lower() for t in _TOKEN.findall(line)}
                n = sum(1 for s in stems if any(w.startswith(s) for w in words))
                if n and _REF.search(line):
                    scored.append((-n, line))
            for _n, line in sorted(scored)[:2]:
                for num in _REF.findall(line):
                    row = store.conn.execute("SELECT id FROM segments WHERE meeting_id = ? AND idx = ?",
                                             (h.meeting_id, int(num))).fetchone()
                    if row:
                        out.append(row[0])
    return list(dict.fromkeys(out))


def replies(store, ids: list[int]) -> list[int]:
    """The reply to each of ``ids`` in its meeting, in the order of ``ids``: the next line, or —
    when the next line is itself a question ("Any standouts?") — the line after it."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.conn.execute(
        "SELECT s.id, n.idx - s.idx, n.id, n.text FROM segments s JOIN segments n ON n.meeting_id = s.meeting_id "
        f"AND n.idx IN (s.idx + 1, s.idx + 2) WHERE s.id IN ({marks})", [int(i) for i in ids]).fetchall()
    nxt: dict[int, dict[int, tuple[int, str]]] = {}
    for sid, step, nid, text in rows:
        nxt.setdefault(sid, {})[step] = (nid, text or "")
    out = []
    for i in ids:
        after = nxt.get(i, {})
        if 1 not in after:
            continue
        nid, text = after[1]
        out.append(after[2][0] if text.rstrip().endswith("?") and 2 in after else nid)
    return out
