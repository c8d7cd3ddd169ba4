"""Who spoke when: speaker turns inside one audio channel, and their merge with the transcript.

1. Speech regions from the Silero VAD that ships inside faster-whisper (offline).
2. 1.6 s windows every 0.8 s inside each region (a short region gets one window, zero-padded like
   Resemblyzer pads), embedded with the GE2E encoder (:mod:`app.speakers.encoder`).
3. Embeddings are centred on the channel's mean voice (removes what all windows share: channel,
   room, codec) and clustered bottom-up with average linkage on cosine similarity until no pair of
   clusters is more similar than ``threshold`` — that stopping rule *estimates* the number of
   speakers; ``max_speakers`` (the calendar's attendee count) caps it. Clusters with under
   ``min_cluster_s`` of speech are folded into their nearest neighbour.
4. Every 10 ms frame of speech takes the speaker whose centroid best matches the windows covering
   it (smoothed over neighbouring windows), so boundaries land within ~0.2 s; runs become turns.
   Overlapping speech in one channel goes to the dominant voice (one label per instant).
5. :func:`assign_speakers` labels each transcript word by the turn it falls in and splits a segment
   at word boundaries where the speaker changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from app.core.domain import Segment, Word
from app.speakers.encoder import HOP, PARTIAL_FRAMES, SAMPLE_RATE, VoiceEncoder, normalize_volume, one_blas_thread

FPS = SAMPLE_RATE // HOP  # mel frames per second (100)
CHAIN_WEIGHT = 2.0  # affinity of neighbouring windows in one speech region (tuned on the scripted set)


@dataclass
class DiarizeOptions:
    threshold: float = 0.30  # stop merging below this centred-cosine similarity (tuned on tests/speakers)
    step_s: float = 0.8  # window hop: 50 % overlap of the 1.6 s windows
    min_region_s: float = 0.4  # shorter speech bursts are labelled from their neighbours
    vote_min_s: float = 1.0  # windows shorter than this help clustering but do not label frames
    min_cluster_s: float = 3.0  # a "speaker" with less speech than this is folded into the nearest one
    max_speakers: int | None = None
    min_speakers: int = 1
    vad_threshold: float = 0.5
    min_silence_ms: int = 300
    speech_pad_ms: int = 80
    bridge_s: float = 0.6  # same speaker across a pause shorter than this = one turn
    centre: bool = True
    method: str = "spectral"
    merge_threshold: float = 0.87  # clusters whose mean voices are closer than this are one speaker (real voices:
    # two halves of one speaker 0.83-0.89; two real people in a clip 0.86-0.89; espeak voices <= 0.857 —
    # 0.93, tuned on espeak alone, split a real two-person clip into six speakers)
    max_nodes: int = 500  # spectral clustering on at most ~this many (averaged) windows
    threads: int = 2  # Python threads for the encoder (each with one BLAS thread)


@dataclass
class Turn:
    start: float
    end: float
    label: str


@dataclass
class Diarization:
    turns: list[Turn]
    centroids: dict[str, np.ndarray] = field(default_factory=dict)  # label -> L2-normed raw embedding
    speech_s: dict[str, float] = field(default_factory=dict)  # label -> seconds of speech
    regions: list[tuple[float, float]] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return list(self.centroids)


# -- audio ---------------------------------------------------------------------------------------
def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE or len(x) == 0:
        return x
    from app.capture.resample import StreamResampler  # the recorder's band-limited resampler

    return StreamResampler(rate, SAMPLE_RATE).process(x)


def load_channels(path) -> list[np.ndarray]:
    """Decode any audio file to 16 kHz float32, one array per channel (1 or 2).

    ``path`` may also be ``(samples, rate)`` already in memory (a decrypted Kith recording:
    frames × channels, or mono)."""
    from faster_whisper.audio import decode_audio

    if isinstance(path, tuple):
        samples, rate = path
        a = np.asarray(samples, np.float32)
        cols = [a] if a.ndim == 1 else [a[:, i] for i in range(min(a.shape[1], 2))]
        return [_resample(c, int(rate)) for c in cols]

    channels = _channel_count(path)
    if channels >= 2:
        left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
        return [np.asarray(left, np.float32), np.asarray(right, np.float32)]
    return [np.asarray(decode_audio(str(path), sampling_rate=SAMPLE_RATE), np.float32)]


def _channel_count(path) -> int:
    try:
        import soundfile as sf

        return int(sf.info(str(path)).channels)
    except Exception:  # noqa: BLE001 — not a libsndfile format: ask the decoder
        import av

        with av.open(str(path)) as c:
            st = c.streams.audio[0]
            return int(st.codec_context.channels or 1)


def speech_regions(audio: np.ndarray, opts: DiarizeOptions) -> list[tuple[float, float]]:
    """Speech (start, end) in seconds from faster-whisper's bundled Silero VAD."""
    from app.core.native import quiet_onnxruntime

    quiet_onnxruntime()
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if audio.size < SAMPLE_RATE // 10:
        return []
    vo = VadOptions(threshold=opts.vad_threshold, min_silence_duration_ms=opts.min_silence_ms,
                    speech_pad_ms=opts.speech_pad_ms, min_speech_duration_ms=200)
    # blocks of a minute keep the VAD's memory flat on long recordings (it batches the whole input)
    block = 60 * SAMPLE_RATE
    out: list[tuple[float, float]] = []
    for a in range(0, len(audio), block):
        chunk = audio[a:a + block]
        if len(chunk) < SAMPLE_RATE // 10:
            continue
        for d in get_speech_timestamps(chunk, vo):
            s, e = (a + d["start"]) / SAMPLE_RATE, (a + d["end"]) / SAMPLE_RATE
            if out and s - out[-1][1] < 0.1 and abs(s - a / SAMPLE_RATE) < 0.2:  # joined across the cut
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
    return out


