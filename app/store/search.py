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


def any_phrases(text: str, prefix: bool = True) -> list[str]:
    """The FTS5 phrases of a question (``match="any"``): each content word's stem as a prefix."""
    parts = []
    for t in content_terms(text):
        s = stem(t)
        parts.append(f'"{s}"*' if prefix and len(s) >= 4 else f'"{t}"')
    return list(dict.fromkeys(parts))


def fts_query(text: str, prefix: bool = True, match: str = "all") -> str:
    """User text → a safe FTS5 query (see the module docstring for the two modes)."""
    if match == "any":
        return " OR ".join(any_phrases(text, prefix))
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


def _in(col: str, ids, negate: bool = False) -> tuple[str, tuple]:
    if ids is None:
        return "", ()
    ids = tuple(int(i) for i in ids)
    if negate:  # NOT IN (NULL) is never true: no ids excludes nothing
        return (f" AND {col} NOT IN ({','.join('?' * len(ids))})", ids) if ids else ("", ())
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
        for r in _segment_rows(conn, q, any_phrases(query, prefix) if match == "any" else None, limit, meeting_ids):
            title = f"{r[2]} @ {_ts(r[3])}" + (f" ({r[4]})" if r[4] else "")
            hits.append(SearchHit("segment", r[0], r[1], title, r[5], r[6]))
    hits.sort(key=lambda h: h.rank)
    return hits[:limit]


# -- transcript lines: bm25 with a bounded number of lines ranked ----------------------------------
RANK_BUDGET = 10000  # matching lines FTS5 ranks per query at most (~2 µs a line: a 1M-line store stays ≤ 50 ms)
MAX_RANGES = 16  # a meeting filter of at most this many id ranges is searched range by range


def _count(conn, expr: str) -> int:
    return conn.execute("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH ?", (expr,)).fetchone()[0]


def bounded_expression(conn, phrases: list[str]) -> tuple[str, int | None]:
    """(MATCH expression, lowest rowid or None) that ranks at most about RANK_BUDGET lines.

    When the question's words match more lines than that (common words in a large store), the
    rarest words are kept whole — every line holding one is ranked — and the common ones only
    raise the lines that also hold a rare word (their weight in bm25 is small anyway). When every
    word is common, the newest RANK_BUDGET matching lines are ranked. bm25's statistics are those
    of the whole index either way, so ranks stay comparable."""
    expr = " OR ".join(phrases)
    if not phrases or _count(conn, expr) <= RANK_BUDGET:
        return expr, None
    counted = sorted((_count(conn, p), p) for p in phrases)
    rare, used = [], 0
    for n, p in counted:
        if used + n > RANK_BUDGET:
            break
        rare.append(p)
        used += n
    common = [p for _n, p in counted if p not in rare]
    if rare:
        r = " OR ".join(rare)
        return f"{r} OR (({r}) AND ({' OR '.join(common)}))", None
    row = conn.execute("SELECT rowid FROM segments_fts WHERE segments_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                       (expr, RANK_BUDGET - 1)).fetchone()
    return expr, (row[0] if row else None)


def _ranges(conn, meeting_ids) -> list[tuple[int, int]] | None:
    """The segment-id ranges of ``meeting_ids`` (a meeting's lines are stored together), adjacent ones
    joined; None when more than MAX_RANGES, or when a range also holds another meeting's lines (lines
    re-added later), since those would take the ranked places and be filtered out afterwards."""
    w, p = _in("meeting_id", meeting_ids)
    out: list[list[int]] = []
    for a, b in conn.execute(f"SELECT min(id), max(id) FROM segments WHERE 1{w} GROUP BY meeting_id ORDER BY 1", p):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
        if len(out) > MAX_RANGES:
            return None
    nw, np_ = _in("meeting_id", meeting_ids, negate=True)
    for a, b in out:
        if conn.execute(f"SELECT 1 FROM segments WHERE id BETWEEN ? AND ?{nw} LIMIT 1", (a, b, *np_)).fetchone():
            return None
    return [(a, b) for a, b in out]


_TOP = ("SELECT rowid, rank, snippet(segments_fts, 0, '[', ']', '…', 16) AS snip FROM segments_fts "
        "WHERE segments_fts MATCH ?{where} ORDER BY rank LIMIT ?")
_JOIN = ("SELECT s.id, s.meeting_id, m.title, s.start, s.speaker, top.snip, top.rank FROM top "
         "JOIN segments s ON s.id = top.rowid JOIN meetings m ON m.id = s.meeting_id{where} ORDER BY top.rank")


def _segment_rows(conn, q: str, phrases: list[str] | None, limit: int, meeting_ids) -> list[tuple]:
    """(id, meeting_id, title, start, speaker, snippet, rank) of the best-ranked lines.

    Ranked over the FTS index alone and only the winners joined (fast on 1M segments); a meeting
    filter becomes rowid ranges FTS5 seeks to, so only the lines of those meetings are ranked."""
    low = None
    if phrases is not None:
        q, low = bounded_expression(conn, phrases)
    floor = (" AND rowid >= ?", (low,)) if low is not None else ("", ())
    if meeting_ids is None:
        sql = f"WITH top AS ({_TOP.format(where=floor[0])}) " + _JOIN.format(where="")
        return conn.execute(sql, (q, *floor[1], limit)).fetchall()
    w, p = _in("s.meeting_id", meeting_ids)
    ranges = _ranges(conn, meeting_ids)
    if ranges is None:
        sql = ("SELECT s.id, s.meeting_id, m.title, s.start, s.speaker, snippet(segments_fts, 0, '[', ']', '…', 16), "
               "f.rank FROM segments_fts f JOIN segments s ON s.id = f.rowid JOIN meetings m ON m.id = s.meeting_id "
               f"WHERE segments_fts MATCH ?{floor[0].replace('rowid', 'f.rowid')}{w} ORDER BY f.rank LIMIT ?")
        return conn.execute(sql, (q, *floor[1], *p, limit)).fetchall()
    rows = []
    for a, b in ranges:
        sql = f"WITH top AS ({_TOP.format(where=' AND rowid BETWEEN ? AND ?' + floor[0])}) " + _JOIN.format(where=" WHERE 1" + w)
        rows += conn.execute(sql, (q, a, b, *floor[1], limit, *p)).fetchall()
    rows.sort(key=lambda r: r[6])
    return rows[:limit]


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
    """(the speaker's stored name, their meetings) when ``word`` names a transcript speaker or a
    contact; the name is "" when the word fits several different speakers."""
    q = f'speaker : "{word.replace(chr(34), "")}"'
    w, p = _in("s.meeting_id", scope)
    rows = store.conn.execute(
        "SELECT s.speaker, s.meeting_id FROM segments_fts f JOIN segments s ON s.id = f.rowid "
        f"WHERE segments_fts MATCH ?{w} LIMIT ?", (q, *p, cap)).fetchall()
    meetings = {r[1] for r in rows}
    labels = {r[0] for r in rows if r[0]}
    name = next((r[0] for r in rows if r[0]), "")
    longer = {x.casefold() for x in labels} - {word.casefold()}
    if len(longer) > 1:
        name = ""  # "PhD" for "PhD A" and "PhD C", "Whitfield" for two Whitfields: not one person
    elif longer:
        name = next(x for x in labels if x.casefold() in longer)  # "Dana" → "Dana Whitfield"
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
