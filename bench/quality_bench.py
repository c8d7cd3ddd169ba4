#!/usr/bin/env python3
"""Minutes quality on a labelled corpus, today's pipeline against a baseline, same run.

    .venv/bin/python bench/quality_bench.py                        # every meeting, new + baseline
    .venv/bin/python bench/quality_bench.py --meetings 4           # the first 4 (scripted first)
    .venv/bin/python bench/quality_bench.py --only s01 ami-ES2005a # by id prefix
    .venv/bin/python bench/quality_bench.py --baseline-src /work/wt/baseline   # a checkout of the old code
    .venv/bin/python bench/quality_bench.py --reuse bench/out/base.json        # score saved answers again
    .venv/bin/python bench/quality_bench.py --baseline-src . --baseline-path /tmp/llama-other  # two llama-cpp-python versions

The corpus (bench/data/README.md): real AMI meetings from QMSum's TRAIN split with their human
reference summaries, and scripted meetings with labelled action items (owner, task keywords,
due date), decisions and people. Each pipeline runs in its own subprocess with PYTHONPATH at its
source tree (so the baseline is the old code, not a flag), on the same model; its answers are
saved as JSON under bench/out/ and scored here, by code that shares nothing with app/extract:

- owner-right recall: labelled action items found (keywords in the task or its quote) with
  the right owner; precision: kept items that are a labelled item with the right owner
  (items matching an "optional" label — e.g. a vague "I'll ask finance" — count neither way);
- due accuracy: matched items whose due date equals the label (None = no deadline);
- supported: share of kept action items and decisions whose cited lines hold at least half of
  the item's content words and, for an owned action, the owner is the cited line's speaker, is
  named there, or was addressed in the line before;
- junk: kept action items that match no label (labelled meetings), plus forbidden words
  (injection); leaks: instruction words of the prompt found in any output;
- ROUGE-1/2/L F1 (rouge-score, Porter stemming) of the summary against the reference;
  cut: summaries that do not end with a full stop.
Wall and LLM seconds per meeting come from each run's audit (the machine is shared: compare the
ratio new/baseline of the same run, not absolute figures).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "out"

LEAKS = re.compile(r"make each one|contain commitments|\bS\d{1,4}\b|<<<|>>>|\bJSON\b|segments? \d+|the transcript says",
                   re.IGNORECASE)
_STOP = frozenset("""a an the and or but if so of to in on at by for with from up out into about as is are was were be been
am do does did have has had will would shall should can could may might must i me my we us our you your he him his she her
it its they them their this that these those there here what which who when where why how all any each some no not yes
ok okay just also very really well let lets i'll i'm we'll you'll it's that's get got make sure thing things please
thanks good right now like know think want need one going gonna""".split())


# ----------------------------------------------------------------------------- corpus

def load_corpus() -> list[dict]:
    files = sorted((DATA / "scripted").glob("*.json")) + sorted(DATA.glob("*.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def segments_of(m: dict) -> list[dict]:
    """The meeting as Kith would see it: real imports keep their speaker labels (channel -1);
    scripted two-channel calls put the user on channel 0 ("You") and the far side on 1."""
    if "segments" in m:
        return [dict(s, channel=-1) for s in m["segments"]]
    out, t = [], 0.0
    for speaker, text in m["lines"]:
        dur = max(1.5, len(text.split()) / 2.5)
        if m.get("channels") == 2:
            ch = 0 if speaker == "You" else 1
        else:
            ch = -1
        out.append({"start": round(t, 2), "end": round(t + dur, 2), "speaker": speaker, "text": text, "channel": ch})
        t += dur + 0.3
    return out


# ----------------------------------------------------------------------------- worker (subprocess)

def worker(ids: list[str], out_path: str, threads: int) -> None:
    """Runs inside the pipeline under test (PYTHONPATH = its source tree)."""
    from datetime import date

    import app
    from app.catalog import resolve_llm
    from app.core.domain import Segment
    from app.core.paths import Paths
    from app.extract import LocalLLM, MeetingContext, extract_meeting

    paths = Paths.from_env().ensure()
    llm = LocalLLM(resolve_llm(paths, "qwen2.5-coder-1.5b"), n_threads=threads, hash_cache_dir=paths.models)
    corpus = {m["id"]: m for m in load_corpus()}
    import llama_cpp

    results = {"source": f"{Path(app.__file__).resolve().parents[1]}, llama-cpp-python {llama_cpp.__version__}",
               "meetings": {}}
    for mid in ids:
        m = corpus[mid]
        segs = [Segment(start=s["start"], end=s["end"], text=s["text"], speaker=s["speaker"], channel=s["channel"],
                        index=i) for i, s in enumerate(segments_of(m), 1)]
        ctx = MeetingContext(title=m["title"], date=date.fromisoformat(m["date"]),
                             attendees=[tuple(a) for a in m.get("attendees", [])], user_name=m.get("user_name", "You"),
                             template=m.get("template", "general"))
        t0 = time.perf_counter()
        try:
            r = extract_meeting(segs, ctx, llm)
            res = json.loads(r.model_dump_json())
        except Exception as e:  # a failure is a result too
            res = {"error": f"{type(e).__name__}: {e}"}
        res["wall_s"] = round(time.perf_counter() - t0, 2)
        results["meetings"][mid] = res
        print(f"  {mid}: {res['wall_s']:.0f} s", file=sys.stderr, flush=True)
        Path(out_path).write_text(json.dumps(results, indent=1))


def run_pipeline(src: Path, ids: list[str], out_path: Path, threads: int, first_on_path: str = "") -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (first_on_path, str(src)) if p))
    env.setdefault("KITH_PASSPHRASE", "bench")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", out_path.as_posix(), "--threads", str(threads),
           "--only", *ids]
    print(f"running {src} on {len(ids)} meeting(s) …", file=sys.stderr, flush=True)
    subprocess.run(cmd, env=env, check=True, cwd=str(src))
    return json.loads(out_path.read_text())


# ----------------------------------------------------------------------------- scoring

def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if w not in _STOP and len(w) > 1]


def _has(word: str, haystack: set[str]) -> bool:
    w = word[:5]
    return any(h.startswith(w) or (len(h) >= 4 and w.startswith(h[:5])) for h in haystack)


def _first(name: str) -> str:
    return (name or "").split()[0].lower() if (name or "").split() else ""


def _kw_match(keywords: list[str], text: str) -> bool:
    hay = set(re.findall(r"[a-z0-9]+", text.lower()))
    return all(all(_has(k, hay) for k in re.findall(r"[a-z0-9]+", kw.lower())) for kw in keywords)


def _owner_ok(item: dict, label_owner: str, user_name: str) -> bool:
    if _first(label_owner) == _first(user_name):
        return bool(item.get("owner_is_user")) or _first(item.get("owner", "")) == _first(user_name)
    return not item.get("owner_is_user") and _first(item.get("owner", "")) == _first(label_owner)


def supported(item: dict, text: str, segs: list[dict], user_name: str, is_action: bool) -> bool:
    """The bench's own judge of a citation (shares no code with app/extract)."""
    ev = [i for i in item.get("evidence", []) if 1 <= i <= len(segs)]
    if not ev:
        return False
    cited = " ".join(segs[i - 1]["text"] for i in ev)
    words = set(_words(text))
    hay = set(re.findall(r"[a-z0-9]+", cited.lower()))
    if words and sum(_has(w, hay) for w in words) / len(words) < 0.5:
        return False
    if not is_action:
        return True
    owner = item.get("owner", "unassigned")
    if owner in ("", "unassigned") or owner.lower().startswith("speaker"):
        return True
    who = _first(user_name) if item.get("owner_is_user") else _first(owner)
    for i in ev:
        s = segs[i - 1]
        speaker = _first(user_name) if s["speaker"] == "You" else _first(s["speaker"])
        prev = segs[i - 2]["text"].lower() if i >= 2 else ""
        if who == speaker or who in s["text"].lower() or who in prev:
            return True
        if item.get("owner_is_user") and "you" in prev.split():  # "can you…" to the user
            return True
    return False


