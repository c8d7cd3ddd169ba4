"""Store benchmark: encrypted (SQLCipher, raw key) vs plain stdlib sqlite3, same schema and code path.

    .venv/bin/python bench/store_bench.py [--segments 1000000] [--queries 300]

Prints bulk insert rate (segments/s through Segments.add_many, FTS triggers included), open time
with the raw key, and FTS query latency p50/p95 (Store.search: people + notes + transcripts),
side by side with the encrypted/plain ratio. Targets (DESIGN.md §5): FTS p95 ≤ 50 ms,
overhead ≤ 1.5×, insert ≥ 50,000 segments/s, open ≤ 50 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.domain import Contact, Meeting, Note, Segment  # noqa: E402
from app.core.paths import Paths  # noqa: E402
from app.store import keys as K  # noqa: E402
from app.store import migrations  # noqa: E402
from app.store.db import Store, _configure, _connect  # noqa: E402

SYLLABLES = ["ka", "ri", "to", "me", "lan", "so", "vi", "del", "pra", "qu", "ne", "mo", "tis", "ber", "go", "la", "zen",
             "fu", "cor", "an", "ex", "pol", "ti", "ru", "ma", "ven", "sta", "lo", "gri", "ot"]
COMMON = ("the we and to a of it is that you for on this in so our they be with have can will next week price "
          "deal team call send plan data budget pilot customer contract").split()


def vocabulary(rng: random.Random, n: int = 20000) -> list[str]:
    words, seen = list(COMMON), set(COMMON)
    while len(words) < n:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def texts(rng: random.Random, vocab: list[str], n: int) -> list[str]:
    cum, total = [], 0.0
    for rank in range(1, len(vocab) + 1):  # Zipf-like word frequencies, as in speech
        total += 1.0 / rank
        cum.append(total)
    out = []
    for _ in range(n):
        k = rng.randint(6, 22)
        out.append(" ".join(rng.choices(vocab, cum_weights=cum, k=k)).capitalize() + ".")
    return out


def plain_connect(path: Path, create: bool):
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def build(kind: str, folder: Path, lines: list[str], per_meeting: int, key: bytes) -> dict:
    path = folder / f"{kind}.db"
    conn = _connect(path, key, create=True) if kind == "encrypted" else plain_connect(path, True)
    _configure(conn)
    migrations.migrate(conn)
    store = Store(conn, K.MasterKey(key, kind), Paths.under(folder / kind))
    rng = random.Random(7)
    with store.transaction():
        for i in range(200):
            store.contacts.add(Contact(name=f"Person {i} {lines[i].split()[0]}", emails=[f"p{i}@bench.example"]))
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for start in range(0, len(lines), per_meeting):
        m = store.meetings.add(Meeting(title=f"Meeting {start // per_meeting}", started_at=datetime.now(timezone.utc)))
        batch = [Segment(float(j), float(j) + 2.5, text, speaker=rng.choice(("You", "Them")), channel=j % 2)
                 for j, text in enumerate(lines[start:start + per_meeting])]
        store.segments.add_many(m.id, batch)
        store.notes.add(Note(m.id, "ai", " ".join(lines[start:start + 5])))
        n += len(batch)
    insert_s, insert_cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {"path": path, "insert_rate": n / insert_s, "insert_cpu_rate": n / insert_cpu, "insert_s": insert_s, "size_mb": path.stat().st_size / 1e6}


def open_times(kind: str, path: Path, key: bytes, repeats: int = 30) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        conn = _connect(path, key, create=False) if kind == "encrypted" else plain_connect(path, False)
        migrations.check_not_newer(conn)
        _configure(conn)
        out.append(time.perf_counter() - t0)
        conn.close()
    return out


def query_times(kind: str, path: Path, key: bytes, queries: list[str]) -> tuple[list[float], int]:
    conn = _connect(path, key, create=False) if kind == "encrypted" else plain_connect(path, False)
    _configure(conn)
    store = Store(conn, K.MasterKey(key, kind), Paths.under(path.parent / kind))
    for q in queries[:20]:  # warm the page cache the way a running app has it
        store.search(q)
    out, cpu, hits = [], [], 0
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        hits += len(store.search(q, limit=20))
        out.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    store.close()
    return out, cpu, hits


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--per-meeting", type=int, default=1000, help="segments per meeting (one add_many call each)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--dir", help="where to build the two databases (default: a temp dir, removed afterwards)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    rng = random.Random(42)
    vocab = vocabulary(rng)
    t0 = time.perf_counter()
    lines = texts(rng, vocab, args.segments)
    print(f"generated {len(lines):,} segments ({time.perf_counter() - t0:.1f} s), vocabulary {len(vocab):,} words")
    queries = []
    for i in range(args.queries):  # what people type: a distinctive word, two words, a prefix, a word + a common one
        w = vocab[rng.randint(100, 8000)]
        kind = i % 4
        queries.append(w if kind == 0 else f"{w} {vocab[rng.randint(100, 8000)]}" if kind == 1
                       else w[:4] if kind == 2 else f"{rng.choice(COMMON[:12])} {w}")
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kith-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    key = K.new_master_key()
    res: dict[str, dict] = {}
    try:
        for kind in ("encrypted", "plain"):
            r = build(kind, folder, lines, args.per_meeting, key)
            print(f"{kind:9}: inserted {args.segments:,} in {r['insert_s']:.1f} s ({r['size_mb']:.0f} MB)", flush=True)
            r["open"] = open_times(kind, r["path"], key)
            r["q"], r["qcpu"], r["hits"] = query_times(kind, r["path"], key, queries)
            res[kind] = r
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    e, p = res["encrypted"], res["plain"]
    rows = [
        ("bulk insert (segments/s)", e["insert_rate"], p["insert_rate"], p["insert_rate"] / e["insert_rate"], "≥ 50,000", e["insert_rate"] >= 50000),
        ("  same, per CPU-second", e["insert_cpu_rate"], p["insert_cpu_rate"], p["insert_cpu_rate"] / e["insert_cpu_rate"], "(shared box)", e["insert_cpu_rate"] >= 50000),
        ("open, raw key (ms, median)", statistics.median(e["open"]) * 1e3, statistics.median(p["open"]) * 1e3, None, "≤ 50", statistics.median(e["open"]) * 1e3 <= 50),
        ("FTS search p50 (ms)", pct(e["q"], 50) * 1e3, pct(p["q"], 50) * 1e3, pct(e["q"], 50) / pct(p["q"], 50), "", True),
        ("FTS search p95 (ms)", pct(e["q"], 95) * 1e3, pct(p["q"], 95) * 1e3, pct(e["q"], 95) / pct(p["q"], 95), "≤ 50", pct(e["q"], 95) * 1e3 <= 50),
        ("  FTS p50, CPU time (ms)", pct(e["qcpu"], 50) * 1e3, pct(p["qcpu"], 50) * 1e3, pct(e["qcpu"], 50) / max(pct(p["qcpu"], 50), 1e-9), "", True),
        ("  FTS p95, CPU time (ms)", pct(e["qcpu"], 95) * 1e3, pct(p["qcpu"], 95) * 1e3, pct(e["qcpu"], 95) / pct(p["qcpu"], 95), "≤ 50", pct(e["qcpu"], 95) * 1e3 <= 50),
        ("database size (MB)", e["size_mb"], p["size_mb"], e["size_mb"] / p["size_mb"], "", True),
    ]
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"\nKith store benchmark — {args.segments:,} segments, {args.queries} queries, SQLCipher "
          f"{K.__name__ and _cipher_version()} vs stdlib sqlite3 {sqlite3.sqlite_version}, {os.cpu_count()} cores")
    print(f"{'metric':<28}{'encrypted':>12}{'plain':>12}{'ratio':>8}  {'target':<10} ok")
    for name, ev, pv, ratio, target, ok in rows:
        r = f"{ratio:.2f}×" if ratio is not None else (f"{ev / pv:.2f}×" if pv else "")
        print(f"{name:<28}{ev:>12,.1f}{pv:>12,.1f}{r:>8}  {target:<10} {'✔' if ok else '✘'}")
    kinds = ["one word", "two words", "4-letter prefix", "common word + word"]
    print("\nFTS latency by query kind (encrypted, wall ms: p50 / p95):")
    for k, label in enumerate(kinds):
        qs = e["q"][k::4]
        ps = p["q"][k::4]
        print(f"  {label:<22} {pct(qs, 50) * 1e3:7.1f} / {pct(qs, 95) * 1e3:7.1f}    plain {pct(ps, 50) * 1e3:7.1f} / {pct(ps, 95) * 1e3:7.1f}")
    print("ratio = encrypted cost / plain cost (time; for insert rate plain/encrypted). Hits per run:",
          e["hits"], "encrypted,", p["hits"], "plain (must match)")
    return 0 if e["hits"] == p["hits"] else 1


def _cipher_version() -> str:
    import sqlcipher3

    c = sqlcipher3.connect(":memory:")
    try:
        return c.execute("PRAGMA cipher_version").fetchone()[0]
    finally:
        c.close()


if __name__ == "__main__":
    raise SystemExit(main())