# -- windows and embeddings ----------------------------------------------------------------------
def make_windows(regions, opts: DiarizeOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window start frames, valid lengths (frames) and region index for every region."""
    step = int(round(opts.step_s * FPS))
    starts, lengths, owner = [], [], []
    for r, (s, e) in enumerate(regions):
        if e - s < opts.min_region_s:
            continue
        a, b = int(round(s * FPS)), int(round(e * FPS))
        if b - a <= PARTIAL_FRAMES:
            starts.append(a), lengths.append(b - a), owner.append(r)
            continue
        ws = list(range(a, b - PARTIAL_FRAMES + 1, step))
        if ws[-1] + PARTIAL_FRAMES < b - step // 2:
            ws.append(b - PARTIAL_FRAMES)
        for w in ws:
            starts.append(w), lengths.append(PARTIAL_FRAMES), owner.append(r)
    return np.array(starts, np.int64), np.array(lengths, np.int64), np.array(owner, np.int64)


def embed_regions(encoder: VoiceEncoder, audio: np.ndarray, regions, opts: DiarizeOptions, cancel=None):
    starts, lengths, owner = make_windows(regions, opts)
    if not len(starts):
        return starts, lengths, owner, np.zeros((0, 256), np.float32)
    sq = n = 0.0
    for s, e in regions:
        piece = audio[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)].astype(np.float64)
        sq, n = sq + float(np.dot(piece, piece)), n + piece.size
    audio = normalize_volume(audio, rms_of=float(np.sqrt(sq / max(n, 1))))
    mel = encoder.mel_frames(audio)
    need = int(starts.max()) + PARTIAL_FRAMES
    if need > len(mel):
        mel = np.concatenate([mel, np.zeros((need - len(mel), mel.shape[1]), np.float32)])
    idx = starts[:, None] + np.arange(PARTIAL_FRAMES)[None, :]
    keep = (np.arange(PARTIAL_FRAMES)[None, :] < lengths[:, None]).astype(np.float32)[..., None]
    batch = 64

    def run(a: int) -> np.ndarray:
        if cancel is not None:
            cancel.raise_if_cancelled()
        return encoder.embed_mels(mel[idx[a:a + batch]] * keep[a:a + batch])

    return starts, lengths, owner, _parallel(run, range(0, len(starts), batch), opts.threads)


def _parallel(fn, items, threads: int) -> np.ndarray:
    """Run ``fn`` over batches with one BLAS thread each (OpenBLAS's own threads spin and waste
    CPU on these small matrices); ``threads`` Python threads share the cores (numpy releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    items = list(items)
    with threadpool_limits(1, user_api="blas"):
        if threads <= 1 or len(items) < 2:
            return np.concatenate([fn(a) for a in items])
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kith-embed") as ex:
            return np.concatenate(list(ex.map(fn, items)))


# -- clustering ----------------------------------------------------------------------------------
def _l2(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def ahc(emb: np.ndarray, threshold: float, max_k: int | None = None, min_k: int = 1,
        weights: np.ndarray | None = None) -> np.ndarray:
    """Average-linkage agglomerative clustering on cosine similarity (numpy only, O(n²) memory).

    Merges the most similar pair until the best similarity is below ``threshold`` *and* there are
    at most ``max_k`` clusters, never going under ``min_k``. Returns a cluster id per row (0..k-1).
    """
    n = len(emb)
    if n == 0:
        return np.zeros(0, np.int64)
    if n == 1:
        return np.zeros(1, np.int64)
    x = _l2(emb.astype(np.float32))
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n) if weights is None else np.asarray(weights, np.float64).copy()
    parent = np.arange(n)
    alive = np.ones(n, bool)
    rowmax = sim.max(axis=1)
    rowarg = sim.argmax(axis=1)
    k = n
    while k > max(min_k, 1):
        i = int(np.argmax(np.where(alive, rowmax, -np.inf)))
        best = rowmax[i]
        if best < threshold and (max_k is None or k <= max_k):
            break
        j = int(rowarg[i])
        si, sj = size[i], size[j]
        new = (si * sim[i] + sj * sim[j]) / (si + sj)
        new[i] = -np.inf
        new[~alive] = -np.inf
        new[j] = -np.inf
        sim[i], sim[:, i] = new, new
        sim[j], sim[:, j] = -np.inf, -np.inf
        alive[j] = False
        size[i] = si + sj
        parent[parent == j] = i
        k -= 1
        rowmax[j] = -np.inf
        rowmax[i], rowarg[i] = sim[i].max(), sim[i].argmax()
        stale = alive & ((rowarg == i) | (rowarg == j))
        stale[i] = False
        for r in np.flatnonzero(stale):
            rowmax[r], rowarg[r] = sim[r].max(), sim[r].argmax()
        better = alive & (new > rowmax)
        rowmax[better], rowarg[better] = new[better], i
    _, labels = np.unique(parent, return_inverse=True)
    return labels


def _kmeans(x: np.ndarray, k: int, seed: int = 0, n_init: int = 8, iters: int = 50) -> np.ndarray:
    """Plain k-means (k-means++ seeding, several restarts), deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        cent = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d = np.min(((x[:, None, :] - np.array(cent)[None]) ** 2).sum(-1), axis=1)
            p = d / d.sum() if d.sum() > 0 else None
            cent.append(x[rng.choice(len(x), p=p)])
        cent = np.array(cent)
        for _ in range(iters):
            lab = np.argmin(((x[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
            new = np.array([x[lab == c].mean(axis=0) if np.any(lab == c) else cent[c] for c in range(k)])
            if np.allclose(new, cent):
                break
            cent = new
        inertia = ((x - cent[lab]) ** 2).sum()
        if inertia < best_inertia:
            best, best_inertia = lab, inertia
    return best


def spectral(emb: np.ndarray, max_k: int = 8, min_k: int = 1, chain: np.ndarray | None = None) -> np.ndarray:
    """Auto-tuned spectral clustering (after Park et al. 2019, "NME-SC"): the affinity keeps each
    row's ``p`` nearest neighbours; ``p`` and the number of speakers come from the best ratio of
    ``p`` to the normalised eigengap of the graph Laplacian. Two searches: wide neighbourhoods
    (p ≤ n/4) decide whether there is more than one voice at all, narrower ones (p ≤ n/6), with
    an extra edge between neighbouring windows of one speech region (``chain``), then find the
    speakers — they keep a voice with little speech from being swallowed. Returns a cluster id
    per row."""
    n = len(emb)
    if n < 4:
        return np.zeros(n, np.int64)
    x = _l2(emb.astype(np.float64))
    sim = x @ x.T
    order = np.argsort(-sim, axis=1)
    max_k = max(1, min(max_k, n - 1))
    wide = {int(v) for v in np.linspace(2, max(3, n // 4), 12)}
    narrow = {int(v) for v in np.linspace(2, max(3, n // 6), 12)}
    def solve(p: int, with_chain: bool):
        a = np.zeros_like(sim)
        a[np.repeat(np.arange(n), p), order[:, :p].ravel()] = 1.0
        a = (a + a.T) / 2
        if with_chain and chain is not None:  # neighbouring windows of one speech region: usually one voice
            i = np.flatnonzero(chain)
            a[i, i + 1] = np.maximum(a[i, i + 1], CHAIN_WEIGHT)
            a[i + 1, i] = a[i, i + 1]
        np.fill_diagonal(a, 0)
        lam, vec = np.linalg.eigh(np.diag(a.sum(axis=1)) - a)
        gaps = np.diff(lam[:max_k + 1])
        k = int(np.argmax(gaps)) + 1 if len(gaps) else 1
        g = gaps.max() / max(lam[-1], 1e-9) if len(gaps) else 0.0
        return p / max(g, 1e-9), k, vec

    best_wide = min((solve(p, False) for p in sorted(wide)), key=lambda r: r[0])
    if best_wide[1] > 1:
        _, k, vec = min((solve(p, True) for p in sorted(narrow)), key=lambda r: r[0])
    else:
        _, k, vec = best_wide
    k = max(min_k, min(k, max_k))
    if k == 1:
        return np.zeros(n, np.int64)
    return _kmeans(vec[:, :k], k)


# -- the diarizer --------------------------------------------------------------------------------
def diarize_audio(audio: np.ndarray, encoder: VoiceEncoder, opts: DiarizeOptions | None = None,
                  cancel=None) -> Diarization:
    """Speaker turns in one 16 kHz channel. Labels are "Speaker 1", "Speaker 2", … by first turn."""
    opts = opts or DiarizeOptions()
    regions = speech_regions(audio, opts)
    starts, lengths, owner, emb = embed_regions(encoder, audio, regions, opts, cancel)
    if not regions:
        return Diarization([], regions=regions)
    if len(emb) == 0:  # only tiny bursts: one anonymous speaker
        return _single(regions, None)
    centred = _l2(emb - emb.mean(axis=0)) if (len(emb) > 2 and opts.centre) else emb
    with one_blas_thread():  # single-threaded LAPACK: the same input gives the same clusters, always
        labels = _cluster(emb, centred, owner, lengths, opts)
    if labels.max() == 0:
        return _single(regions, _l2(emb.mean(axis=0)))
    return _label_frames(regions, starts, lengths, emb, centred, labels, opts)


def _cluster(emb, centred, owner, lengths, opts: DiarizeOptions) -> np.ndarray:
    max_k = opts.max_speakers
    if opts.method == "spectral":
        groups = _chunks(owner, opts.max_nodes)
        node_emb = np.stack([emb[g].mean(axis=0) for g in groups])
        node_owner = np.array([owner[g[0]] for g in groups])
        chain = node_owner[1:] == node_owner[:-1]
        node_labels = spectral(node_emb, max_k=max_k or 8, min_k=opts.min_speakers, chain=chain)
        labels = np.zeros(len(emb), np.int64)
        for g, lab in zip(groups, node_labels):
            labels[g] = lab
    else:
        labels = ahc(centred, opts.threshold, max_k=max_k, min_k=opts.min_speakers)
    labels = _fold_small(labels, centred, lengths / FPS * 0.5, opts)
    return _merge_close(labels, emb, opts.merge_threshold)


def _label_frames(regions, starts, lengths, emb, centred, labels, opts: DiarizeOptions) -> Diarization:
    # frame scores: similarity of the covering windows to each speaker centroid, smoothed in time
    k = int(labels.max()) + 1
    cents = _l2(np.stack([centred[labels == c].mean(axis=0) for c in range(k)]))
    win_scores = centred @ cents.T  # (n_windows, k)
    total = int(round(regions[-1][1] * FPS)) + PARTIAL_FRAMES + 1
    acc = np.zeros((total, k), np.float32)
    cnt = np.zeros(total, np.float32)
    voters = lengths >= int(opts.vote_min_s * FPS)
    if not voters.any():
        voters[:] = True
    for s, ln, sc in zip(starts[voters], lengths[voters], win_scores[voters]):
        # triangular weight: a window speaks most for its centre
        w = 1.0 - np.abs(np.linspace(-1, 1, int(ln))) * 0.8
        acc[s:s + ln] += w[:, None] * sc[None, :]
        cnt[s:s + ln] += w
    frame_label = np.full(total, -1, np.int64)
    covered = cnt > 0
    frame_label[covered] = np.argmax(acc[covered], axis=1)
    turns_idx = _frames_to_turns(regions, frame_label, opts)
    # name clusters by order of first appearance
    order: list[int] = []
    for _, _, c in turns_idx:
        if c not in order:
            order.append(c)
    name = {c: f"Speaker {i + 1}" for i, c in enumerate(order)}
    turns = [Turn(a, b, name[c]) for a, b, c in turns_idx]
    centroids, speech_s = {}, {}
    for c in order:
        centroids[name[c]] = _l2(emb[labels == c].mean(axis=0)) if np.any(labels == c) else _l2(emb.mean(axis=0))
        speech_s[name[c]] = sum(b - a for a, b, cc in turns_idx if cc == c)
    return Diarization(turns, centroids, speech_s, regions)


def _chunks(owner: np.ndarray, max_nodes: int) -> list[np.ndarray]:
    """Consecutive windows of one speech region grouped so there are at most ~``max_nodes`` groups
    (keeps the spectral step's eigen-decompositions small on long meetings)."""
    n = len(owner)
    size = max(1, int(np.ceil(n / max_nodes)))
    groups, cur = [], []
    for i in range(n):
        if cur and (len(cur) >= size or owner[i] != owner[cur[-1]]):
            groups.append(np.array(cur))
            cur = []
        cur.append(i)
    if cur:
        groups.append(np.array(cur))
    return groups


def _merge_close(labels: np.ndarray, emb: np.ndarray, threshold: float) -> np.ndarray:
    """Merge clusters whose mean voices are nearly identical (the graph step can split one voice)."""
    k = int(labels.max()) + 1 if len(labels) else 0
    if k < 2:
        return labels
    cents = np.stack([emb[labels == c].mean(axis=0) for c in range(k)])
    sizes = np.array([np.sum(labels == c) for c in range(k)], np.float64)
    groups = ahc(cents, threshold, weights=sizes)
    return groups[labels]


def _single(regions, centroid) -> Diarization:
    turns = [Turn(s, e, "Speaker 1") for s, e in regions]
    cents = {"Speaker 1": centroid} if centroid is not None else {}
    return Diarization(turns, cents, {"Speaker 1": sum(e - s for s, e in regions)}, regions)


def _fold_small(labels: np.ndarray, emb: np.ndarray, secs: np.ndarray, opts: DiarizeOptions) -> np.ndarray:
    """Give the windows of clusters with under ``min_cluster_s`` of speech to the nearest big cluster."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) <= max(1, opts.min_speakers):
            break
        dur = {c: float(secs[labels == c].sum()) for c in ids}
        small = [c for c in ids if dur[c] < opts.min_cluster_s]
        if not small:
            break
        if len(small) == len(ids):  # too little speech to tell voices apart: one speaker
            labels[:] = 0
            break
        c = min(small, key=lambda x: dur[x])
        big = [b for b in ids if b != c]
        cents = _l2(np.stack([emb[labels == b].mean(axis=0) for b in big]))
        m = labels == c
        labels[m] = np.array(big)[np.argmax(emb[m] @ cents.T, axis=1)]
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def _frames_to_turns(regions, frame_label: np.ndarray, opts: DiarizeOptions) -> list[tuple[float, float, int]]:
    """Runs of equal labels inside speech regions → (start, end, cluster) turns."""
    raw: list[list] = []
    for s, e in regions:
        a, b = int(round(s * FPS)), max(int(round(e * FPS)), int(round(s * FPS)) + 1)
        lab = frame_label[a:b].copy()
        if (lab < 0).all():
            lab[:] = _nearest_label(frame_label, a, b)
        else:  # uncovered frames inside a region take the nearest covered label
            idx = np.flatnonzero(lab >= 0)
            pos = np.searchsorted(idx, np.arange(len(lab)))
            pos = np.clip(pos, 0, len(idx) - 1)
            prev = idx[np.maximum(pos - 1, 0)]
            nxt = idx[pos]
            ar = np.arange(len(lab))
            pick = np.where(np.abs(ar - prev) <= np.abs(nxt - ar), prev, nxt)
            lab = np.where(lab >= 0, lab, lab[pick])
        lab = _median3(lab, 25)  # drop label flickers shorter than ~0.25 s
        cuts = np.flatnonzero(np.diff(lab)) + 1
        bounds = [0, *cuts.tolist(), len(lab)]
        for x, y in zip(bounds[:-1], bounds[1:]):
            raw.append([(a + x) / FPS, (a + y) / FPS, int(lab[x])])
    merged: list[list] = []
    for t in raw:
        if merged and merged[-1][2] == t[2] and t[0] - merged[-1][1] <= opts.bridge_s:
            merged[-1][1] = t[1]
        else:
            merged.append(t)
    return [tuple(t) for t in merged]


def _nearest_label(frame_label: np.ndarray, a: int, b: int) -> int:
    idx = np.flatnonzero(frame_label >= 0)
    if not len(idx):
        return 0
    mid = (a + b) // 2
    return int(frame_label[idx[np.argmin(np.abs(idx - mid))]])


def _median3(lab: np.ndarray, min_run: int) -> np.ndarray:
    """Relabel runs shorter than ``min_run`` frames with the longer neighbouring run's label."""
    lab = lab.copy()
    for _ in range(3):
        cuts = np.flatnonzero(np.diff(lab)) + 1
        bounds = [0, *cuts.tolist(), len(lab)]
        runs = list(zip(bounds[:-1], bounds[1:]))
        if len(runs) < 2:
            break
        changed = False
        for i, (x, y) in enumerate(runs):
            if y - x >= min_run:
                continue
            left = runs[i - 1] if i > 0 else None
            right = runs[i + 1] if i + 1 < len(runs) else None
            nb = max([r for r in (left, right) if r], key=lambda r: r[1] - r[0])
            lab[x:y] = lab[nb[0]]
            changed = True
        if not changed:
            break
    return lab


# -- merge with the transcript ---------------------------------------------------------------------
def label_at(turns: list[Turn], start: float, end: float) -> str | None:
    """The turn label overlapping [start, end] the most (nearest turn within 1 s if none overlaps)."""
    best, best_ov = None, 0.0
    for t in turns:
        ov = min(end, t.end) - max(start, t.start)
        if ov > best_ov:
            best, best_ov = t.label, ov
    if best is not None:
        return best
    mid = (start + end) / 2
    near = min(turns, key=lambda t: min(abs(mid - t.start), abs(mid - t.end)), default=None)
    if near is not None and min(abs(mid - near.start), abs(mid - near.end)) <= 1.0:
        return near.label
    return None


def assign_speakers(segments: list[Segment], turns: list[Turn], channel: int | None = None) -> list[Segment]:
    """Label transcript segments from speaker turns, splitting a segment at word boundaries where
    the speaker changes. Segments of another ``channel`` pass through unchanged."""
    out: list[Segment] = []
    for seg in segments:
        if (channel is not None and seg.channel != channel) or not turns:
            out.append(replace(seg))
            continue
        if not seg.words:
            lab = label_at(turns, seg.start, seg.end)
            out.append(replace(seg, speaker=lab or seg.speaker))
            continue
        labs = [label_at(turns, w.start, w.end) for w in seg.words]
        fallback = label_at(turns, seg.start, seg.end) or seg.speaker
        labs = [x or fallback for x in labs]
        labs = _absorb_single_words(seg.words, labs)
        runs: list[tuple[str, list[Word]]] = []
        for w, lab in zip(seg.words, labs):
            if runs and runs[-1][0] == lab:
                runs[-1][1].append(w)
            else:
                runs.append((lab, [w]))
        if len(runs) == 1:
            out.append(replace(seg, speaker=runs[0][0], words=list(seg.words)))
            continue
        texts = split_text(seg.text or "", seg.words, [len(ws) for _, ws in runs])
        for i, ((lab, ws), text) in enumerate(zip(runs, texts)):
            out.append(replace(
                seg, id=None, speaker=lab, words=list(ws), text=text,
                start=seg.start if i == 0 else ws[0].start, end=seg.end if i == len(runs) - 1 else ws[-1].end))
    for i, s in enumerate(out, 1):
        s.index = i
    return out


def split_text(text: str, words: list[Word], sizes: list[int]) -> list[str]:
    """Cut a segment's own ``text`` into pieces of ``sizes`` consecutive words each.

    The cuts fall where each run's first word begins in ``text``, so every character (spaces,
    punctuation) of the original is kept: the pieces joined by spaces are the text again. Words are
    stored without their leading space, so gluing their texts would run the words together. When
    the words cannot be found in the text (it was edited), the pieces are the words joined by spaces."""
    offsets: list[int] = []
    pos = 0
    for w in words:
        t = (w.text or "").strip()
        if not t:
            offsets.append(pos)
            continue
        m = re.compile(r"(?<!\S)" + re.escape(t)).search(text, pos)
        k = m.start() if m else text.find(t, pos)
        if k < 0:
            offsets = []
            break
        offsets.append(k)
        pos = k + len(t)
    if len(offsets) != len(words):
        out, a = [], 0
        for n in sizes:
            out.append(" ".join(t for t in ((w.text or "").strip() for w in words[a:a + n]) if t))
            a += n
        return out
    cuts, a = [0], 0
    for n in sizes[:-1]:
        a += n
        cuts.append(offsets[a])
    cuts.append(len(text))
    return [text[x:y].strip() for x, y in zip(cuts[:-1], cuts[1:])]


def _absorb_single_words(words: list[Word], labs: list[str]) -> list[str]:
    """A lone short word between two runs of the same other speaker is a boundary wobble."""
    labs = list(labs)
    for i in range(1, len(labs) - 1):
        if labs[i - 1] == labs[i + 1] != labs[i] and words[i].end - words[i].start < 0.5:
            labs[i] = labs[i - 1]
    return labs
