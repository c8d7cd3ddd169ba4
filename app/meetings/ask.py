"""`kith ask`: retrieval over stored meetings (FTS5) + the local LLM, answering only from the
retrieved lines and citing them — or saying it does not know."""
from __future__ import annotations

import re

from app.core.output import print_json, to_jsonable

STOP = set("""a an the and or but if of to in on at by for with about from into over after before is are was were be been
being do does did what which who whom whose when where why how i you he she it we they me him her us them my your his its our
their this that these those there here can could would should will shall may might must have has had not no yes any some all
tell say said know did does anything something""".split())


def fts_query(question: str) -> str:
    terms = [w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]+", question.lower()) if w not in STOP and len(w) > 2]
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))


def retrieve(store, question: str, limit: int = 12):
    q = fts_query(question)
    if not q:
        return []
    hits = [h for h in store.search(q, limit=limit * 3) if h.kind == "segment"][:limit]
    segs = {s.id: s for s in store.segments.get_many([h.id for h in hits])}
    meetings: dict[int, object] = {}
    out = []
    for h in hits:
        s = segs.get(h.id)
        if s is None:
            continue
        m = meetings.get(s.meeting_id) or store.meetings.get(s.meeting_id)
        meetings[s.meeting_id] = m
        out.append((m.title, m.started_at.date(), s))
    return out


def ask(kith, question: str, as_json: bool = False, llm_name: str | None = None) -> int:
    from app.extract.ask import answer_question
    from app.meetings.pipeline import Engines

    store = kith.store()
    retrieved = retrieve(store, question)
    if not retrieved:
        ans = {"text": "I don't know — nothing in your meetings matches that question.", "known": False, "citations": []}
        print_json(ans) if as_json else print(ans["text"])
        return 0
    llm = Engines().get_llm(kith, llm_name)
    answer = answer_question(question, retrieved, llm)
    if as_json:
        print_json(answer)
        return 0
    data = to_jsonable(answer)
    print(data.get("text", ""))
    cites = data.get("citations") or []
    if cites:
        print("\nSources:")
        by_id = {s.id: (title, d, s) for title, d, s in retrieved}
        for c in cites:
            sid = c.get("segment_id") if isinstance(c, dict) else c
            if sid in by_id:
                title, d, s = by_id[sid]
                print(f"  [{title}, {d}, meeting #{s.meeting_id}] {s.speaker or 'speaker'}: “{s.text}”")
            else:
                print(f"  {c}")
    return 0
