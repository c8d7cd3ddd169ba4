"""Ask your meetings: one ``ask`` operation for ``kith ask`` and the Ask page.

retrieve (hybrid bm25 + sentence vectors, filters from the question, neighbouring lines — see
app.meetings.retrieval) → the local LLM answers only from those lines, citing them → every
citation is checked against the answer (a citation that does not support it is dropped; an
answer with none left is not given) → the answer names the meeting and date it comes from.
"I don't know" only when nothing relevant was found; when lines were found but the model could
not answer from them, the closest lines are returned instead (``unsure``).
"""
from __future__ import annotations

import sys
import time
from typing import Callable

from app.core.output import print_json

NOTHING = "I don't know — nothing in your meetings matches that question."
UNSURE = "I'm not sure — these are the closest lines in your meetings:"
MAX_CATCH_UP = 3000  # lines embedded on the fly before a question; more than that waits for --reindex


def _embedder(engines, progress=None):
    """The sentence-embedding model, or None (keyword-only Ask) when it is not installed."""
    from app import embed

    if engines is not None and getattr(engines, "embedder", None) is not None:
        return engines.embedder
    if not embed.available():
        return None
    e = embed.load_embedder()
    if engines is not None:
        engines.embedder = e
    return e


def embed_meeting(store, meeting_id: int, engines=None, cancel=None) -> int:
    """Embed a just-stored meeting's lines. Never fails the job: a problem leaves them for --reindex."""
    import logging

    from app import embed
    from app.core.errors import KithError

    try:
        e = _embedder(engines)
        return embed.index(store, e, meeting_id=meeting_id, cancel=cancel) if e is not None else 0
    except (KithError, OSError, ValueError, MemoryError) as exc:
        logging.getLogger(__name__).warning("Ask: could not embed meeting %s (%s); `kith ask --reindex` retries", meeting_id, exc)
        return 0


def reindex(kith, engines=None, progress: Callable[[int, int], None] | None = None, cancel=None) -> dict:
    """Embed every stored line that has no vector yet (the backfill). Returns counts."""
    from app import embed
    from app.core.errors import KithError

    store = kith.store()
    e = _embedder(engines)
    if e is None:
        embed.find_model_dir()  # raises the install hint
        raise KithError("the sentence-embedding model could not be loaded")
    t0 = time.perf_counter()
    n = embed.index(store, e, progress=progress, cancel=cancel)
    return {"embedded": n, "vectors": store.vectors.count(e.name), "model": e.name,
            "seconds": round(time.perf_counter() - t0, 2)}


def _line_json(ln) -> dict:
    s = ln.segment
    return {"segment_id": s.id, "meeting_id": s.meeting_id, "segment_index": s.index, "meeting_title": ln.meeting_title,
            "meeting_date": ln.meeting_date.isoformat() if ln.meeting_date else None, "speaker": s.speaker or "",
            "start": s.start, "text": " ".join(s.text.split()), "hit": ln.hit, "why": ln.why}


def _checked(answer_text: str, question: str, citations) -> list:
    """Citations whose line holds some of the answer's content words (like the minutes' evidence check)."""
    from app.extract.textutil import content_words, support

    if not content_words(answer_text):
        return list(citations)
    return [c for c in citations if support(answer_text, c.quote) > 0 or support(answer_text, c.quote + " " + question) >= 0.5]


