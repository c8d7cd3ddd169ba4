"""Hybrid retrieval for Ask: bm25 (segments, minutes, notes, action items) and sentence vectors,
fused by reciprocal rank fusion, narrowed by what the question implies, with neighbouring lines.

Filters read from the question:
* time — "today", "yesterday", "this/last week", "this/last month", "this/last year", "in October",
  "in October 2025", "in 2025": a hard filter on the meeting's start (those words leave the query);
* a person — a capitalised word that is a speaker in the transcripts or a known contact: their
  meetings are searched first and their own lines rank higher (the rest still counts);
* a meeting or company — a capitalised word of a meeting title (or a company's name): likewise.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from app.store.search import content_terms

RRF_K = 60
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m and m.lower() != "may"})
_QUESTION_WORDS = {"what", "who", "when", "where", "why", "how", "which", "did", "does", "do", "is", "are", "was",
                   "were", "can", "could", "should", "would", "will", "has", "have", "had", "tell", "list", "show",
                   "give", "summarize", "summarise", "i", "we", "you", "our", "my", "the", "a", "an", "any"}


@dataclass
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    time_phrase: str = ""
    people: list[str] = field(default_factory=list)  # speaker names as stored
    titles: list[str] = field(default_factory=list)  # capitalised words found in meeting titles / company names
    focus_meetings: set[int] | None = None  # meetings of those people / titles

    def to_json(self) -> dict:
        return {"since": self.since.date().isoformat() if self.since else None,
                "until": (self.until - timedelta(days=1)).date().isoformat() if self.until else None,
                "time": self.time_phrase or None, "people": self.people, "titles": self.titles}


def _month_range(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def time_filter(question: str, now: datetime | None = None) -> tuple[datetime | None, datetime | None, str]:
    """(since, until, the phrase) for the time the question names, or (None, None, "")."""
    now = now or datetime.now(timezone.utc)
    today = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
    q = question.lower()
    rel = [
        (r"\btoday\b", today, today + timedelta(days=1)),
        (r"\byesterday\b", today - timedelta(days=1), today),
        (r"\bthis week\b", today - timedelta(days=today.weekday()), today + timedelta(days=1)),
        (r"\blast week\b", today - timedelta(days=today.weekday() + 7), today - timedelta(days=today.weekday())),
        (r"\bthis month\b", *_month_range(today.year, today.month)),
        (r"\blast month\b", *_month_range(today.year - (today.month == 1), (today.month - 2) % 12 + 1)),
        (r"\bthis year\b", datetime(today.year, 1, 1, tzinfo=timezone.utc), datetime(today.year + 1, 1, 1, tzinfo=timezone.utc)),
        (r"\blast year\b", datetime(today.year - 1, 1, 1, tzinfo=timezone.utc), datetime(today.year, 1, 1, tzinfo=timezone.utc)),
        (r"\b(?:in the )?(?:past|last) (\d{1,3}) days\b", None, today + timedelta(days=1)),
    ]
    for rx, since, until in rel:
        m = re.search(rx, q)
        if m:
            if since is None:
                since = today - timedelta(days=int(m.group(1)))
            return since, until, m.group(0)
    names = "|".join(sorted(MONTHS, key=len, reverse=True))
    m = re.search(rf"\b(?:in|during|from|of|since)\s+({names})\.?(?:\s+(\d{{4}}))?\b", q)
    if m:
        month = MONTHS[m.group(1)]
        year = int(m.group(2)) if m.group(2) else (now.year if month <= now.month else now.year - 1)
        since, until = _month_range(year, month)
        if m.group(0).startswith("since"):
            until = today + timedelta(days=1)
        return since, until, m.group(0)
    m = re.search(r"\b(?:in|during)\s+(20\d\d)\b", q)
    if m:
        y = int(m.group(1))
        return datetime(y, 1, 1, tzinfo=timezone.utc), datetime(y + 1, 1, 1, tzinfo=timezone.utc), m.group(0)
    return None, None, ""


def _words(question: str):
    """(word without a trailing 's, whether it is capitalised and neither a question word nor a month)."""
    for m in re.finditer(r"[A-Za-z0-9][\w'\-]*", question):
        w = re.sub(r"'s$", "", m.group(0))
        yield w, w[:1].isupper() and w.lower() not in _QUESTION_WORDS and w.lower() not in MONTHS


def proper_words(question: str) -> list[str]:
    """Capitalised words that are not the question's first word or a question word (candidate names)."""
    return list(dict.fromkeys(w for w, cap in _words(question) if cap and len(w) > 1))


def name_runs(question: str) -> list[str]:
    """Runs of two or more capitalised words, a single capital or a number after one ("PhD C",
    "Speaker 2", "Dana Whitfield"): tried as one speaker name before their words one by one."""
    runs: list[list[str]] = [[]]
    for w, cap in _words(question):
        if cap or (runs[-1] and (len(w) == 1 and w.isupper() or w.isdigit())):
            runs[-1].append(w)
        elif runs[-1]:
            runs.append([])
    return list(dict.fromkeys(" ".join(r) for r in runs if len(r) >= 2))


def parse_filters(store, question: str, now: datetime | None = None) -> tuple[Filters, str]:
    """The filters the question implies and the question with the time phrase removed."""
    from app.store.search import meetings_titled, speaker_meetings

    f = Filters()
    f.since, f.until, f.time_phrase = time_filter(question, now)
    rest = question
    if f.time_phrase:
        rest = re.sub(re.escape(f.time_phrase), " ", question, flags=re.I)
    focus: set[int] = set()  # over all meetings: retrieve() narrows it to the time named, if any
    named: set[str] = set()  # words already part of a speaker's full name
    for run in name_runs(rest):
        spoke = speaker_meetings(store, run)
        if spoke and spoke[0]:
            f.people.append(spoke[0])
            focus |= spoke[1]
            named |= set(run.split())
    for w in proper_words(rest):
        if w in named:
            continue
        spoke = speaker_meetings(store, w)
        if spoke:
            if spoke[0]:  # (several different people answer to this word: their meetings, no one's lines)
                f.people.append(spoke[0])
            focus |= spoke[1]
            continue
        titled = meetings_titled(store, w)
        if titled:
            f.titles.append(w)
            focus |= titled
    f.focus_meetings = focus or None
    return f, " ".join(rest.split())


@dataclass
class Line:
    segment: object  # app.core.domain.Segment
    meeting_title: str
    meeting_date: date | None
    score: float = 0.0
    hit: bool = True  # False = a neighbour, added as context
    why: list[str] = field(default_factory=list)


@dataclass
class Retrieval:
    question: str
    lines: list[Line]
    filters: Filters
    relevant: bool
    keyword_hits: int = 0
    best_similarity: float | None = None
    semantic: bool = False


def _fuse(lists: list[tuple[str, list[int], float]]) -> tuple[dict[int, float], dict[int, list[str]]]:
    score: dict[int, float] = {}
    why: dict[int, list[str]] = {}
    for name, ids, weight in lists:
        for rank, sid in enumerate(dict.fromkeys(ids)):
            score[sid] = score.get(sid, 0.0) + weight / (RRF_K + rank + 1)
            why.setdefault(sid, []).append(name)
    return score, why


MIN_SIMILARITY = 0.30  # all-MiniLM cosine under which a line is not about the question


def keyword_ids(store, text: str, scope, limit: int = 50) -> list[int]:
    return [h.id for h in store.search(text, limit=limit, match="any", kinds=("segment",), meeting_ids=scope)]


def _evidence_ids(store, text: str, scope, limit: int = 10) -> list[int]:
    """bm25 over minutes, notes and action items, mapped to the transcript lines they cite."""
    from app.store.search import cited_segments

    hits = store.search(text, limit=limit, match="any", kinds=("note", "action"), meeting_ids=scope)
    return cited_segments(store, hits, content_terms(text))


def retrieve(store, question: str, embedder=None, limit: int = 8, context: int = 1, now: datetime | None = None,
             keyword_only: bool = False) -> Retrieval:
    """The lines most likely to answer ``question``, best first, each followed by its neighbours."""
    filters, rest = parse_filters(store, question, now)
    from app.store.search import meetings_between

    scope = meetings_between(store, filters.since, filters.until) if filters.since else None
    if scope is not None and not scope:
        return Retrieval(question, [], filters, False)
    focus = filters.focus_meetings
    if focus is not None and scope is not None:
        focus = focus & scope
    from app.store.search import replies

    lists: list[tuple[str, list[int], float]] = []
    # the time the question names narrows first; the whole store still counts, at a lower weight
    # ("what caused the outage in August?" may be answered in a September meeting)
    scopes = [("", scope, 1.0)] + ([("all:", None, 0.5)] if scope is not None else [])
    if focus and not keyword_only:
        scopes.append(("focus:", focus, 1.0))
    kw: list[int] = []
    ev: list[int] = []
    best = None
    qv = embedder.encode([rest or question])[0] if embedder is not None and not keyword_only else None
    for tag, sc, w in scopes:
        k = keyword_ids(store, rest, sc, 50 if tag != "focus:" else 30)
        kw = kw or k
        lists.append((tag + "bm25", k, w))
        if keyword_only:
            continue
        lists.append((tag + "bm25:reply", replies(store, k[:20]), 0.5 * w))  # the answer follows its question
        e = _evidence_ids(store, rest, sc)
        ev = ev or e
        lists.append((tag + "minutes", e, 0.5 * w))
        if qv is not None:
            near = [(sid, x) for sid, x in store.vectors.nearest(embedder.name, qv, 50, sc) if x >= MIN_SIMILARITY * 0.7]
            if near:
                best = max(best or 0.0, near[0][1])
            lists.append((tag + "vector", [sid for sid, _ in near], w))
            lists.append((tag + "vector:reply", replies(store, [sid for sid, _ in near[:20]]), 0.5 * w))
    score, why = _fuse(lists)
    cand = sorted(score, key=lambda s: -score[s])[: limit * 4]
    segs = {s.id: s for s in store.segments.get_many(cand)}
    if filters.people:
        people = {p.casefold() for p in filters.people}
        for sid, s in segs.items():
            if (s.speaker or "").casefold() in people or (s.speaker or "").split(" ")[0].casefold() in people:
                score[sid] += 0.5 / (RRF_K + 1)
                why[sid].append("speaker")
    top = sorted((sid for sid in cand if sid in segs), key=lambda s: -score[s])[:limit]
    relevant = bool(kw or ev) or (best is not None and best >= MIN_SIMILARITY)
    if not relevant:
        return Retrieval(question, [], filters, False, 0, best, embedder is not None)
    meetings: dict[int, object] = {}
    lines: list[Line] = []
    seen: set[int] = set()
    for sid in top:
        s = segs[sid]
        m = meetings.get(s.meeting_id) or store.meetings.get(s.meeting_id)
        meetings[s.meeting_id] = m
        day = m.started_at.date() if m.started_at else None
        group = []
        for j in range(s.index - context, s.index + context + 1):
            if j == s.index:
                group.append(Line(s, m.title, day, score[sid], True, why[sid]))
                continue
            nb = store.segments.by_index(s.meeting_id, j) if j >= 1 else None
            if nb is not None:
                group.append(Line(nb, m.title, day, 0.0, False, ["context"]))
        for ln in group:
            if ln.segment.id in seen:
                if ln.hit:  # a neighbour that is also a hit: mark it
                    for x in lines:
                        if x.segment.id == ln.segment.id:
                            x.hit, x.score, x.why = True, ln.score, ln.why
                continue
            seen.add(ln.segment.id)
            lines.append(ln)
    return Retrieval(question, lines, filters, True, len(kw), best, embedder is not None)
