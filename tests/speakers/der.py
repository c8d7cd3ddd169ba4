"""Diarization error rate (DER), computed on a 10 ms frame grid.

For every scored frame let R be the set of reference speakers talking and H the set of hypothesis
labels. With a one-to-one *mapping* of hypothesis labels to reference speakers,

* missed speech  = max(0, |R| − |H|)           (speech nobody was credited for),
* false alarm    = max(0, |H| − |R|)           (speech credited where nobody spoke),
* confusion      = min(|R|, |H|) − |mapped(H) ∩ R|   (credited to the wrong person).

DER = (Σ missed + Σ false alarm + Σ confusion) / Σ |R|, summed over frames. The mapping is the one
that maximises the total time where a hypothesis label and its reference speaker talk together
(the optimal assignment, found exhaustively — meetings here have a handful of speakers).

``collar`` seconds around every reference turn boundary are not scored, the usual forgiveness for
imprecise human (here: synthesiser-silence) boundaries; 0 scores every frame. Overlapping
reference turns are allowed (both speakers count in R).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

STEP = 0.01


@dataclass
class DER:
    der: float
    missed: float  # seconds
    false_alarm: float
    confusion: float
    total: float  # seconds of reference speech scored
    mapping: dict


def _grid(turns, labels, n):
    m = np.zeros((len(labels), n), bool)
    idx = {lab: i for i, lab in enumerate(labels)}
    for s, e, lab in turns:
        m[idx[lab], int(round(s / STEP)):int(round(e / STEP))] = True
    return m


def der(reference, hypothesis, collar: float = 0.0) -> DER:
    """``reference``/``hypothesis``: iterables of ``(start, end, label)`` in seconds."""
    reference = [(float(s), float(e), lab) for s, e, lab in reference]
    hypothesis = [(float(s), float(e), lab) for s, e, lab in hypothesis]
    end = max([e for _, e, _ in reference + hypothesis] + [0.0])
    n = int(round(end / STEP)) + 1
    rl = sorted({lab for *_, lab in reference})
    hl = sorted({lab for *_, lab in hypothesis})
    R, H = _grid(reference, rl, n), _grid(hypothesis, hl, n)
    scored = np.ones(n, bool)
    if collar > 0:
        c = int(round(collar / STEP))
        for s, e, _ in reference:
            for b in (int(round(s / STEP)), int(round(e / STEP))):
                scored[max(0, b - c):b + c] = False
    R, H = R[:, scored], H[:, scored]
    co = (R[:, None, :] & H[None, :, :]).sum(axis=2)  # overlap ref i × hyp j (frames)
    best, mapping = -1, {}
    small, large = (len(hl), len(rl)) if len(hl) <= len(rl) else (len(rl), len(hl))
    for perm in itertools.permutations(range(large), small):
        pairs = list(zip(range(small), perm))
        if len(hl) <= len(rl):
            score = sum(co[r, h] for h, r in pairs)
            cand = {hl[h]: rl[r] for h, r in pairs}
        else:
            score = sum(co[r, h] for r, h in pairs)
            cand = {hl[h]: rl[r] for r, h in pairs}
        if score > best:
            best, mapping = score, cand
    n_ref, n_hyp = R.sum(axis=0), H.sum(axis=0)
    correct = np.zeros(R.shape[1], np.int64)
    for h, r in mapping.items():
        correct += H[hl.index(h)] & R[rl.index(r)]
    missed = np.maximum(0, n_ref - n_hyp).sum()
    fa = np.maximum(0, n_hyp - n_ref).sum()
    conf = (np.minimum(n_ref, n_hyp) - correct).sum()
    total = n_ref.sum()
    return DER((missed + fa + conf) / max(total, 1), missed * STEP, fa * STEP, conf * STEP, total * STEP, mapping)
