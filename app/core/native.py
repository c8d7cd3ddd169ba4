"""Keeping native libraries quiet and private.

* onnxruntime (faster-whisper's Silero VAD) keeps a device id and a telemetry event queue
  under ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` — written when the module is
  first imported. :func:`quiet_onnxruntime` is called by every Kith function that is about to
  load the VAD or a transcriber, before anything imports onnxruntime; it sets the library's
  own switch (``ORT_DISABLE_TELEMETRY``, read once at import) and then calls
  ``onnxruntime.disable_telemetry_events()``. Nothing is patched at import time.
* llama.cpp prints its own lines on stderr (``llama_context: n_ctx_per_seq …``).
  :func:`route_llama_logs` installs a ``llama_log_set`` callback that sends them to the
  ``kith.native.llama`` logger at DEBUG level (model metadata and timings only — the library
  does not log prompts at the levels it sends there, and lines are clipped).
"""
from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("kith.native")
llama_log = logging.getLogger("kith.native.llama")


def quiet_onnxruntime() -> bool:
    """Telemetry off for onnxruntime in this process. Returns True when it was already off
    before onnxruntime was imported (i.e. nothing was written outside Kith's folders)."""
    clean = "onnxruntime" not in sys.modules
    # onnxruntime reads this switch when its module initialises; setting it is only useful
    # before the first import, harmless after.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover — faster-whisper needs it; then nothing to turn off
        return clean
    try:
        onnxruntime.disable_telemetry_events()
    except Exception:  # noqa: BLE001 — an old build without the call
        log.debug("onnxruntime has no disable_telemetry_events()")
    if not clean:
        log.debug("onnxruntime was imported before its telemetry could be switched off")
    return clean


# llama.cpp keeps ONE process-wide log callback. It must stay alive for as long as the library
# may log — not as long as the model that installed it: a callback owned by one LocalLLM and
# freed with it left llama.cpp calling freed memory, which segfaulted the next llama_init_from_model
# (the batch context) on another, still-live model. So the callback is made once, kept here
# for the life of the process, and installing it again is a no-op.
_LLAMA_CB = None


def route_llama_logs():
    """Install (once per process) a llama.cpp log callback that forwards to Kith's log.
    Returns the ctypes callback (kept alive by this module), or None when llama_cpp is not
    importable."""
    global _LLAMA_CB
    try:
        import llama_cpp
    except ImportError:  # pragma: no cover
        return None
    if _LLAMA_CB is not None:
        llama_cpp.llama_log_set(_LLAMA_CB, None)  # (something else may have replaced it)
        return _LLAMA_CB
    levels = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}  # ggml_log_level

    @llama_cpp.llama_log_callback
    def _cb(level, text, _user_data):  # noqa: ANN001 — ctypes signature
        try:
            msg = text.decode("utf-8", "replace").rstrip() if text else ""
            if msg:
                llama_log.debug("[%s] %s", logging.getLevelName(levels.get(int(level), logging.DEBUG)), msg[:200])
        except Exception:  # noqa: BLE001 — never raise into C
            pass

    _LLAMA_CB = _cb
    llama_cpp.llama_log_set(_cb, None)
    return _cb
