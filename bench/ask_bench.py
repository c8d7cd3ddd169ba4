"""Ask benchmark: retrieval recall, answer quality and latency of `kith ask` (issue 18).

    .venv/bin/python bench/ask_bench.py [--meetings 100] [--answers 44] [--segments 1000000] [--skip-asr]

* Corpus: bench/data/ask/*.txt — 10 scripted meetings ("Speaker: text" lines, varied topics) and
  questions.json — 44 questions with their known answer lines (17 paraphrased: worded unlike the
  meeting). Filler meetings (synthetic Zipf-vocabulary talk, as in store_bench) bring the store to
  --meetings meetings.
* Recall@5/@10 over the retrieved hit lines (not the neighbours added as context) for
  - baseline: today's code path (meetings/ask.py's OR-joined query, re-tokenised by store.search),
  - keyword: the one query builder, bm25 over segments only,
  - hybrid: bm25 (segments + minutes/notes/action items) + sentence vectors, RRF, filters.
* Answers (--answers N questions, real local LLM): correct = every keyword group of the question
  found in the answer; supported = a citation on a known answer line; citation precision = share of
  citations on known lines; answers without a citation (must be 0).
* Latency p50/p95 of retrieval (keyword-only and hybrid; the LLM excluded) with --meetings
  meetings, and in a synthetic store of --segments lines (random unit vectors for the filler, so the
  numpy scan has the full size; 0 = skip).
* In the large store, recall@10 of the scripted questions too (their lines compete with 1M others).
* Sign-bit prefilter: the large-store vector path against scoring every row, on the real vectors
  of the --meetings store (top-10 overlap with candidates the same share of the store as at 1M).
* Processing overhead: embedding a transcript vs transcribing it (faster-whisper, the first stage
  of `kith process`) on tests/data/jfk.wav, same run.
The machine is shared: compare ratios within one run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT / "bench" / "data" / "ask"


def pct(v: list[float], p: float) -> float:
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def baseline_ids(store, question: str, limit: int = 10) -> list[int]:
    """Today's (before issue 18) retrieval, reproduced: OR-joined terms fed to the all-words search."""
    stop = set("""a an the and or but if of to in on at by for with about from into over after before is are was were be been
being do does did what which who whom whose when where why how i you he she it we they me him her us them my your his its our
their this that these those there here can could would should will shall may might must have has had not no yes any some all
tell say said know did does anything something""".split())
    terms = [w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]+", question.lower()) if w not in stop and len(w) > 2]
    q = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
    if not q:
        return []
    return [h.id for h in store.search(q, limit=limit * 3) if h.kind == "segment"][:limit]


def make_kith(home: Path):
    from app.context import Kith

    env = {"KITH_HOME": str(home), "KITH_PASSPHRASE": "bench-passphrase"}
    if os.environ.get("KITH_MODELS"):
        env["KITH_MODELS"] = os.environ["KITH_MODELS"]
    return Kith.from_env(env)


def load_corpus(kith, spec: dict, embedder) -> tuple[dict[str, int], float, int]:
    """Store the scripted meetings; returns name → meeting id, embedding seconds, lines embedded."""
    from app import embed
    from app.core.domain import Meeting
    from app.meetings.importers import import_transcript

    store = kith.store()
    ids, emb_s, n = {}, 0.0, 0
    for name, m in spec["meetings"].items():
        segs, _meta = import_transcript(DATA / f"{name}.txt")
        mt = store.meetings.add(Meeting(title=m["title"], started_at=datetime.fromisoformat(m["at"]), status="processed"))
        store.segments.add_many(mt.id, segs)
        ids[name] = mt.id
        if embedder is not None:
            t = time.perf_counter()
            n += embed.index(store, embedder, meeting_id=mt.id)
            emb_s += time.perf_counter() - t
    return ids, emb_s, n


