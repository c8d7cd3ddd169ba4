"""Rendering a Transcript as txt, srt, vtt, json or md."""
from __future__ import annotations

import json

from app.core.output import to_jsonable

FORMATS = ("txt", "srt", "vtt", "json", "md")


def _ts(t: float, sep: str) -> str:
    ms = int(round(max(t, 0.0) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _clock(t: float) -> str:
    s = int(t)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def render(transcript, fmt: str) -> str:
    segs = transcript.segments
    if fmt == "txt":
        if any(s.speaker for s in segs):
            return "".join(f"{s.speaker}: {s.text}\n" for s in segs)
        return "".join(f"{s.text}\n" for s in segs)
    if fmt in ("srt", "vtt"):
        sep = "," if fmt == "srt" else "."
        out = ["WEBVTT\n"] if fmt == "vtt" else []
        for i, s in enumerate(segs, 1):
            label = f"{s.speaker}: " if s.speaker else ""
            if fmt == "vtt" and s.speaker:
                label = f"<v {s.speaker}>"
            head = f"{i}\n" if fmt == "srt" else ""
            out.append(f"{head}{_ts(s.start, sep)} --> {_ts(s.end, sep)}\n{label}{s.text}\n")
        return "\n".join(out)
    if fmt == "json":
        return json.dumps(to_jsonable({"language": transcript.language, "duration": transcript.duration,
                                       "model": transcript.model, "channels": transcript.channels,
                                       "segments": segs}), ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        lines = [f"# Transcript\n", f"*{_clock(transcript.duration)} · language {transcript.language or '?'} · model {transcript.model}*\n"]
        for s in segs:
            who = f"**{s.speaker}** " if s.speaker else ""
            lines.append(f"- `{_clock(s.start)}` {who}{s.text}")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}")
