"""Scripted multi-voice meetings spoken by espeak-ng, with the exact timing of every turn.

A *script* is a list of ``(voice, text)`` turns (or ``(voice, text, channel)``); each voice is an
espeak-ng voice with its own pitch and speed. :func:`render` speaks every turn, trims the
synthesiser's leading/trailing silence, lays the turns end to end with pauses (or a small overlap
when asked) and returns the 16 kHz audio plus the reference turns ``(start, end, speaker)`` measured
on the samples actually written — the ground truth for the DER test.
"""
from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

SR = 16000


@dataclass(frozen=True)
class Voice:
    name: str  # the speaker's reference label
    espeak: str  # espeak-ng voice, e.g. "en-us+m3"
    pitch: int = 50
    speed: int = 165


# four clearly different voices (variant, accent, pitch, speed all differ)
VOICES = {
    "ana": Voice("ana", "en-gb+f2", pitch=68, speed=160),
    "tom": Voice("tom", "en-us+m3", pitch=35, speed=170),
    "diane": Voice("diane", "en-us+f4", pitch=80, speed=185),
    "raj": Voice("raj", "en+m7", pitch=25, speed=150),
    "me": Voice("me", "en-gb-scotland+m1", pitch=50, speed=175),
}


def speak(voice: Voice, text: str) -> np.ndarray:
    """espeak-ng → 16 kHz float32 mono, leading/trailing silence trimmed."""
    from faster_whisper.audio import decode_audio

    wav = subprocess.run(
        ["espeak-ng", "-v", voice.espeak, "-p", str(voice.pitch), "-s", str(voice.speed), "--stdout", text],
        check=True, capture_output=True).stdout
    audio = decode_audio(io.BytesIO(wav), sampling_rate=SR)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]:loud[-1] + 1].astype(np.float32) if loud.size else audio


def render(script, gaps=(0.35, 0.6, 0.9, 0.45), overlap_every: int = 0, overlap_s: float = 0.6,
           channels: int = 1, lead_in: float = 0.5):
    """Speak a script. Returns ``(audio, reference)``; audio is (n,) or (n, channels),
    reference is a list of ``(start, end, speaker, channel)``.

    ``overlap_every=k`` starts every k-th turn ``overlap_s`` before the previous one ends.
    """
    pieces, ref = [], []
    t = lead_in
    for i, turn in enumerate(script):
        name, text = turn[0], turn[1]
        ch = turn[2] if len(turn) > 2 else (0 if channels == 1 else 1)
        audio = speak(VOICES[name], text)
        if i and overlap_every and i % overlap_every == 0:
            t = max(ref[-1][0] + 0.5, ref[-1][1] - overlap_s)
        start = int(round(t * SR))
        pieces.append((start, ch, audio))
        ref.append((start / SR, (start + len(audio)) / SR, name, ch))
        t = (start + len(audio)) / SR + gaps[i % len(gaps)]
    n = max(s + len(a) for s, _, a in pieces) + int(0.5 * SR)
    out = np.zeros((n, channels), np.float32)
    for s, ch, a in pieces:
        out[s:s + len(a), ch] += a
    peak = float(np.abs(out).max()) or 1.0
    if peak > 0.99:
        out *= 0.99 / peak
    return (out[:, 0] if channels == 1 else out), ref


def write(path, audio) -> None:
    sf.write(str(path), audio, SR, subtype="PCM_16")