def add_filler(kith, n_meetings: int, per_meeting: int, rng: random.Random, embedder, random_vectors: bool) -> int:
    import numpy as np

    from app import embed
    from app.core.domain import Meeting, Segment
    from store_bench import texts, vocabulary

    store = kith.store()
    vocab = vocabulary(rng)
    speakers = ["Alex", "Jordan", "Robin", "Casey", "Morgan", "Taylor"]
    total = 0
    vr = np.random.default_rng(7)
    for i in range(n_meetings):
        lines = texts(rng, vocab, per_meeting)
        mt = store.meetings.add(Meeting(title=f"Sync {i}", started_at=datetime(2025, 1 + i % 12, 1 + i % 27, 10),
                                        status="processed"))
        segs = store.segments.add_many(mt.id, [Segment(k * 4.0, k * 4.0 + 3.5, t, rng.choice(speakers), 1)
                                               for k, t in enumerate(lines)])
        total += len(segs)
        if embedder is not None and not random_vectors:
            embed.index(store, embedder, meeting_id=mt.id)
        elif embedder is not None:
            v = vr.standard_normal((len(segs), embed.DIM)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            store.vectors.put_many(embedder.name, [(s.id, mt.id, v[k]) for k, s in enumerate(segs)])
    return total


def recall(spec, ids, kith, embedder, now) -> dict:
    from app.meetings.retrieval import retrieve

    store = kith.store()
    res = {"baseline": [], "keyword": [], "hybrid": []}
    lat = {"keyword": [], "hybrid": []}
    misses = []
    for q in spec["questions"]:
        mid = ids[q["m"]]
        want = {s.id for s in store.segments.for_meeting(mid) if s.index in q["lines"]}
        got = {"baseline": baseline_ids(store, q["q"])}
        for mode, emb in (("keyword", None), ("hybrid", embedder)):
            t = time.perf_counter()
            r = retrieve(store, q["q"], embedder=emb, limit=10, now=now, keyword_only=emb is None)
            lat[mode].append((time.perf_counter() - t) * 1000)
            got[mode] = [ln.segment.id for ln in r.lines if ln.hit]
        for mode, hits in got.items():
            res[mode].append((bool(want & set(hits[:5])), bool(want & set(hits[:10]))))
        if not (want & set(got["hybrid"][:10])):
            misses.append(q["q"])
    out = {}
    for mode, rows in res.items():
        out[mode] = {"recall@5": sum(a for a, _ in rows) / len(rows), "recall@10": sum(b for _, b in rows) / len(rows)}
    for mode, v in lat.items():
        out[mode]["p50_ms"], out[mode]["p95_ms"] = pct(v, 50), pct(v, 95)
    para = [i for i, q in enumerate(spec["questions"]) if q.get("para")]
    for mode, rows in res.items():
        out[mode]["paraphrased_recall@10"] = sum(rows[i][1] for i in para) / max(1, len(para))
    out["hybrid_misses@10"] = misses
    return out


def answers(spec, ids, kith, n: int, now, log) -> dict:
    from app.meetings.ask import ask
    from app.meetings.pipeline import Engines

    store = kith.store()
    engines = Engines()
    rows = []
    for q in spec["questions"][:n]:
        mid = ids[q["m"]]
        t = time.perf_counter()
        d = ask(kith, q["q"], engines=engines, now=now)
        secs = time.perf_counter() - t
        text = (d["answer"] or "").lower()
        correct = d["known"] and all(any(k.lower() in text for k in grp) for grp in q["kw"])
        cites = [(c["meeting_id"], c["segment_index"]) for c in d["citations"]]
        on = [c for c in cites if c[0] == mid and c[1] in q["lines"]]
        rows.append({"q": q["q"], "known": d["known"], "unsure": d["unsure"], "correct": correct, "supported": bool(on),
                     "cites": len(cites), "cites_ok": len(on), "secs": round(secs, 1), "answer": d["answer"][:160],
                     "why_unsure": d.get("why_unsure", "")})
        log(f"  [{len(rows)}/{n}] {'OK ' if correct and on else 'NO '} {secs:5.1f}s {q['q']} -> {d['text'][:110]!r}"
            + (f" [{d['why_unsure'][:140]}]" if d.get("why_unsure") else ""))
    nc = sum(r["cites"] for r in rows)
    return {
        "questions": len(rows),
        "correct_with_supporting_citation": sum(r["correct"] and r["supported"] for r in rows) / max(1, len(rows)),
        "correct": sum(r["correct"] for r in rows) / max(1, len(rows)),
        "answered": sum(r["known"] for r in rows),
        "unsure": sum(r["unsure"] for r in rows),
        "answers_without_citation": sum(1 for r in rows if r["known"] and not r["cites"]),
        "citation_precision": sum(r["cites_ok"] for r in rows) / nc if nc else float("nan"),
        "answer_p50_s": pct([r["secs"] for r in rows], 50),
        "rows": rows,
    }


def processing_overhead(embedder, log) -> dict:
    from app.core.paths import Paths
    from app.core.config import load_settings
    from app.transcribe import transcribe_file

    wav = ROOT / "tests" / "data" / "jfk.wav"
    home = Path(tempfile.mkdtemp(prefix="askbench-asr-"))
    paths = Paths.from_env({"KITH_HOME": str(home), **({"KITH_MODELS": os.environ["KITH_MODELS"]} if os.environ.get("KITH_MODELS") else {})})
    paths.ensure()
    settings = load_settings(paths.settings_file)
    transcribe_file(wav, paths, settings.transcribe)  # warm: model load not counted on either side
    t = time.perf_counter()
    tr = transcribe_file(wav, paths, settings.transcribe)
    asr = time.perf_counter() - t
    texts = [s.text for s in tr.segments]
    embedder.encode(texts)
    t = time.perf_counter()
    for _ in range(3):
        embedder.encode(texts)
    emb = (time.perf_counter() - t) / 3
    return {"asr_s": round(asr, 3), "embed_s": round(emb, 4), "segments": len(texts),
            "embed_over_asr": round(emb / asr, 4)}


def prefilter(kith, embedder, spec, ids) -> dict:
    """The large-store path (sign bits pick candidates, int8 scores them) against scoring every int8 row,
    on this store's real sentence vectors: top-10 overlap when the candidates are the same share of the
    store as CANDIDATES is of 1M lines (0.4 %), and larger shares. Queries: the questions and every
    line of the scripted meetings."""
    from app.store.vectors import CANDIDATES, Vectors

    store = kith.store()
    n = store.vectors.count(embedder.name)
    texts = [q["q"] for q in spec["questions"]] + [s.text for mid in ids.values() for s in store.segments.for_meeting(mid)]
    qv = embedder.encode(texts)
    full = Vectors(store, exact_rows=10 ** 12)
    want = [[sid for sid, _ in full.nearest(embedder.name, q, 10)] for q in qv]
    out = {"lines": n, "queries": len(texts)}
    for share in sorted({0.004, CANDIDATES / 1_000_000, 0.02}):
        coarse = Vectors(store, exact_rows=0, candidates=max(10, round(n * share)))
        got = [[sid for sid, _ in coarse.nearest(embedder.name, q, 10)] for q in qv]
        out[f"{share:.1%}"] = {
            "candidates": coarse.candidates,
            "top10_overlap": round(statistics.mean(len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(want, got)), 4),
            "top1_same": round(statistics.mean(a[:1] == b[:1] for a, b in zip(want, got)), 4)}
    return out


def big_store(args, spec, embedder, now, log) -> dict:
    """Latency in a store of --segments lines (filler with random vectors + the scripted meetings)."""
    from app.meetings.retrieval import retrieve

    home = Path(tempfile.mkdtemp(prefix="askbench-big-"))
    kith = make_kith(home)
    rng = random.Random(11)
    per = 1000
    t = time.perf_counter()
    n = add_filler(kith, max(1, args.segments // per), per, rng, embedder, random_vectors=True)
    ids, _e, _n = load_corpus(kith, spec, embedder)
    build = time.perf_counter() - t
    log(f"  built {n + sum(1 for _ in [])} filler lines in {build:.0f} s")
    store = kith.store()
    t = time.perf_counter()
    store.vectors.matrix(embedder.name)
    load = time.perf_counter() - t
    lat = {"keyword": [], "hybrid": []}
    found = {"keyword": [], "hybrid": []}
    for q in spec["questions"]:
        want = {s.id for s in store.segments.for_meeting(ids[q["m"]]) if s.index in q["lines"]}
        for mode, emb in (("keyword", None), ("hybrid", embedder)):
            t = time.perf_counter()
            r = retrieve(store, q["q"], embedder=emb, limit=10, now=now, keyword_only=emb is None)
            lat[mode].append((time.perf_counter() - t) * 1000)
            found[mode].append(bool(want & {ln.segment.id for ln in r.lines if ln.hit}))
    kith.close()
    return {"segments": n + sum(len((DATA / f"{m}.txt").read_text().splitlines()) for m in spec["meetings"]),
            "build_s": round(build, 1), "vector_matrix_load_s": round(load, 2),
            **{f"{m}_recall@10": round(sum(v) / len(v), 4) for m, v in found.items()},
            **{f"{m}_p50_ms": round(pct(v, 50), 1) for m, v in lat.items()},
            **{f"{m}_p95_ms": round(pct(v, 95), 1) for m, v in lat.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--meetings", type=int, default=100, help="meetings in the quality store (10 scripted + filler)")
    ap.add_argument("--filler-lines", type=int, default=60, help="lines per filler meeting")
    ap.add_argument("--answers", type=int, default=44, help="questions answered by the LLM (0 = retrieval only)")
    ap.add_argument("--segments", type=int, default=0, help="size of the synthetic latency store (e.g. 1000000; 0 = skip)")
    ap.add_argument("--skip-asr", action="store_true", help="skip the embedding-vs-transcription overhead measurement")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    from app.embed import load_embedder

    spec = json.loads((DATA / "questions.json").read_text())
    now = datetime.fromisoformat(spec["now"])
    embedder = load_embedder()
    report: dict = {"cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    log(f"ask_bench: {len(spec['questions'])} questions over {len(spec['meetings'])} scripted meetings; "
        f"load average {report['load_avg'][0]:.1f} on {report['cpus']} CPUs (shared machine)")
    home = Path(tempfile.mkdtemp(prefix="askbench-"))
    kith = make_kith(home)
    ids, emb_s, n_emb = load_corpus(kith, spec, embedder)
    filler = add_filler(kith, max(0, args.meetings - len(ids)), args.filler_lines, random.Random(5), embedder, False)
    report["store"] = {"meetings": len(ids) + max(0, args.meetings - len(ids)), "lines": kith.store().segments.count(),
                       "embed_ms_per_line": round(emb_s / max(1, n_emb) * 1000, 1)}
    log(f"store: {report['store']}")
    r = recall(spec, ids, kith, embedder, now)
    report["recall"] = r
    for mode in ("baseline", "keyword", "hybrid"):
        x = r[mode]
        lat = f"  p50 {x['p50_ms']:.1f} ms  p95 {x['p95_ms']:.1f} ms" if "p50_ms" in x else ""
        log(f"{mode:9s} recall@5 {x['recall@5']:.1%}  recall@10 {x['recall@10']:.1%}  "
            f"(paraphrased @10 {x['paraphrased_recall@10']:.1%}){lat}")
    log(f"hybrid misses @10: {r['hybrid_misses@10']}")
    report["prefilter"] = pf = prefilter(kith, embedder, spec, ids)
    log(f"sign-bit candidates vs every int8 row ({pf['lines']} lines, {pf['queries']} queries): " + "; ".join(
        f"{k} of the store ({v['candidates']} lines) → top-10 overlap {v['top10_overlap']:.1%}, top-1 same {v['top1_same']:.1%}"
        for k, v in pf.items() if isinstance(v, dict)))
    if not args.skip_asr:
        report["processing"] = p = processing_overhead(embedder, log)
        log(f"processing: transcribing jfk.wav {p['asr_s']} s, embedding its {p['segments']} lines {p['embed_s']} s "
            f"→ embeddings add {p['embed_over_asr']:.1%} of the transcription stage alone")
    if args.answers:
        log(f"answers ({args.answers} questions, local LLM):")
        a = answers(spec, ids, kith, args.answers, now, log)
        report["answers"] = a
        log(f"answers: correct with a supporting citation {a['correct_with_supporting_citation']:.1%}  correct "
            f"{a['correct']:.1%}  answered {a['answered']}/{a['questions']}  unsure {a['unsure']}  "
            f"citation precision {a['citation_precision']:.1%}  answers without citation {a['answers_without_citation']}  "
            f"p50 {a['answer_p50_s']} s")
    kith.close()
    if args.segments:
        log(f"large store: building {args.segments} lines …")
        report["large"] = b = big_store(args, spec, embedder, now, log)
        log(f"large store {b['segments']} lines: keyword p50 {b['keyword_p50_ms']} ms p95 {b['keyword_p95_ms']} ms; "
            f"hybrid p50 {b['hybrid_p50_ms']} ms p95 {b['hybrid_p95_ms']} ms; recall@10 keyword "
            f"{b['keyword_recall@10']:.1%} hybrid {b['hybrid_recall@10']:.1%}; vector matrix load "
            f"{b['vector_matrix_load_s']} s (once per process); build {b['build_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
