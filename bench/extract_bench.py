#!/usr/bin/env python3
"""Extraction speed and memory on the default model (2 threads).

    .venv/bin/python bench/extract_bench.py                 # 15, 30, 60 minutes, today vs new
    .venv/bin/python bench/extract_bench.py --minutes 15 --paths new --seqs

Prints, in one run: prompt tokens/s and generation tokens/s without a grammar, with
llama-cpp-python's grammar chain (today), with a full-vocabulary pass per token and with
greedy-first sampling (new), with the grammar's own time per token; aggregate generation
tokens/s for 1, 2, 4, 6 sequences decoded together; then per meeting length today's path
(fbb798a behaviour: ``LocalLLM(sampling="library", n_parallel=1)``) and the new one side by
side — wall and CPU time, tokens, peak RSS (each in a fresh process), and new/today ratios. Transcripts are composed from varied dialogue
(seeded), not one paragraph repeated. Targets (DESIGN.md §5): 30 min ≤ 120 s, RSS ≤ 2.6 GB.
CPU seconds are printed beside wall time: on a shared machine the wall clock measures the
neighbours too (with --threads 1, CPU time is what an idle core would take).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEOPLE = ["Maria", "Tom", "Priya", "Daniel", "Sofia", "Ken", "Laura", "James"]
TOPICS = ["invoice backlog", "fuel costs", "the pilot", "bank reconciliation", "the audit", "payroll export",
          "vendor onboarding", "the reporting dashboard", "tax filings", "the data migration", "month-end close",
          "purchase orders", "the security review", "currency conversion", "expense policy", "the ERP connector"]
OPENERS = ["So", "Okay", "Right", "Well", "Also", "Honestly", "Actually", "Look"]
TEMPLATES = [
    "{o}, on {t}, we spent about {n} hours last month and that is too much.",
    "{o}, the main issue with {t} is that nobody owns it end to end.",
    "I think {t} could be automated if we clean up the data first.",
    "How does your team handle {t} today, and who signs off on it?",
    "We tried a spreadsheet for {t} but it broke when we passed {n} entries.",
    "{o}, for {t} the numbers look better than last quarter, roughly {n} percent.",
    "Our auditors asked about {t} twice this year, so it is a priority.",
    "Can we come back to {t} after we look at the costs?",
    "The finance team wants a weekly report on {t}.",
    "{o}, I would like to understand the timeline for {t}.",
    "That makes sense. {t} is linked to the close process anyway.",
    "We have {n} people working on {t} part time right now.",
]
COMMITMENTS = [
    "I will send the notes on {t} by Friday.",
    "{p}, can you share the numbers for {t} by next Tuesday?",
    "{p} will set up a call about {t} next week.",
    "I'll draft a plan for {t} by the end of the month.",
]


def compose(minutes: int, seed: int = 7):
    """Segments for a call of about ``minutes`` minutes (~150 words a minute, ~9 s segments)."""
    from app.core.domain import Segment

    rng = random.Random(seed + minutes)
    segs, t, i = [], 0.0, 0
    while t < minutes * 60:
        i += 1
        n_sent = rng.choice([1, 2, 2, 3])
        parts = []
        for _ in range(n_sent):
            pool = COMMITMENTS if rng.random() < 0.06 else TEMPLATES
            parts.append(rng.choice(pool).format(o=rng.choice(OPENERS), t=rng.choice(TOPICS), n=rng.randint(3, 90),
                                                 p=rng.choice(PEOPLE)))
        text = " ".join(parts)
        dur = len(text.split()) / 2.5  # 150 words a minute
        ch = i % 2 if rng.random() < 0.8 else 1 - i % 2
        segs.append(Segment(start=t, end=t + dur, text=text, channel=ch, speaker="You" if ch == 0 else "Them", index=i))
        t += dur + 0.4
    return segs


def model_path() -> Path:
    from app.catalog import resolve_llm
    from app.core.paths import Paths

    return resolve_llm(Paths.from_env().ensure(), "qwen2.5-coder-1.5b")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds of this process. On a shared, oversubscribed machine wall time measures
    the neighbours; with one thread, CPU time is what an idle core would take."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_llm(threads: int, path: str = "new", **kw):
    """``today``: llama-cpp-python's sampler chain, one call at a time (the fbb798a path);
    ``new``: greedy-first grammar sampling, the parts one after another (the default);
    ``batched``: the parts decoded together as parallel sequences (``batch_parts=True``)."""
    from app.extract import LocalLLM

    if path == "today":
        return LocalLLM(model_path(), n_threads=threads, sampling="library", n_parallel=1, **kw)
    if path == "batched":
        return LocalLLM(model_path(), n_threads=threads, batch_parts=True, **kw)
    return LocalLLM(model_path(), n_threads=threads, **kw)


def speed(threads: int) -> dict:
    """Generation tokens/s and time per token in the grammar: no grammar, llama-cpp-python's
    chain, full-vocabulary pass in Kith's loop, greedy-first. The prompt is cached after a
    first call, so each figure is (almost) pure generation."""
    from app.extract.llm import LocalLLM
    from app.extract.prompt import segment_line
    from app.extract.sampling import generate_on
    from app.extract.schema import RawSummary

    llm = LocalLLM(model_path(), n_threads=threads, sampling="library")
    lines = [segment_line(s, "You") for s in compose(5, seed=99)][:20]
    msgs = [{"role": "system", "content": "You write short JSON summaries."},
            {"role": "user", "content": "Summarise this meeting.\n" + "\n".join(lines) + "\nWrite a long summary."}]
    ll = llm.llama
    prompt, stop = llm.chat_prompt(msgs)
    gbnf = llm.gbnf_for(RawSummary)
    t0, c0 = time.perf_counter(), cpu_s()
    generate_on(ll, prompt, None, 1, stop)  # evaluates (and caches) the prompt
    t_prompt, c_prompt = time.perf_counter() - t0, cpu_s() - c0
    out = {"prompt_tokens": len(prompt), "prompt_tok_s": round(len(prompt) / t_prompt, 1),
           "prompt_tok_cpu_s": round(len(prompt) / c_prompt, 1)}
    for name, fn in [
        ("no_grammar", lambda: generate_on(ll, prompt, None, 128, stop)),
        ("library", lambda: llm._chat(msgs, RawSummary, 128)),
        ("full_pass", lambda: generate_on(ll, prompt, gbnf, 128, stop, full=True)),
        ("greedy_first", lambda: generate_on(ll, prompt, gbnf, 128, stop)),
    ]:
        t0, c0 = time.perf_counter(), cpu_s()
        g = fn()
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        n = len(g.tokens) if hasattr(g, "tokens") else g[2].completion_tokens
        out[name] = {"tokens": n, "tok_s": round(n / wall, 1), "tok_cpu_s": round(n / cpu, 1),
                     "ms_per_tok": round(1000 * wall / n, 1),
                     "pick_ms_per_tok": round(1000 * g.pick.seconds / max(1, g.pick.steps), 2) if hasattr(g, "pick") else None,
                     "rejected": g.pick.rejected if hasattr(g, "pick") else None}
    return out


def seqs(threads: int, counts: list[int]) -> dict:
    """Aggregate generation tokens/s with N sequences decoded together (grammar on)."""
    from app.extract.prompt import segment_line
    from app.extract.schema import RawSummary

    llm = make_llm(threads, n_parallel=max(counts), n_ctx=2048)
    calls = []
    for k in range(max(counts)):
        lines = [segment_line(s, "You") for s in compose(5, seed=200 + k)][:10]
        msgs = [{"role": "system", "content": "You write long JSON summaries."},
                {"role": "user", "content": "Summarise this meeting in detail.\n" + "\n".join(lines)}]
        calls.append((msgs, llm.gbnf_for(RawSummary), 64))
    out = {}
    for n in counts:
        llm.generate_many(calls[:n], parallel=n) if n > 1 else llm.generate_many(calls[:1], parallel=1)
        st = dict(llm._batch.stats)
        for k in st:
            llm._batch.stats[k] = 0 if isinstance(st[k], int) else 0.0
        out[n] = {"gen_tokens": st["gen_tokens"], "gen_tok_s": round(st["gen_tokens"] / max(st["gen_s"], 1e-9), 1),
                  "ms_per_step": round(1000 * st["gen_s"] / max(1, st["steps"]), 1),
                  "prompt_tok_s": round(st["prompt_tokens"] / max(st["prompt_s"], 1e-9), 1)}
    return out


def one(minutes: int, threads: int, path: str) -> dict:
    from app.extract import MeetingContext, extract_meeting

    segs = compose(minutes)
    llm = make_llm(threads, path)
    ctx = MeetingContext(f"{minutes}-minute ops call", date(2026, 3, 4), [("Maria Lopez", "maria@acmefreight.com")],
                         template="sales")
    llm.count_tokens("warm up")  # load the weights outside the timing
    t0, c0 = time.perf_counter(), cpu_s()
    r = extract_meeting(segs, ctx, llm)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    return {"minutes": minutes, "segments": len(segs), "words": sum(len(s.text.split()) for s in segs),
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "chunks": r.audit.chunks, "prompt_tokens": r.audit.tokens["prompt"],
            "gen_tokens": r.audit.tokens["completion"], "actions": len(r.action_items),
            "failed_chunks": r.audit.failed_chunks, "peak_rss_mb": round(peak_rss_mb()),
            "gen_tok_s": round(r.audit.tokens["completion"] / max(wall, 1e-9), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, nargs="+", default=[15, 30, 60])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seqs", type=int, nargs="*", default=[1, 2, 4, 6], help="sequence counts for tokens/s")
    ap.add_argument("--paths", nargs="+", default=["today", "new"], choices=["today", "new", "batched"])
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--path", default="new", help=argparse.SUPPRESS)
    ap.add_argument("--speed", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seq-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.threads, args.path)))
        return
    if args.speed:
        print(json.dumps(speed(args.threads)))
        return
    if args.seq_child:
        print(json.dumps(seqs(args.threads, args.seqs)))
        return

    def child(*extra: str) -> dict:
        out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), *extra],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    import os

    print(f"extraction bench — default model (qwen2.5-coder-1.5b Q4_K_M), {args.threads} threads; "
          f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    if not args.skip_speed:
        sp = child("--speed")
        print(f"prompt {sp['prompt_tok_s']} tok/s wall, {sp['prompt_tok_cpu_s']} tok/CPU-s ({sp['prompt_tokens']} tokens)")
        print(f"{'generation (1 sequence)':<34} {'tok/s':>6} {'tok/CPU-s':>9} {'ms/tok':>7} {'grammar ms/tok':>14} {'rejected':>8}")
        for name, label in [("no_grammar", "no grammar"), ("library", "grammar, llama-cpp-python chain (today)"),
                            ("full_pass", "grammar, full pass every token"), ("greedy_first", "grammar, greedy-first (new)")]:
            r = sp[name]
            print(f"{label:<34} {r['tok_s']:>6} {r['tok_cpu_s']:>9} {r['ms_per_tok']:>7} "
                  f"{'' if r['pick_ms_per_tok'] is None else r['pick_ms_per_tok']:>14} {'' if r['rejected'] is None else r['rejected']:>8}")
        print(f"greedy-first vs today: {sp['greedy_first']['tok_s'] / sp['library']['tok_s']:.2f}x tokens/s", flush=True)
    if args.seqs:
        sq = child("--seq-child", "--seqs", *map(str, args.seqs))
        base = sq[str(args.seqs[0])]["gen_tok_s"]
        print(f"{'sequences':>9} {'gen tok/s (aggregate)':>22} {'ms/step':>8} {'vs 1':>6}")
        for n in args.seqs:
            r = sq[str(n)]
            print(f"{n:>9} {r['gen_tok_s']:>22} {r['ms_per_step']:>8} {r['gen_tok_s'] / base:>5.2f}x", flush=True)
    print(f"{'minutes':>7} {'path':>5} {'chunks':>6} {'prompt':>7} {'gen':>5} {'actions':>7} {'wall s':>7} {'CPU s':>6} "
          f"{'CPU s/min':>9} {'RSS MB':>7} {'vs first: wall':>14} {'CPU':>5}")
    for m in args.minutes:
        rows = {}
        for pth in args.paths:
            r = rows[pth] = child("--one", str(m), "--path", pth)
            ratio = ""
            first = next(iter(rows))
            if pth != first:  # (the column is "vs the first path given")
                t = rows[first]
                ratio = f"{r['wall_s'] / t['wall_s']:>13.2f}x {r['cpu_s'] / t['cpu_s']:>4.2f}x"
            print(f"{m:>7} {pth:>5} {r['chunks']:>6} {r['prompt_tokens']:>7} {r['gen_tokens']:>5} {r['actions']:>7} "
                  f"{r['wall_s']:>7} {r['cpu_s']:>6} {r['cpu_s'] / m:>9.2f} {r['peak_rss_mb']:>7} {ratio}"
                  + (f"  failed chunks {r['failed_chunks']}" if r["failed_chunks"] else ""), flush=True)
        if set(rows) - {"today"}:
            target = {30: 120, 60: 240}.get(m)
            if target:
                r = rows["batched" if "batched" in rows else "new"]
                print(f"        {m}-minute target (≤ {target} s, ≤ 2600 MB): wall {'met' if r['wall_s'] <= target else 'NOT met'}, "
                      f"RSS {'met' if r['peak_rss_mb'] <= 2600 else 'NOT met'}", flush=True)


if __name__ == "__main__":
    main()