def score_meeting(m: dict, res: dict) -> dict:
    lab = m.get("labels", {})
    segs = segments_of(m)
    user = m.get("user_name", "You")
    sc: dict = {"id": m["id"], "kind": m["kind"]}
    if "error" in res:
        sc["error"] = res["error"]
        return sc
    items = res.get("action_items", [])
    sc["items"] = len(items)
    sc["wall_s"] = res.get("wall_s", 0.0)
    sc["llm_s"] = res.get("audit", {}).get("timings", {}).get("llm_s", 0.0)
    sc["completion_tokens"] = res.get("audit", {}).get("tokens", {}).get("completion", 0)
    texts = [res.get("summary", "")] + res.get("key_points", []) + [d["text"] for d in res.get("decisions", [])] + \
        [a["task"] for a in items]
    sc["leaks"] = [t for t in texts if LEAKS.search(t or "")]
    # support, by the bench's judge
    judged = [(a, a["task"], True) for a in items] + [(d, d["text"], False) for d in res.get("decisions", [])]
    sc["kept"] = len(judged)
    sc["supported"] = sum(supported(x, t, segs, user, act) for x, t, act in judged)
    sc["unsupported_examples"] = [
        {"item": t, "owner": x.get("owner", ""), "cited": [segs[i - 1]["text"] for i in x.get("evidence", [])
                                                          if 1 <= i <= len(segs)][:2]}
        for x, t, act in judged if not supported(x, t, segs, user, act)][:4]
    if "action_items" in lab:
        labelled, optional = lab["action_items"], lab.get("optional", [])
        hits, due_ok, due_n, used = 0, 0, 0, set()
        for L in labelled:
            cands = [(k, a) for k, a in enumerate(items) if _kw_match(L["keywords"], a["task"] + " " + a.get("quote", ""))]
            good = [(k, a) for k, a in cands if _owner_ok(a, L["owner"], user)]
            if good:
                k, a = good[0]
                hits += 1
                used.add(k)
                due_n += 1
                due_ok += (a.get("due") or None) == L.get("due")
            used.update(k for k, _ in cands)  # a duplicate of a found item is not junk
        opt = {k for k, a in enumerate(items) for O in optional
               if _kw_match(O["keywords"], a["task"] + " " + a.get("quote", ""))}
        counted = [k for k in range(len(items)) if k not in (opt - used)]
        right = sum(1 for k in counted if k in used and any(
            _kw_match(L["keywords"], items[k]["task"] + " " + items[k].get("quote", ""))
            and _owner_ok(items[k], L["owner"], user) for L in labelled))
        sc.update(labelled=len(labelled), found=hits, precision_n=len(counted), precision_hits=right,
                  due_n=due_n, due_ok=due_ok)
        junk = [items[k]["task"] for k in counted if k not in used]
        forb = [a["task"] for a in items if any(f.lower() in (a["task"] + " ").lower()
                                                for f in lab.get("forbidden_actions", []))]
        sc["junk"] = junk + [f"FORBIDDEN: {t}" for t in forb if t not in junk]
        sc["wrong_owner"] = [(items[k]["task"], items[k]["owner"]) for k in used
                             if not any(_owner_ok(items[k], L["owner"], user) for L in labelled)][:4]
    ref = lab.get("summary")
    summ = (res.get("summary") or "").strip()
    sc["cut"] = bool(summ) and summ[-1] not in ".!?\"'"
    if ref:
        from rouge_score import rouge_scorer

        r = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(ref, summ)
        sc["rouge"] = {k: round(100 * v.fmeasure, 1) for k, v in r.items()}
    sc["summary"] = summ
    return sc


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:5.1f}" if b else "   - "


