#!/usr/bin/env python3
"""Ask on questions nobody on the team wrote: QMSum's annotated queries (train split).

    .venv/bin/python bench/ask_qmsum_bench.py [--answers 20] [--json out.json]

* Corpus: bench/data/ask/qmsum.json (made by bench/data/make_qmsum_ask.py from QMSum's TRAIN
  split): 11 real meetings (AMI, ICSI, Welsh Parliament, Parliament of Canada; 5,308 lines) and
  their 87 "specific queries", each with the lines QMSum's annotators marked as answering it. All
  11 meetings are in one store; a question is answered only by lines of its own meeting.
* Retrieval, the same three paths as bench/ask_bench.py in the same run: the query builder of
  before issue 18 (baseline), keyword (bm25), hybrid (bm25 + sentence vectors). Recall@5/@10 = a
  top line is one of the answer lines; precision@10 = the share of the top 10 that are. Split into
  narrow questions (≤ 20 answer lines) and broad ones (QMSum's "summarize the discussion about …",
  often a hundred lines or more, where recall is easy and precision says more).
* Answers (--answers N, the first N narrow questions, local model): answered / unsure / "don't
  know", and how many answers cite at least one answer line (QMSum's answers are abstractive
  paragraphs, so correctness by keywords is not scored here; bench/ask_bench.py does that).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ask_bench import baseline_ids, make_kith, pct  # noqa: E402

CORPUS = ROOT / "bench" / "data" / "ask" / "qmsum.json"
NARROW = 20


def load(kith, corpus: dict, embedder) -> dict[str, int]:
    from app import embed
    from app.core.domain import Meeting, Segment

    store = kith.store()
    ids = {}
    day = datetime(2026, 9, 1, 10)
    for k, m in enumerate(corpus["meetings"]):
        mt = store.meetings.add(Meeting(title=f"{m['id']} meeting", started_at=day + timedelta(days=3 * k), status="processed"))
        clock, segs = 0.0, []
        for ln in m["lines"]:
            dur = max(1.0, len(ln["text"].split()) / 2.5)
            segs.append(Segment(clock, clock + dur, ln["text"], ln["speaker"], 1))
            clock += dur
        store.segments.add_many(mt.id, segs)
        embed.index(store, embedder, meeting_id=mt.id)
        ids[m["id"]] = mt.id
    return ids


def retrieval(kith, corpus, ids, embedder, now) -> dict:
    from app.meetings.retrieval import retrieve

    store = kith.store()
    rows = []
    for m in corpus["meetings"]:
        by_index = {s.index: s.id for s in store.segments.for_meeting(ids[m["id"]])}
        for q in m["questions"]:
            want = {by_index[i] for i in q["lines"]}
            got, lat = {"baseline": baseline_ids(store, q["q"])}, {}
            for mode, emb in (("keyword", None), ("hybrid", embedder)):
                t = time.perf_counter()
                r = retrieve(store, q["q"], embedder=emb, limit=10, now=now, keyword_only=emb is None)
                lat[mode] = (time.perf_counter() - t) * 1000
                got[mode] = [ln.segment.id for ln in r.lines if ln.hit]
            rows.append({"meeting": m["id"], "q": q["q"], "answer_lines": len(want), "lat": lat,
                         **{mode: {"r5": bool(want & set(h[:5])), "r10": bool(want & set(h[:10])),
                                   "p10": len(want & set(h[:10])) / max(1, len(h[:10])), "top": h[:1]}
                            for mode, h in got.items()}})
    out = {}
    for part, sel in (("all", rows), ("narrow", [r for r in rows if r["answer_lines"] <= NARROW]),
                      ("broad", [r for r in rows if r["answer_lines"] > NARROW])):
        out[part] = {"questions": len(sel), **{mode: {
            "recall@5": statistics.mean(r[mode]["r5"] for r in sel),
            "recall@10": statistics.mean(r[mode]["r10"] for r in sel),
            "precision@10": statistics.mean(r[mode]["p10"] for r in sel)} for mode in ("baseline", "keyword", "hybrid")}}
    for mode in ("keyword", "hybrid"):
        v = [r["lat"][mode] for r in rows]
        out["all"][mode]["p50_ms"], out["all"][mode]["p95_ms"] = round(pct(v, 50), 1), round(pct(v, 95), 1)
    texts = {s.id: (s.meeting_id, s.text) for mid in ids.values() for s in store.segments.for_meeting(mid)}
    inv = {v: k for k, v in ids.items()}
    out["hybrid_misses@10"] = [
        {"meeting": r["meeting"], "q": r["q"], "answer_lines": r["answer_lines"],
         "top": (inv[texts[r["hybrid"]["top"][0]][0]] + ": " + texts[r["hybrid"]["top"][0]][1][:120]) if r["hybrid"]["top"] else ""}
        for r in rows if not r["hybrid"]["r10"]]
    return out


def answers(kith, corpus, ids, n: int, now, log) -> dict:
    from app.meetings.ask import ask
    from app.meetings.pipeline import Engines

    store = kith.store()
    engines = Engines()
    rows = []
    todo = [(m, q) for m in corpus["meetings"] for q in m["questions"] if len(q["lines"]) <= NARROW][:n]
    for m, q in todo:
        mid = ids[m["id"]]
        t = time.perf_counter()
        d = ask(kith, q["q"], engines=engines, now=now)
        secs = time.perf_counter() - t
        cites = [(c["meeting_id"], c["segment_index"]) for c in d["citations"]]
        on = [c for c in cites if c[0] == mid and c[1] in q["lines"]]
        rows.append({"q": q["q"], "known": d["known"], "unsure": d["unsure"], "cites": len(cites), "cites_ok": len(on),
                     "secs": round(secs, 1), "answer": d["answer"][:200]})
        log(f"  [{len(rows)}/{len(todo)}] {'cited-in-span' if on else ('answered' if d['known'] else 'no answer'):13s} "
            f"{secs:5.1f}s {m['id']}: {q['q'][:70]} -> {d['text'][:100]!r}")
    nc = sum(r["cites"] for r in rows)
    del store
    return {"questions": len(rows), "answered": sum(r["known"] for r in rows), "unsure": sum(r["unsure"] for r in rows),
            "answered_citing_an_answer_line": sum(r["known"] and r["cites_ok"] > 0 for r in rows),
            "answers_without_citation": sum(1 for r in rows if r["known"] and not r["cites"]),
            "citation_precision": sum(r["cites_ok"] for r in rows) / nc if nc else float("nan"),
            "answer_p50_s": pct([r["secs"] for r in rows], 50), "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=int, default=20, help="narrow questions answered by the local model (0 = none)")
    ap.add_argument("--json", help="write the full report here")
    args = ap.parse_args(argv)

    from app.embed import load_embedder

    def log(msg: str) -> None:
        print(msg, flush=True)

    corpus = json.loads(CORPUS.read_text())
    home = Path(tempfile.mkdtemp(prefix="askqmsum-"))
    kith = make_kith(home)
    embedder = load_embedder()
    t = time.perf_counter()
    ids = load(kith, corpus, embedder)
    nq = sum(len(m["questions"]) for m in corpus["meetings"])
    log(f"QMSum train: {len(ids)} meetings, {sum(len(m['lines']) for m in corpus['meetings'])} lines, {nq} questions "
        f"(stored and embedded in {time.perf_counter() - t:.0f} s)")
    now = datetime(2026, 12, 1, 12)
    report = {"retrieval": retrieval(kith, corpus, ids, embedder, now)}
    for part in ("all", "narrow", "broad"):
        x = report["retrieval"][part]
        log(f"{part} ({x['questions']} questions):")
        for mode in ("baseline", "keyword", "hybrid"):
            y = x[mode]
            lat = f"  p50 {y['p50_ms']} ms p95 {y['p95_ms']} ms" if "p50_ms" in y else ""
            log(f"  {mode:9s} recall@5 {y['recall@5']:.1%}  recall@10 {y['recall@10']:.1%}  precision@10 {y['precision@10']:.1%}{lat}")
    for miss in report["retrieval"]["hybrid_misses@10"]:
        log(f"  hybrid miss: {miss['meeting']}: {miss['q']} ({miss['answer_lines']} answer lines) — top: {miss['top']!r}")
    if args.answers:
        report["answers"] = a = answers(kith, corpus, ids, args.answers, now, log)
        log(f"answers ({a['questions']} narrow questions): answered {a['answered']}, unsure {a['unsure']}, "
            f"citing an answer line {a['answered_citing_an_answer_line']}, without a citation {a['answers_without_citation']}, "
            f"citation precision {a['citation_precision']:.1%}, p50 {a['answer_p50_s']:.1f} s")
    kith.close()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
