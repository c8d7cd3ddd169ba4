"""Speech benchmark: file transcription speed/memory and live latency, on 2 threads.

    .venv/bin/python bench/asr_bench.py [--minutes 10] [--live-seconds 600] [--models tiny.en,base]

1. Generates (once, cached in bench/out/asr/) a multi-voice espeak-ng meeting: four voices
   taking turns; a mono mix for file transcription and a 2-channel version (voice A on
   channel 0 = You, the others on channel 1 = Them) for live mode.
2. File mode, each model in a fresh subprocess (clean peak RSS): real-time factor (audio
   seconds per wall second, model load excluded), WER against the script, peak RSS. Named
   baseline in the same run: faster-whisper used directly (decode_audio of the whole file +
   WhisperModel.transcribe with its default VAD settings).
3. Live mode (subprocess): both channels fed to StreamingTranscriber at real-time pace in
   100 ms chunks; latency from the end of each utterance (as fed) to its FinalSegment, and
   from its start to its first PartialSegment; p50/p95; lag events; peak RSS.

Targets (DESIGN.md §5): tiny.en ≥ 40×, base ≥ 20× real time; final p95 ≤ 1.5 s; first
partial ≤ 1 s; RSS ≤ 500 MB with base.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out" / "asr"
VOICES = ["en-us+m3", "en-gb+f2", "en-us+f3", "en-gb+m1"]
SUBJECTS = ["the budget", "the pilot project", "the new contract", "the hiring plan", "the product launch",
            "the customer workshop", "the pricing model", "the support backlog", "the quarterly report",
            "the marketing campaign", "the data migration", "the partner agreement"]
VERBS = ["We should review", "I will send an update on", "Can you check", "Let us move forward with",
         "I think we need more time for", "The team finished the first part of", "Please share your comments on",
         "We agreed to postpone", "Maria is responsible for", "I am worried about", "Next week we will present",
         "The client asked about"]
TAILS = ["before Friday.", "by the end of the month.", "with the finance team.", "in the next meeting.",
         "as soon as possible.", "after the holidays.", "and report back on Monday.", "with a clear owner.",
         "because the deadline is close.", "so that everyone is aligned."]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# -- test material -----------------------------------------------------------------------------
def make_meeting(minutes: float):
    import numpy as np
    import soundfile as sf

    from tests.transcribe.speech import SR, say

    OUT.mkdir(parents=True, exist_ok=True)
    mono_p, stereo_p, truth_p = OUT / f"meeting{minutes:g}.wav", OUT / f"meeting{minutes:g}-2ch.wav", OUT / f"meeting{minutes:g}.json"
    if mono_p.exists() and stereo_p.exists() and truth_p.exists():
        return mono_p, stereo_p, json.loads(truth_p.read_text())
    log(f"generating a {minutes:g}-minute espeak meeting (cached in {OUT}) …")
    rng = random.Random(7)
    target = minutes * 60
    t, speaker = 0.6, 0
    pieces, truth = [], []
    while t < target - 6:
        speaker = rng.choice([s for s in range(4) if s != speaker])
        text = f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)} {rng.choice(TAILS)}"
        if rng.random() < 0.4:
            text += f" {rng.choice(VERBS)} {rng.choice(SUBJECTS)} {rng.choice(TAILS)}"
        a = say(text, VOICES[speaker])
        pieces.append((int(t * SR), a, speaker))
        truth.append({"speaker": speaker, "channel": 0 if speaker == 0 else 1, "start": t, "end": t + len(a) / SR,
                      "text": text})
        t += len(a) / SR + rng.uniform(0.7, 1.6)
    total = int(target * SR)
    stereo = np.zeros((total, 2), np.float32)
    for start, a, spk in pieces:
        a = a[: max(0, total - start)]
        stereo[start:start + len(a), 0 if spk == 0 else 1] += a
    sf.write(mono_p, stereo.sum(axis=1), SR, subtype="PCM_16")
    sf.write(stereo_p, stereo, SR, subtype="PCM_16")
    truth_p.write_text(json.dumps(truth))
    return mono_p, stereo_p, truth


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def paths():
    from app.core.paths import Paths

    return Paths.from_env()


# -- workers (each runs in its own process) --------------------------------------------------------------
VARIANTS = {  # name: (decode options over app.transcribe.file.DECODE, block seconds)
    "today": ({}, 60.0),
    "best_of=1": ({"best_of": 1}, 60.0),
    "block 120 s": ({}, 120.0),
    "block 300 s": ({}, 300.0),
    "best_of=1, block 120 s": ({"best_of": 1}, 120.0),
    "no fallback (temperature 0 only)": ({"temperature": [0.0]}, 60.0),
    "no word timestamps (info: splitting uses them)": ({"word_timestamps": False}, 60.0),
}


def worker_file(model: str, audio: str, baseline: bool, variant: str | None = None) -> dict:
    from app.core.config import TranscribeSettings
    from app.transcribe.engine import WhisperCache

    settings = TranscribeSettings(model=model, threads=2)
    t0 = time.perf_counter()
    lw = WhisperCache(paths()).get(model, 2)
    load = time.perf_counter() - t0
    rss_loaded = peak_rss_mb()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    segments = []
    t0 = time.perf_counter()
    if baseline:
        from faster_whisper.audio import decode_audio

        pcm = decode_audio(audio)
        segs, info = lw.model.transcribe(pcm, beam_size=1, vad_filter=True, word_timestamps=True,
                                         language="en")
        text = " ".join(s.text for s in segs)
        duration = len(pcm) / 16000
    else:
        from app.transcribe.file import transcribe_file

        decode, block = VARIANTS[variant] if variant else ({}, None)
        tr = transcribe_file(audio, paths(), settings, model=lw, decode=decode,
                             **({"block_seconds": block} if block else {}))
        text, duration = tr.text, tr.duration
        segments = [{"channel": x.channel, "start": x.start, "text": x.text} for x in tr.segments]
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {"load_s": load, "wall_s": wall, "duration_s": duration, "rtf": duration / wall, "text": text,
            "cpu_s": cpu, "rtf_cpu": duration / (cpu / 2), "segments": segments,
            "rss_loaded_mb": rss_loaded, "peak_rss_mb": peak_rss_mb()}


def worker_live(model: str, audio: str, seconds: float) -> dict:
    import numpy as np
    import soundfile as sf

    from app.transcribe.engine import WhisperCache
    from app.transcribe.events import CaughtUp, FinalSegment, Lagging, PartialSegment
    from app.transcribe.streaming import StreamingTranscriber

    stereo, sr = sf.read(audio, dtype="float32")
    stereo = stereo[: int(seconds * sr)]
    lw = WhisperCache(paths()).get(model, 2)
    events = []
    st = StreamingTranscriber(lw, on_event=lambda e: events.append((time.monotonic(), e)))
    # warm-up outside the measured stream (first call allocates)
    list(lw.model.transcribe(np.zeros(16000, np.float32), language="en")[0])
    n = sr // 10
    t0 = time.monotonic()
    for k, i in enumerate(range(0, len(stereo), n)):
        st.feed(stereo[i:i + n, 0], channel=0)
        st.feed(stereo[i:i + n, 1], channel=1)
        delay = t0 + (k + 1) * 0.1 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    fed_until = time.monotonic()
    st.close()
    out = []
    for wall, e in events:
        rel = wall - t0
        if isinstance(e, FinalSegment):
            out.append({"kind": "final", "wall": rel, "channel": e.segment.channel, "start": e.segment.start,
                        "end": e.segment.end, "text": e.segment.text})
        elif isinstance(e, PartialSegment):
            out.append({"kind": "partial", "wall": rel, "channel": e.channel, "start": e.start, "end": e.end,
                        "text": e.text})
        elif isinstance(e, (Lagging, CaughtUp)):
            out.append({"kind": type(e).__name__, "wall": rel, "behind": e.behind_seconds})
    return {"events": out, "fed_s": fed_until - t0, "seconds": len(stereo) / sr, "peak_rss_mb": peak_rss_mb()}


def run_worker(args: list[str]) -> dict:
    r = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- analysis ----------------------------------------------------------------------------------------------
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else float("nan")


def live_latencies(res: dict, truth: list[dict]):
    finals = [e for e in res["events"] if e["kind"] == "final"]
    partials = [e for e in res["events"] if e["kind"] == "partial"]
    horizon = res["seconds"]
    fin_lat, part_lat, missed = [], [], 0
    for u in truth:
        if u["end"] > horizon - 0.5:
            continue
        ch = u["channel"]
        # the final that carries the end of this utterance
        cands = [f for f in finals if f["channel"] == ch and f["start"] <= u["end"] and f["end"] >= u["end"] - 1.0
                 and f["end"] >= u["start"]]
        if cands:
            fin_lat.append(min(f["wall"] for f in cands) - u["end"])
        else:
            missed += 1
        pc = [p for p in partials if p["channel"] == ch and p["end"] > u["start"] and p["start"] < u["end"]]
        if pc:
            part_lat.append(min(p["wall"] for p in pc) - u["start"])
    return fin_lat, part_lat, missed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--live-model", default="tiny.en")
    ap.add_argument("--live-seconds", type=float, default=600)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--variants", action="store_true",
                    help="only the decode-settings table: each variant against today's settings, same run")
    ap.add_argument("--repeat", type=int, default=1, help="runs per variant (medians)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        kind, *rest = a.worker
        res = (worker_file(rest[0], rest[1], rest[2] == "1", rest[3] if len(rest) > 3 else None) if kind == "file" else
               worker_live(rest[0], rest[1], float(rest[2])))
        print(json.dumps(res))
        return 0

    from tests.transcribe.speech import wer

    mono, stereo, truth = make_meeting(a.minutes)
    ref = " ".join(u["text"] for u in truth)
    load = os.getloadavg()
    print(f"# ASR benchmark — {a.minutes:g}-minute 4-voice espeak meeting, 2 threads, int8, beam 1")
    print(f"# cpu count {os.cpu_count()}, load average before start {load[0]:.1f} (machine shared: figures are lower bounds)")
    print("# 'RTF from CPU time' = audio seconds / (process CPU seconds / 2): what 2 idle cores would give")
    print()
    print("| mode | model | RTF (× real time) | RTF from CPU time ÷ 2 cores | wall s | load s | WER | peak RSS MB | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    targets = {"tiny.en": 40, "base": 20}
    if a.variants:
        print("| model | settings | RTF (median) | RTF from CPU ÷ 2 | vs today | WER | WER Δ (points) | WER within +0.5 |")
        print("|---|---|---|---|---|---|---|---|")
        for model in [m for m in a.models.split(",") if m]:
            base_rtf = base_wer = None
            for name in VARIANTS:
                runs = []
                for _ in range(a.repeat):
                    log(f"file: {model} {name} …")
                    runs.append(run_worker(["file", model, str(mono), "0", name]))
                rtf = statistics.median(r["rtf"] for r in runs)
                rtf_cpu = statistics.median(r["rtf_cpu"] for r in runs)
                w = wer(ref, runs[0]["text"]) * 100
                if base_rtf is None:
                    base_rtf, base_wer = rtf, w
                ok = "—" if name == "today" else ("yes" if w <= base_wer + 0.5 else "no")  # (adopt only if also faster)
                print(f"| {model} | {name} | {rtf:.1f} | {rtf_cpu:.1f} | {rtf / base_rtf:.2f}x | {w:.2f}% | "
                      f"{w - base_wer:+.2f} | {ok} |", flush=True)
        return 0
    for model in [m for m in a.models.split(",") if m]:
        runs = [("kith transcribe_file", False)] + ([] if a.no_baseline else [("baseline: faster-whisper direct", True)])
        for label, baseline in runs:
            log(f"file: {model} ({label}) …")
            r = run_worker(["file", model, str(mono), "1" if baseline else "0"])
            tgt = targets.get(model)
            rss_t = " / RSS ≤ 500" if model == "base" else ""
            ok = "✔" if tgt and r["rtf"] >= tgt and (model != "base" or r["peak_rss_mb"] <= 500) else "✘"
            print(f"| {label} | {model} | {r['rtf']:.1f} | {r['rtf_cpu']:.1f} | {r['wall_s']:.1f} | {r['load_s']:.2f} | "
                  f"{wer(ref, r['text']):.1%} | {r['peak_rss_mb']:.0f} | ≥ {tgt}×{rss_t} {ok if not baseline else ''} |")
            sys.stdout.flush()
    log("file: tiny.en 2-channel (per-channel You/Them) …")
    r = run_worker(["file", "tiny.en", str(stereo), "0"])
    file2ch = r["segments"]
    print(f"| kith transcribe_file, 2 channels | tiny.en | {r['rtf']:.1f} | {r['rtf_cpu']:.1f} | {r['wall_s']:.1f} | {r['load_s']:.2f} | "
          f"{wer(ref, r['text']):.1%}* | {r['peak_rss_mb']:.0f} | |")
    print("\n\\* WER on 2 channels compares text in time order per channel against the script; overlaps reorder words.")

    secs = min(a.live_seconds, a.minutes * 60)
    log(f"live: {a.live_model}, {secs:.0f} s at real-time pace, 2 channels …")
    r = run_worker(["live", a.live_model, str(stereo), str(secs)])
    fin, part, missed = live_latencies(r, truth)
    finals = [e for e in r["events"] if e["kind"] == "final"]
    lags = [e for e in r["events"] if e["kind"] == "Lagging"]
    live_text = {ch: " ".join(f["text"] for f in sorted(finals, key=lambda f: f["start"]) if f["channel"] == ch) for ch in (0, 1)}
    ref_ch = {ch: " ".join(u["text"] for u in truth if u["channel"] == ch and u["end"] <= secs) for ch in (0, 1)}
    file_text = {ch: " ".join(x["text"] for x in file2ch if x["channel"] == ch and x["start"] < secs) for ch in (0, 1)}

    def per_channel_wer(hyp):
        n = {ch: len(ref_ch[ch].split()) for ch in (0, 1)}
        return sum(wer(ref_ch[ch], hyp[ch]) * n[ch] for ch in (0, 1)) / max(1, n[0] + n[1])

    live_wer, file_wer = per_channel_wer(live_text), per_channel_wer(file_text)
    print()
    print(f"## Live ({a.live_model}, {secs:.0f} s fed at real-time pace, 2 channels, 100 ms chunks)")
    print()
    print("| figure | p50 | p95 | max | target |")
    print("|---|---|---|---|---|")
    print(f"| end of utterance → final segment (s) | {pct(fin, 50):.2f} | {pct(fin, 95):.2f} | {max(fin, default=float('nan')):.2f} | p95 ≤ 1.5 {'✔' if pct(fin, 95) <= 1.5 else '✘'} |")
    print(f"| start of utterance → first partial (s) | {pct(part, 50):.2f} | {pct(part, 95):.2f} | {max(part, default=float('nan')):.2f} | ≤ 1.0 {'✔' if pct(part, 50) <= 1.0 else '✘'} (p50) |")
    print()
    print(f"utterances measured {len(fin)} (no final found for {missed}); partials for {len(part)}; "
          f"Lagging events {len(lags)}{' (max behind %.1f s)' % max(e['behind'] for e in lags) if lags else ''}; "
          f"live WER {live_wer:.1%} (file mode on the same {secs:.0f} s, same per-channel metric: {file_wer:.1%}); peak RSS {r['peak_rss_mb']:.0f} MB; feeding took {r['fed_s']:.1f} s for {r['seconds']:.0f} s of audio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
