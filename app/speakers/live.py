"""Provisional speaker labels during a live meeting, settled after it.

While the meeting runs, each finished utterance of the remote channel (a few seconds of 16 kHz
audio) is embedded and given to the nearest running speaker centroid — or a new "Speaker N" when no
centroid is similar enough. Cheap (one embedding per utterance) and stable enough to show in the
UI. After the meeting, :meth:`LiveLabeller.settle` (or the file pass, ``diarize_and_name``)
replaces the provisional labels with the offline clustering; ``settle`` returns how provisional
labels map to settled ones so the UI can relabel in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.speakers.diarize import ahc
from app.speakers.encoder import SAMPLE_RATE, VoiceEncoder


@dataclass
class LiveLabeller:
    encoder: VoiceEncoder
    new_speaker_below: float = 0.86  # cosine to the nearest centroid under which a new speaker starts
    max_speakers: int | None = None
    _cents: list[np.ndarray] = field(default_factory=list)
    _counts: list[int] = field(default_factory=list)
    _history: list[tuple[float, float, np.ndarray, str]] = field(default_factory=list)

    def label(self, audio: np.ndarray, start: float = 0.0) -> str:
        """Label one utterance (16 kHz mono) that started at ``start`` seconds."""
        audio = np.asarray(audio, np.float32)
        if len(audio) < SAMPLE_RATE // 2:
            lab = f"Speaker {int(np.argmax(self._counts)) + 1}" if self._counts else "Speaker 1"
            return lab
        emb = self.encoder.embed_utterance(audio)
        if self._cents:
            sims = np.array([c @ emb for c in self._cents])
            j = int(np.argmax(sims))
            full = self.max_speakers is not None and len(self._cents) >= self.max_speakers
            if sims[j] >= self.new_speaker_below or full:
                n = self._counts[j]
                c = (self._cents[j] * n + emb) / (n + 1)
                self._cents[j] = c / np.linalg.norm(c)
                self._counts[j] = n + 1
                lab = f"Speaker {j + 1}"
                self._history.append((start, start + len(audio) / SAMPLE_RATE, emb, lab))
                return lab
        self._cents.append(emb)
        self._counts.append(1)
        lab = f"Speaker {len(self._cents)}"
        self._history.append((start, start + len(audio) / SAMPLE_RATE, emb, lab))
        return lab

    def settle(self, threshold: float = 0.88) -> dict[str, str]:
        """Re-cluster every utterance seen (average linkage); provisional label → settled label."""
        if not self._history:
            return {}
        embs = np.stack([h[2] for h in self._history])
        groups = ahc(embs, threshold, max_k=self.max_speakers)
        order: list[int] = []
        for g in groups:
            if g not in order:
                order.append(int(g))
        votes: dict[str, dict[str, int]] = {}
        for (_, _, _, lab), g in zip(self._history, groups):
            settled = f"Speaker {order.index(int(g)) + 1}"
            votes.setdefault(lab, {}).setdefault(settled, 0)
            votes[lab][settled] += 1
        return {lab: max(v, key=v.get) for lab, v in votes.items()}