def overall(scores: list[dict]) -> dict:
    ok = [s for s in scores if "error" not in s]
    lab = [s for s in ok if "labelled" in s]
    rouge = [s["rouge"] for s in ok if "rouge" in s]
    o = {
        "meetings": len(scores), "errors": len(scores) - len(ok),
        "recall": (sum(s["found"] for s in lab), sum(s["labelled"] for s in lab)),
        "precision": (sum(s["precision_hits"] for s in lab), sum(s["precision_n"] for s in lab)),
        "due": (sum(s["due_ok"] for s in lab), sum(s["due_n"] for s in lab)),
        "supported": (sum(s["supported"] for s in ok), sum(s["kept"] for s in ok)),
        "junk": sum(len(s["junk"]) for s in lab),
        "leaks": sum(len(s["leaks"]) for s in ok),
        "cut": sum(s["cut"] for s in ok),
        "wall_s": round(sum(s["wall_s"] for s in ok), 1),
        "llm_s": round(sum(s["llm_s"] for s in ok), 1),
    }
    for k in ("rouge1", "rouge2", "rougeL"):
        o[k] = round(sum(r[k] for r in rouge) / len(rouge), 1) if rouge else None
    return o


def line(name: str, s: dict) -> str:
    if "error" in s:
        return f"{name:<24} ERROR {s['error'][:90]}"
    parts = [f"{name:<24}"]
    if "labelled" in s:
        parts.append(f"recall {s['found']}/{s['labelled']}  prec {s['precision_hits']}/{s['precision_n']}  "
                     f"due {s['due_ok']}/{s['due_n']}  junk {len(s['junk'])}")
    parts.append(f"supported {s['supported']}/{s['kept']}  leaks {len(s['leaks'])}  cut {int(s['cut'])}")
    if "rouge" in s:
        r = s["rouge"]
        parts.append(f"R1 {r['rouge1']:.1f} R2 {r['rouge2']:.1f} RL {r['rougeL']:.1f}")
    parts.append(f"{s['wall_s']:.0f} s")
    return "  ".join(parts)


