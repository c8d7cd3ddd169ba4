#!/usr/bin/env python3
"""Extraction speed and memory on the default model (2 threads).

    .venv/bin/python bench/extract_bench.py                 # 5, 15, 30, 60 minutes
    .venv/bin/python bench/extract_bench.py --minutes 5 15 30

Prints: the model's prompt and generation tokens/s on a first (uncached) call; then, per
meeting length, wall time, chunks, tokens and peak RSS — each length in a fresh process so
RSS is its own — and the cost per minute against the 5-minute meeting (the baseline: a
ratio near 1.0 means cost grows linearly). Transcripts are composed from varied dialogue
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


def speed(threads: int) -> dict:
    """Prompt and generation tokens/s on the first call of a fresh model (nothing cached)."""
    from app.extract import LocalLLM
    from app.extract.prompt import segment_line

    llm = LocalLLM(model_path(), n_threads=threads)
    lines = [segment_line(s, "You") for s in compose(5, seed=99)][:40]
    prompt = "Summarise this meeting.\n" + "\n".join(lines)
    ll = llm.llama
    t0, c0 = time.perf_counter(), cpu_s()
    out = ll.create_completion(prompt, max_tokens=1, temperature=0.0)
    t_prompt, c_prompt = time.perf_counter() - t0, cpu_s() - c0
    n_prompt = out["usage"]["prompt_tokens"]
    ll.reset()
    from app.extract.schema import RawSummary

    t0, c0 = time.perf_counter(), cpu_s()
    _, _, u = llm.complete_json("You write short JSON summaries.", prompt + "\nWrite a long summary.", RawSummary, 128)
    total, ctotal = time.perf_counter() - t0, cpu_s() - c0
    gen_s = max(total - u.prompt_tokens / (n_prompt / t_prompt), 1e-6)
    gen_c = max(ctotal - u.prompt_tokens / (n_prompt / c_prompt), 1e-6)
    return {"prompt_tokens": n_prompt, "prompt_tok_s": round(n_prompt / t_prompt, 1),
            "prompt_tok_cpu_s": round(n_prompt / c_prompt, 1),
            "gen_tokens": u.completion_tokens, "gen_tok_s_with_grammar": round(u.completion_tokens / gen_s, 1),
            "gen_tok_cpu_s": round(u.completion_tokens / gen_c, 1)}


def one(minutes: int, threads: int) -> dict:
    from app.extract import LocalLLM, MeetingContext, extract_meeting

    segs = compose(minutes)
    llm = LocalLLM(model_path(), n_threads=threads)
    ctx = MeetingContext(f"{minutes}-minute ops call", date(2026, 3, 4), [("Maria Lopez", "maria@acmefreight.com")],
                         template="sales")
    llm.count_tokens("warm up")  # load the weights outside the timing
    t0, c0 = time.perf_counter(), cpu_s()
    r = extract_meeting(segs, ctx, llm)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    return {"minutes": minutes, "segments": len(segs), "words": sum(len(s.text.split()) for s in segs),
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "chunks": r.audit.chunks, "prompt_tokens": r.audit.tokens["prompt"],
            "gen_tokens": r.audit.tokens["completion"], "actions": len(r.action_items),
            "failed_chunks": r.audit.failed_chunks, "peak_rss_mb": round(peak_rss_mb())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, nargs="+", default=[5, 15, 30, 60])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--speed", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.threads)))
        return
    if args.speed:
        print(json.dumps(speed(args.threads)))
        return

    def child(*extra: str) -> dict:
        out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), *extra],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    print(f"extraction bench — default model (qwen2.5-coder-1.5b Q4_K_M), {args.threads} threads")
    sp = child("--speed")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    print(f"first call: prompt {sp['prompt_tok_s']} tok/s wall, {sp['prompt_tok_cpu_s']} tok/CPU-s ({sp['prompt_tokens']} tokens); "
          f"generation with the JSON grammar {sp['gen_tok_s_with_grammar']} tok/s wall, {sp['gen_tok_cpu_s']} tok/CPU-s "
          f"({sp['gen_tokens']} tokens)")
    print(f"{'minutes':>7} {'segs':>5} {'words':>6} {'chunks':>6} {'prompt':>7} {'gen':>5} {'wall s':>7} {'CPU s':>6} "
          f"{'CPU s/min':>9} {'vs 5-min':>8} {'RSS MB':>7}")
    base = None
    for m in args.minutes:
        r = child("--one", str(m))
        per_min = r["cpu_s"] / m
        base = base or per_min
        print(f"{m:>7} {r['segments']:>5} {r['words']:>6} {r['chunks']:>6} {r['prompt_tokens']:>7} {r['gen_tokens']:>5} "
              f"{r['wall_s']:>7} {r['cpu_s']:>6} {per_min:>9.2f} {per_min / base:>7.2f}x {r['peak_rss_mb']:>7}"
              + (f"  failed chunks {r['failed_chunks']}" if r["failed_chunks"] else ""), flush=True)
        if m == 30:
            ok = min(r["wall_s"], r["cpu_s"] / max(1, args.threads) if args.threads == 1 else r["wall_s"]) <= 120
            print(f"        30-minute target (≤ 120 s, ≤ 2600 MB): time {'met' if ok else 'NOT met'}, "
                  f"RSS {'met' if r['peak_rss_mb'] <= 2600 else 'NOT met'}", flush=True)


if __name__ == "__main__":
    main()
