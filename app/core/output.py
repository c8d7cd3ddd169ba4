"""Printing helpers for the CLI: JSON for machines, aligned tables for people.

Everything the CLI prints passes through :class:`SafeStream` (installed by ``app.cli.main``
around stdout and stderr for the duration of a command): titles, speaker names and transcript
text come from files a stranger may have written, so control characters and terminal escape
sequences (retitling, clearing, OSC 52 clipboard writes, bidi overrides) are removed from them.
Kith's own colours and line refreshes go through :func:`color` / :func:`control`, which hand
the stream a per-stream random token instead of raw escapes.
"""
from __future__ import annotations

import dataclasses
import io
import json
import re
import secrets
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence


def to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    return obj


def print_json(obj: Any, file=None) -> None:
    text = json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False)
    # JSON already escapes C0 controls; escape C1 and bidi controls too, so the data survives intact
    text = _JSON_ESCAPE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    (file or sys.stdout).write(text + "\n")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], file=None) -> None:
    out = file or sys.stdout
    rows = [["" if v is None else clean(str(v)).replace("\n", " ") for v in r] for r in rows]
    if not rows:
        out.write("(none)\n")
        return
    widths = [len(h) for h in headers]
    for r in rows:
        for i, v in enumerate(r):
            widths[i] = min(max(widths[i], len(v)), 60)

    def fmt(r: Sequence[str]) -> str:
        cells = [(v if len(v) <= 60 else v[:59] + "…").ljust(widths[i]) for i, v in enumerate(r)]
        return "  ".join(cells).rstrip()

    out.write(fmt(list(headers)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write(fmt(r) + "\n")


def color(text: str, code: str, file=None) -> str:
    stream = file or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return text
    return control(f"\033[{code}m", stream) + text + control("\033[0m", stream)


# -- terminal hygiene ----------------------------------------------------------------------
# ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/APC/PM/SOS (… BEL or ST), and 2-char ESC x
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)"  # OSC, DCS, SOS, PM, APC up to BEL/ST
    r"|\x1b[ -/]*[0-~]?"  # other escapes (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x9d\x90\x98\x9e\x9f].*?(?:\x07|\x9c|$)",  # 8-bit OSC/DCS/SOS/PM/APC
    re.DOTALL,
)
# what is left: C0 (but tab and newline), DEL, C1, and the bidi embeddings/overrides/isolates
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_ESCAPE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab and newline kept)."""
    if not text:
        return text
    text = _ESCAPES.sub("", str(text))
    return _CONTROLS.sub("", text)


def control(seq: str, file=None) -> str:
    """A terminal control sequence of Kith's own (colour, line refresh) that survives
    :class:`SafeStream`; raw on streams that are not wrapped."""
    stream = file or sys.stdout
    token = getattr(stream, "control_token", None)
    return token(seq) if token is not None else seq


class SafeStream(io.TextIOBase):
    """A text stream that cleans everything written to it (see :func:`clean`).

    Sequences of Kith's own pass as tokens made of a random nonce that data cannot guess."""

    def __init__(self, raw):
        self.raw = raw
        self._nonce = secrets.token_hex(8)
        self._seqs: list[str] = []
        self._tok = re.compile("\ue000" + self._nonce + "(\\d+)\ue001")

    def control_token(self, seq: str) -> str:
        try:
            i = self._seqs.index(seq)
        except ValueError:
            self._seqs.append(seq)
            i = len(self._seqs) - 1
        return f"\ue000{self._nonce}{i}\ue001"

    def _clean(self, s: str) -> str:
        if "\ue000" not in s:
            return clean(s)
        out, pos = [], 0
        for m in self._tok.finditer(s):
            out.append(clean(s[pos:m.start()]))
            out.append(self._seqs[int(m.group(1))])
            pos = m.end()
        out.append(clean(s[pos:]))
        return "".join(out)

    def write(self, s: str) -> int:
        self.raw.write(self._clean(s))
        return len(s)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.raw, "isatty", lambda: False)())

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self):  # noqa: D401
        return getattr(self.raw, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self.raw, "errors", "strict")

    @property
    def buffer(self):
        return self.raw.buffer

    def __getattr__(self, name):  # anything else (e.g. reconfigure) from the real stream
        return getattr(self.raw, name)


def terminal(file=None):
    """The real stream under a :class:`SafeStream` (for progress bars that redraw with \\r)."""
    stream = file or sys.stdout
    return getattr(stream, "raw", stream) if isinstance(stream, SafeStream) else stream


def ok_mark(ok: bool, file=None) -> str:
    return color("✔", "32", file) if ok else color("✘", "31", file)