def overall_line(name: str, o: dict) -> str:
    r = (f"R1 {o['rouge1']} R2 {o['rouge2']} RL {o['rougeL']}" if o["rouge1"] is not None else "no ROUGE")
    return (f"{name:<10} recall {_pct(*o['recall'])}% ({o['recall'][0]}/{o['recall'][1]})  "
            f"precision {_pct(*o['precision'])}% ({o['precision'][0]}/{o['precision'][1]})  "
            f"due {_pct(*o['due'])}%  supported {_pct(*o['supported'])}% ({o['supported'][0]}/{o['supported'][1]})  "
            f"junk {o['junk']}  leaks {o['leaks']}  cut {o['cut']}  {r}  wall {o['wall_s']} s  llm {o['llm_s']} s"
            + (f"  errors {o['errors']}" if o["errors"] else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meetings", type=int, help="only the first N meetings (scripted first)")
    ap.add_argument("--only", nargs="+", help="meeting ids (or id prefixes)")
    ap.add_argument("--baseline-src", default="/work/wt/baseline", help="source tree of the baseline (git worktree)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline-path", default="", metavar="DIR",
                    help="put DIR first on the baseline's path, e.g. another llama-cpp-python installed with "
                         "`pip install --target DIR` (with --baseline-src . : the same code on two library versions)")
    ap.add_argument("--reuse", nargs="*", default=[], help="saved answers to score instead of running (new, base)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tag", default="", help="suffix of the saved answer files in bench/out/")
    ap.add_argument("--verbose", "-v", action="store_true", help="print summaries, junk and unsupported items")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    corpus = load_corpus()
    ids = [m["id"] for m in corpus]
    if a.only:
        ids = [i for p in a.only for i in ids if i.startswith(p)]  # in the order asked
        ids = list(dict.fromkeys(ids))
    if a.meetings:
        ids = ids[: a.meetings]
    if a.worker:
        worker(ids, a.worker, a.threads)
        return 0
    if not ids:
        print("kith: error: no meeting matches --only/--meetings (see bench/data/)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict] = {}
    if a.reuse:
        for name, f in zip(("new", "base"), a.reuse):
            runs[name] = json.loads(Path(f).read_text())
    else:
        tag = a.tag or time.strftime("%Y%m%d-%H%M%S")
        runs["new"] = run_pipeline(ROOT, ids, OUT / f"new-{tag}.json", a.threads)
        if not a.no_baseline:
            runs["base"] = run_pipeline(Path(a.baseline_src).resolve(), ids, OUT / f"base-{tag}.json", a.threads,
                                        a.baseline_path)
    by_id = {m["id"]: m for m in corpus}
    summary = {}
    for name, run in runs.items():
        print(f"\n== {name}: {run.get('source', '')}")
        scores = [score_meeting(by_id[i], run["meetings"][i]) for i in ids if i in run["meetings"]]
        for s in scores:
            print(line(s["id"], s))
            if a.verbose and "error" not in s:
                print(f"    summary: {s['summary'][:400]}")
                for j in s.get("junk", []):
                    print(f"    junk: {j}")
                for w in s.get("wrong_owner", []):
                    print(f"    wrong owner: {w}")
                for u in s["unsupported_examples"]:
                    print(f"    unsupported: {u}")
                for lk in s["leaks"]:
                    print(f"    leak: {lk[:120]}")
        summary[name] = overall(scores)
    print()
    for name, o in summary.items():
        print(overall_line(name, o))
    if "new" in summary and "base" in summary and summary["base"]["wall_s"]:
        print(f"time new/baseline: {summary['new']['wall_s'] / summary['base']['wall_s']:.2f} (wall), "
              f"{summary['new']['llm_s'] / max(summary['base']['llm_s'], 0.01):.2f} (llm)  — shared 2-core machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
