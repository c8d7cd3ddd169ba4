"""Reference GE2E embeddings computed with the torch implementation (resemblyzer 0.1.4, torch 2.13.0 CPU)."""
import numpy as np, soundfile as sf, torch
from resemblyzer import VoiceEncoder
enc = VoiceEncoder("cpu", verbose=False)
wav, sr = sf.read("/work/main/tests/data/jfk.wav", dtype="float32"); assert sr == 16000
spans = [(0.0, 3.0), (3.0, 6.5), (6.5, 11.0)]
embs, parts = [], []
for s, e in spans:
    w = wav[int(s*sr):int(e*sr)]
    emb, p, _ = enc.embed_utterance(w, return_partials=True, rate=1.25, min_coverage=0.75)
    embs.append(emb); parts.append(p[0])
np.save("/work/main/tests/speakers/data/ge2e_torch_jfk.npy", np.stack([np.stack(embs), np.stack(parts)]).astype(np.float32))
print(np.stack(embs).shape, torch.__version__)
