"""Read the Resemblyzer GE2E voice-encoder weights without torch.

``resemblyzer==0.1.4`` (Apache-2.0) ships ``resemblyzer/pretrained.pt`` (17 MB) inside its wheel.
Kith installs that wheel with ``pip install --no-deps`` (requirements-models.txt) so torch is never
pulled in, finds the file with :func:`importlib.util.find_spec` (the package is never imported: its
``__init__`` imports torch) and reads it here.

The file uses torch's *legacy* serialization (pre-1.6, not a zip):

1. a pickle of the magic number ``0x1950a86a20f9469cfc6c``,
2. a pickle of the protocol version (1001),
3. a pickle of system info (byte order, type sizes),
4. the object pickle; tensors are ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``
   and storages are *persistent ids* ``("storage", FloatStorage, key, location, numel, view)``,
5. a pickle of the list of storage keys, then for each key an int64 element count followed by the
   raw little-endian storage bytes.

A restricted unpickler resolves only the handful of globals such a checkpoint needs; anything else
(arbitrary code) is refused.
"""
from __future__ import annotations

import collections
import importlib.util
import io
import pickle
import sys
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import KithError

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL = 1001
PACKAGE = "resemblyzer"
MODEL_NAME = "resemblyzer-ge2e-0.1.4"

_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


@dataclass
class _StorageType:
    name: str

    @property
    def dtype(self):
        return np.dtype(_DTYPES[self.name]).newbyteorder("<")


class _Storage:
    def __init__(self, dtype, numel: int):
        self.dtype, self.numel, self.data = dtype, numel, None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple
    stride: tuple

    def array(self) -> np.ndarray:
        base = self.storage.data
        if base is None:
            raise KithError("voice encoder weights: a tensor's storage is missing from the file")
        item = base.dtype.itemsize
        if not self.size:
            return base[self.offset:self.offset + 1].reshape(()).copy()
        view = np.lib.stride_tricks.as_strided(
            base[self.offset:], shape=tuple(self.size), strides=tuple(s * item for s in self.stride))
        return np.ascontiguousarray(view).astype(base.dtype.newbyteorder("="))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


class _Unpickler(pickle.Unpickler):
    """Allows only the globals a plain state-dict checkpoint uses."""

    def __init__(self, f, storages: dict | None = None):
        super().__init__(f)
        self.storages = storages if storages is not None else {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent id in a weights file")
        _, stype, key, _location, numel = pid[:5]
        view = pid[5] if len(pid) > 5 else None
        if key not in self.storages:
            self.storages[key] = _Storage(stype.dtype, int(numel))
        if view is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        return self.storages[key]


def _convert(obj):
    if isinstance(obj, _TensorRef):
        return obj.array()
    if isinstance(obj, dict):
        return {k: _convert(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_convert(v) for v in obj)
    return obj


def load_legacy_torch(path: Path) -> dict:
    """Load a legacy (non-zip) torch checkpoint of plain tensors into numpy arrays."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"PK":
        raise KithError(f"{path}: a zip-format torch file; only the legacy format is supported here")
    f = io.BytesIO(raw)
    try:
        if _Unpickler(f).load() != MAGIC:
            raise KithError(f"{path}: not a torch checkpoint (bad magic number)")
        if _Unpickler(f).load() != PROTOCOL:
            raise KithError(f"{path}: unsupported torch serialization protocol")
        info = _Unpickler(f).load()
        if isinstance(info, dict) and not info.get("little_endian", True):
            raise KithError(f"{path}: big-endian checkpoints are not supported")
        storages: dict = {}
        obj = _Unpickler(f, storages).load()
        keys = _Unpickler(f).load()
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            st = storages[key]
            nbytes = numel * st.dtype.itemsize
            buf = f.read(nbytes)
            if len(buf) != nbytes:
                raise KithError(f"{path}: truncated weights file")
            st.data = np.frombuffer(buf, dtype=st.dtype)
    except (pickle.UnpicklingError, EOFError, struct.error, KeyError) as e:
        raise KithError(f"{path}: cannot read the voice encoder weights ({type(e).__name__})",
                        hint="reinstall them: pip install --no-deps --force-reinstall resemblyzer==0.1.4") from e
    return _convert(obj)


def find_pretrained() -> Path:
    """Path of ``resemblyzer/pretrained.pt`` in the environment, without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    for loc in (spec.submodule_search_locations or []) if spec else []:
        p = Path(loc) / "pretrained.pt"
        if p.is_file():
            return p
    frozen = getattr(sys, "_MEIPASS", None)  # the desktop bundle carries the file itself (packaging/kith.spec)
    if frozen and (Path(frozen) / PACKAGE / "pretrained.pt").is_file():
        return Path(frozen) / PACKAGE / "pretrained.pt"
    raise KithError(
        "the speaker voice encoder weights are not installed",
        hint="install them with: pip install --no-deps resemblyzer==0.1.4 (scripts/setup.sh does this)",
    )


def load_encoder_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The LSTM/linear weights of the GE2E encoder as float32 numpy arrays, keyed like the torch state dict."""
    ckpt = load_legacy_torch(path or find_pretrained())
    state = ckpt.get("model_state", ckpt) if isinstance(ckpt, dict) else None
    need = [f"lstm.{k}_l{i}" for i in range(3) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    need += ["linear.weight", "linear.bias"]
    if not isinstance(state, dict) or any(k not in state for k in need):
        raise KithError("the voice encoder weights file does not hold the expected GE2E encoder")
    return {k: np.asarray(state[k], dtype=np.float32) for k in need}
