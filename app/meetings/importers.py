"""Turn transcripts users already have into segments: WebVTT and SRT as Zoom, Teams and
Meet export them, plain ``Speaker: text`` lines, and Kith's own JSON."""
from __future__ import annotations

import json
import re
from pathlib import Path

from app.core.domain import Segment, Word
from app.core.errors import KithError

TRANSCRIPT_SUFFIXES = {".vtt", ".srt", ".txt", ".json", ".md"}

_TS = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE_TIME = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_SPEAKER_LINE = re.compile(r"^\s*(?:\[?(\d{1,2}:\d{2}(?::\d{2})?)\]?\s*)?([A-Z][\w .'\-]{0,40}?)\s*:\s+(.+)$")


class ImportError_(KithError):
    pass


def _seconds(h, m, s, ms) -> float:
    frac = int(ms) / (10 ** len(ms))
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + frac


def _split_speaker(text: str) -> tuple[str, str]:
    m = _VOICE.search(text)
    if m:
        return m.group(1).strip(), _TAG.sub("", text).strip()
    text = _TAG.sub("", text).strip()
    m = re.match(r"^([A-Z][\w .'\-]{0,40}?):\s+(.+)$", text, re.S)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return "", text


def parse_cues(text: str) -> list[Segment]:
    """WebVTT or SRT: cue blocks separated by blank lines, each with a ``-->`` timing line."""
    segments: list[Segment] = []
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip().lstrip("\ufeff"))
    for block in blocks:
        lines = [ln for ln in block.splitlines() if ln.strip()]
        for i, ln in enumerate(lines):
            m = _CUE_TIME.match(ln)
            if not m:
                continue
            g = m.groups()
            start, end = _seconds(*g[:4]), _seconds(*g[4:])
            body = " ".join(lines[i + 1 :]).strip()
            if body:
                speaker, words = _split_speaker(body)
                if words:
                    # Teams/Zoom split one speaker's sentence over several cues: merge them.
                    prev = segments[-1] if segments else None
                    if prev and prev.speaker == speaker and start - prev.end < 0.5 and len(prev.text) < 400 and not prev.text.endswith((".", "?", "!")):
                        prev.text = f"{prev.text} {words}"
                        prev.end = end
                    else:
                        segments.append(Segment(start=start, end=end, text=words, speaker=speaker))
            break
    return segments


def parse_speaker_lines(text: str) -> list[Segment]:
    """``Name: what they said`` per line (optionally ``[00:01:02] Name: …``). Lines without a
    speaker continue the previous turn. Times are estimated from word counts when absent."""
    segments: list[Segment] = []
    t = 0.0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _SPEAKER_LINE.match(line)
        if m:
            stamp, speaker, words = m.groups()
            if stamp:
                parts = [int(p) for p in stamp.split(":")]
                t = float(parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0))
            dur = max(1.0, len(words.split()) / 2.5)
            segments.append(Segment(start=t, end=t + dur, text=words.strip(), speaker=speaker.strip()))
            t += dur
        elif segments:
            segments[-1].text += " " + line
            extra = len(line.split()) / 2.5
            segments[-1].end += extra
            t += extra
    return segments


def parse_kith_json(text: str) -> tuple[list[Segment], dict]:
    data = json.loads(text)
    if isinstance(data, list):
        data = {"segments": data}
    raw = data.get("segments")
    if not isinstance(raw, list):
        raise ImportError_("JSON transcript has no 'segments' list", hint="expected Kith's JSON: {\"segments\": [{start, end, text, speaker}]}")
    segs = []
    for i, s in enumerate(raw):
        try:
            words = [Word(**w) for w in s.get("words", [])]
            segs.append(
                Segment(
                    start=float(s["start"]),
                    end=float(s["end"]),
                    text=str(s["text"]).strip(),
                    speaker=str(s.get("speaker", "")),
                    channel=int(s.get("channel", -1)),
                    words=words,
                )
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ImportError_(f"segment {i} in the JSON transcript is malformed ({e})") from e
    meta = {k: v for k, v in data.items() if k != "segments"}
    return segs, meta


def import_transcript(path: Path) -> tuple[list[Segment], dict]:
    """Parse a transcript file. Returns (segments numbered 1..n, metadata)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportError_(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ImportError_(f"{path}: not a UTF-8 text transcript", hint="supported: .vtt, .srt, 'Speaker: text' lines, Kith JSON") from None
    meta: dict = {}
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            segs, meta = parse_kith_json(text)
        except json.JSONDecodeError as e:
            raise ImportError_(f"{path}: invalid JSON ({e})") from e
    elif "-->" in text:
        segs = parse_cues(text)
    else:
        segs = parse_speaker_lines(text)
    segs = [s for s in segs if s.text]
    if not segs:
        raise ImportError_(
            f"{path}: no transcript lines found",
            hint="supported: WebVTT/SRT cues, 'Speaker: text' lines, or Kith JSON",
        )
    for i, s in enumerate(segs, 1):
        s.index = i
    return segs, meta


def is_transcript(path: Path) -> bool:
    return Path(path).suffix.lower() in TRANSCRIPT_SUFFIXES
