"""Transcribing a recorded file (any format PyAV decodes) with faster-whisper.

* Memory is bounded for any length: the file is decoded in 1-minute blocks
  (:func:`app.transcribe.audio.iter_blocks`); each block is cut at its quietest moment near
  the end and the remainder carried into the next block, so no word is split.
* A 2-channel file (the recorder's layout: 0 = mic/You, 1 = system/Them) is transcribed
  per channel and merged by time. A stereo file whose channels carry the same signal (an
  ordinary stereo recording) is treated as mono. Mono gets one unnamed speaker.
* VAD on (silences ≥ ``vad_min_silence_ms`` split speech), word timestamps, task is always
  "transcribe" — never a translation; language auto-detected once per channel or fixed.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from app.core.config import TranscribeSettings
from app.core.domain import Segment, Word
from app.core.errors import KithError
from app.core.events import CancelToken, EventBus, Progress, emitter
from app.core.paths import Paths
from app.transcribe.audio import SR, iter_blocks, probe
from app.transcribe.engine import LoadedWhisper, WhisperCache

SPEAKERS = {0: "You", 1: "Them", -1: ""}
BLOCK_SECONDS = 60.0
CUT_SEARCH_SECONDS = 8.0
SILENT_RMS = 1e-4
SPLIT_GAP_S = 1.5
# faster-whisper decode options for files (bench/asr_bench.py measures alternatives against
# these; change only with a WER no worse than +0.5 points)
DECODE: dict = {}


@dataclass
class Transcript:
    segments: list[Segment] = field(default_factory=list)
    language: str = ""
    duration: float = 0.0  # seconds of audio
    model: str = ""
    channels: int = 1  # 2 = transcribed per channel (You/Them)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments).strip()


def speaker_for(channel: int) -> str:
    return SPEAKERS.get(channel, "")


def _quiet_cut(buf: np.ndarray) -> int:
    """Index of the quietest 100 ms in the last few seconds of ``buf`` (a pause, most
    likely), so the block boundary falls between words."""
    n = len(buf)
    lo = max(0, n - int(CUT_SEARCH_SECONDS * SR))
    hop = SR // 10
    tail = buf[lo:n - (n - lo) % hop]
    if len(tail) < hop:
        return n
    rms = np.sqrt(np.mean(tail.reshape(-1, hop) ** 2, axis=1))
    return lo + int(np.argmin(rms)) * hop + hop // 2


def _same_signal(block: np.ndarray) -> bool | None:
    """True if both channels carry (nearly) the same audio, None if too quiet to tell."""
    a, b = block[0, :: 4], block[1, :: 4]  # a subsample is plenty, and cheap
    energy = float(np.dot(a, a) + np.dot(b, b)) / max(len(a), 1)
    if energy < SILENT_RMS ** 2:
        return None
    d = a - b
    return float(np.dot(d, d)) / max(len(a), 1) / energy < 0.02


def _lookahead(it):
    it = iter(it)
    try:
        prev = next(it)
    except StopIteration:
        return
    for item in it:
        yield prev, False
        prev = item
    yield prev, True


def transcribe_file(
    path: str | Path,
    paths: Paths,
    settings: TranscribeSettings,
    model: str | LoadedWhisper | None = None,
    language: str | None = None,
    bus: EventBus | None = None,
    cancel: CancelToken | None = None,
    progress: Callable[[float, float], None] | None = None,
    *,
    cache: WhisperCache | None = None,
    block_seconds: float = BLOCK_SECONDS,
    decode: dict | None = None,
    hotwords: str | None = None,
) -> Transcript:
    """Transcribe ``path``. ``model`` is a catalog name, a folder, or a model already
    loaded (``WhisperCache.get``); default ``settings.model``. ``progress(done, total)``
    is in audio seconds; ``cancel`` is honoured between segments. ``decode``: extra
    ``WhisperModel.transcribe`` options over :data:`DECODE` (benches). ``hotwords``: names the
    meeting's context expects (:func:`app.transcribe.context.hotwords`), a bias toward their spellings:
    each block's decoding starts from them as its prompt (``initial_prompt``, not faster-whisper's
    ``hotwords``, which with greedy decoding made it skip a whole 30 s window of speech)."""
    opts = {**DECODE, **(decode or {})}
    if hotwords:
        from app.transcribe.context import names_prompt

        opts["initial_prompt"] = names_prompt(hotwords)
    path = Path(path)
    info = probe(path)  # clear errors for missing/empty/undecodable files, before loading a model
    if isinstance(model, LoadedWhisper):
        lw = model
    else:
        lw = (cache or WhisperCache(paths)).get(model or settings.model, settings.threads, bus=bus)
    lang = (language or settings.language or "auto").strip().lower()
    lang = None if lang == "auto" else lang
    if not lw.multilingual:
        if lang not in (None, "en"):
            raise KithError(f"model {lw.name!r} only knows English, but language {lang!r} was asked for",
                            hint="use a multilingual model: --model base (or set transcribe.model)")
        lang = "en"
    emit = emitter(bus)
    total = info.duration

    def report(done: float) -> None:
        if progress is not None:
            progress(min(done, total) if total else done, total)
        emit(Progress(task="transcribe", done=min(done, total) if total else done, total=total))

    split: bool | None = None if info.channels == 2 else False
    carry: dict[int, np.ndarray] = {}
    carry_start: dict[int, float] = {}
    langs: dict[int, str | None] = {}
    done_at: dict[int, float] = {}
    segments: list[Segment] = []
    seen = 0
    report(0.0)
    damage: dict = {}
    for block, last in _lookahead(iter_blocks(path, block_seconds, damage=damage)):
        seen += block.shape[1]
        if split is None:
            same = _same_signal(block)
            if same is not None:
                split = not same
        if block.shape[0] == 1:
            chans = {-1: block[0]}
        elif split is False:  # identical channels: one mixed stream
            chans = {-1: block.mean(axis=0)}
        else:  # separate voices (or silent so far: keep both until we know)
            chans = {0: block[0], 1: block[1]}
        for ch, audio in chans.items():
            buf = np.concatenate([carry[ch], audio]) if ch in carry else audio
            start = carry_start.get(ch, (seen - block.shape[1]) / SR)
            cut = len(buf) if last else _quiet_cut(buf)
            piece = buf[:cut]
            if len(piece) and float(np.sqrt(np.mean(piece * piece))) > SILENT_RMS:
                segs, detected = _run(lw, piece, start, ch, langs.get(ch, lang), settings, cancel,
                                      lambda t, ch=ch: _tick(done_at, ch, t, report), opts)
                segments.extend(segs)
                if detected and langs.get(ch) is None and segs:
                    langs[ch] = detected
            carry[ch] = buf[cut:]
            carry_start[ch] = start + cut / SR
            _tick(done_at, ch, start + cut / SR, report)
        _release_memory()
        if split is not None:  # layout decided: drop carries of the layout not used
            for ch in [c for c in carry if (c == -1) == split]:
                carry.pop(ch, None)
                done_at.pop(ch, None)
    declared = damage.get("declared") or 0.0
    if not segments and (damage.get("bad") or (declared > 1.0 and damage.get("seconds", 0.0) < 0.5 * declared)):
        # damaged and nothing understood in what could be read: refuse rather than store an empty meeting
        raise KithError(f"{path.name} is damaged: only {damage.get('seconds', 0.0):.1f} s of {declared:.1f} s could be "
                        "decoded, and no speech was found in them",
                        hint="the file may be corrupt or truncated; nothing was stored")
    segments.sort(key=lambda s: (s.start, s.channel))
    for i, s in enumerate(segments, 1):
        s.index = i
    duration = seen / SR
    report(duration if not total else total)
    language = next((v for v in langs.values() if v), lang or "")
    return Transcript(segments=segments, language=language or "", duration=duration, model=lw.name,
                      channels=2 if split else 1)


def split_on_pauses(s, offset: float, max_gap: float = SPLIT_GAP_S):
    """Whisper may join speech across a long pause (VAD glues speech chunks together);
    split such a segment at word gaps > ``max_gap`` so that, merged with the other
    channel by time, turns stay in order. Yields (start, end, text, words)."""
    ws = list(s.words or [])
    if not ws:
        yield round(offset + s.start, 3), round(offset + s.end, 3), s.text.strip(), []
        return
    group = [ws[0]]
    for w in ws[1:] + [None]:
        if w is not None and w.start - group[-1].end <= max_gap:
            group.append(w)
            continue
        text = "".join(x.word for x in group).strip()
        if text:
            words = [Word(round(offset + x.start, 3), round(offset + x.end, 3), x.word.strip(), float(x.probability))
                     for x in group]
            yield words[0].start, words[-1].end, text, words
        if w is not None:
            group = [w]


def _release_memory() -> None:
    """Hand freed heap back to the OS between blocks (glibc keeps per-thread arenas that
    otherwise creep up over a long file). No-op elsewhere."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _tick(done_at: dict, ch: int, t: float, report) -> None:
    done_at[ch] = max(done_at.get(ch, 0.0), t)
    report(sum(done_at.values()) / len(done_at))


def _run(lw: LoadedWhisper, audio: np.ndarray, offset: float, channel: int, language: str | None,
         settings: TranscribeSettings, cancel: CancelToken | None, on_progress,
         decode: dict | None = None) -> tuple[list[Segment], str | None]:
    from faster_whisper.vad import VadOptions

    vad = VadOptions(min_silence_duration_ms=settings.vad_min_silence_ms, speech_pad_ms=300)
    kw = dict(language=language, task="transcribe", beam_size=settings.beam_size, vad_filter=True,
              vad_parameters=vad, word_timestamps=True, condition_on_previous_text=True)
    kw.update(decode or {})
    gen, info = lw.model.transcribe(audio, **kw)
    out = []
    speaker = speaker_for(channel)
    for s in gen:
        if cancel is not None:
            cancel.raise_if_cancelled()
        on_progress(offset + s.end)
        if not s.text.strip():
            continue
        for start, end, text, words in split_on_pauses(s, offset):
            out.append(Segment(start=start, end=end, text=text, speaker=speaker, channel=channel, words=words))
    return out, getattr(info, "language", None)