def ask(kith, question: str, engines=None, llm_name: str | None = None, now=None, cancel=None,
        keyword_only: bool = False, limit: int = 8) -> dict:
    """Answer ``question`` from the stored meetings. JSON-ready dict (see module docstring)."""
    from app.extract.ask import answer_question
    from app.meetings.retrieval import retrieve

    question = " ".join((question or "").split())
    t0 = time.perf_counter()
    store = kith.store()
    out: dict = {"question": question, "known": False, "unsure": False, "text": NOTHING, "answer": "",
                 "meeting": None, "citations": [], "retrieved": [], "semantic": False, "note": "", "why_unsure": ""}
    if not question:
        out["text"] = 'Ask a question, e.g. "what budget did Acme mention?"'
        return out
    emb = None if keyword_only else _embedder(engines)
    if emb is not None:
        missing = store.vectors.count_missing(emb.name)
        if missing and missing <= MAX_CATCH_UP:
            from app import embed

            embed.index(store, emb, cancel=cancel)
        elif missing:
            out["note"] = f"{missing} lines have no sentence vector yet: run `kith ask --reindex` for better answers"
    r = retrieve(store, question, embedder=emb, limit=limit, now=now, keyword_only=keyword_only)
    out["semantic"] = r.semantic
    out["filters"] = r.filters.to_json()
    out["retrieved"] = [_line_json(ln) for ln in r.lines]
    out["retrieval_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    if not r.relevant or not r.lines:
        return out
    if cancel is not None:
        cancel.raise_if_cancelled()
    if engines is None:
        from app.meetings.pipeline import Engines

        engines = Engines()
    llm = engines.get_llm(kith, llm_name)
    ans = answer_question(question, [(ln.meeting_title, ln.meeting_date, ln.segment) for ln in r.lines], llm)
    cites = _checked(ans.text, question, ans.citations) if ans.known else []
    if not cites:
        out.update(unsure=True, text=UNSURE,
                   why_unsure=ans.why_not if not ans.known else f"no cited line supports the answer: {ans.text!r}")
        out["answer_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    first = cites[0]
    day = first.meeting_date.isoformat() if first.meeting_date else "undated"
    named = first.meeting_title.casefold() in ans.text.casefold()
    out.update(known=True, answer=ans.text,
               text=ans.text if named else f"{ans.text} (from “{first.meeting_title}”, {day})",
               meeting={"id": first.meeting_id, "title": first.meeting_title, "date": day})
    out["citations"] = [{"segment_id": c.segment_id, "meeting_id": c.meeting_id, "segment_index": c.segment_index,
                         "meeting_title": c.meeting_title,
                         "meeting_date": c.meeting_date.isoformat() if c.meeting_date else None,
                         "speaker": c.speaker, "start": c.start, "quote": c.quote} for c in cites]
    out["answer_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def _mmss(seconds: float) -> str:
    s = int(seconds or 0)
    return f"{s // 60}:{s % 60:02d}"


def render(data: dict) -> str:
    lines = [data["text"]]
    if data.get("citations"):
        lines.append("\nSources:")
        for c in data["citations"]:
            lines.append(f"  [{c['meeting_title']}, {c['meeting_date']}, meeting #{c['meeting_id']} at "
                         f"{_mmss(c['start'])}] {c['speaker'] or 'speaker'}: “{c['quote']}”")
    elif data.get("unsure"):
        for ln in [x for x in data.get("retrieved", []) if x["hit"]][:5]:
            lines.append(f"  [{ln['meeting_title']}, {ln['meeting_date']}, meeting #{ln['meeting_id']} at "
                         f"{_mmss(ln['start'])}] {ln['speaker'] or 'speaker'}: “{ln['text']}”")
    if data.get("note"):
        lines.append(f"\n({data['note']})")
    return "\n".join(lines)


def cmd(kith, question: str | None, as_json: bool = False, llm_name: str | None = None, do_reindex: bool = False,
        keyword_only: bool = False, quiet: bool = False) -> int:
    """``kith ask``: the CLI face of :func:`ask` (and of :func:`reindex` with --reindex)."""
    from app.core.errors import KithError
    from app.meetings.pipeline import Engines

    engines = Engines()
    if do_reindex:
        bar = None
        if not quiet and not as_json:
            from tqdm import tqdm

            bar = tqdm(desc="embedding lines", unit="line", file=sys.stderr, leave=False, dynamic_ncols=True)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        res = reindex(kith, engines, progress)
        if bar is not None:
            bar.close()
        if not question:
            print_json(res) if as_json else print(f"embedded {res['embedded']} lines ({res['vectors']} in the index, "
                                                  f"{res['model']}) in {res['seconds']} s")
            return 0
    if not question or not question.strip():
        raise KithError("ask needs a question", hint='e.g. kith ask "what budget did Acme mention?"')
    data = ask(kith, question, engines=engines, llm_name=llm_name, keyword_only=keyword_only)
    print_json(data) if as_json else print(render(data))
    return 0
