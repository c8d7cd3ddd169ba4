"""Test/bench helpers: WER, and speech synthesized with espeak-ng + sox (real audio files)."""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def normalize(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]


def wer(ref: str, hyp: str) -> float:
    r, h = normalize(ref), normalize(hyp)
    if not r:
        return float(bool(h))
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / len(r)


def say(text: str, voice: str = "en-us", speed: int = 165) -> np.ndarray:
    """Speech for ``text`` as 16 kHz float32 mono (espeak-ng, resampled by sox)."""
    with tempfile.TemporaryDirectory() as d:
        raw, out = Path(d) / "raw.wav", Path(d) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True,
                       capture_output=True)
        subprocess.run(["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out)], check=True, capture_output=True)
        audio, sr = sf.read(out, dtype="float32")
    assert sr == SR
    return audio


def dialogue(turns: list[tuple[int, str, str]], gap: float = 0.8, lead: float = 0.5):
    """Place each (channel, voice, text) turn after the previous one, one voice per
    channel. Returns (stereo (n, 2) float32, [(channel, start, end, text)])."""
    pieces, t = [], lead
    for ch, voice, text in turns:
        a = say(text, voice)
        pieces.append((ch, int(t * SR), a, text))
        t += len(a) / SR + gap
    total = int((t + lead) * SR)
    out = np.zeros((total, 2), np.float32)
    truth = []
    for ch, start, a, text in pieces:
        out[start:start + len(a), ch] += a
        truth.append((ch, start / SR, (start + len(a)) / SR, text))
    return out, truth


def monologue(sentences: list[str], voice: str = "en-us", gap: float = 0.9, lead: float = 0.5):
    """Mono speech of several sentences with pauses; returns (audio, [(start, end, text)])."""
    stereo, truth = dialogue([(0, voice, s) for s in sentences], gap=gap, lead=lead)
    return stereo[:, 0].copy(), [(s, e, t) for _, s, e, t in truth]


STORY = [
    "Good morning everyone, thanks for joining the weekly planning meeting.",
    "The first topic today is the budget for the new marketing campaign.",
    "We spent about forty thousand dollars last quarter on online advertising.",
    "The results were good, and the number of new customers doubled in March.",
    "Next, the engineering team finished the mobile application release.",
    "There were three small problems with the login screen that are now fixed.",
    "Sarah will send the updated contract to the client before Friday.",
    "We also need to decide on the date for the customer workshop in June.",
    "Please review the proposal and send your comments by Wednesday evening.",
    "The last item is hiring, we have two open positions for support engineers.",
    "Let us meet again next Tuesday at ten in the morning.",
    "Thank you all, and have a productive week.",
]
