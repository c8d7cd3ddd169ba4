"""Turn transcripts users already have into segments: WebVTT and SRT as Zoom, Teams and
Meet export them, plain ``Speaker: text`` lines, and Kith's own JSON."""
from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core.domain import Segment, Word
from app.core.errors import KithError

TRANSCRIPT_SUFFIXES = {".vtt", ".srt", ".txt", ".json", ".md"}
MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 32  # Kith's JSON is 4 deep; 200,000 nested brackets must not reach json.loads
MAX_LINE_CHARS = 1200  # longer lines are split at sentence boundaries (a chunk must fit the model's context)

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


_JSON_HINT = 'expected Kith\'s JSON: {"title": "…", "language": "en", "segments": [{"start": 0.0, "end": 1.5, "text": "…", "speaker": "…"}]}'


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, str_max_length=1_000_000)


class _JsonWord(_Strict):
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str = Field(default="", max_length=1000)
    probability: float = Field(default=1.0, ge=0, le=1)


class _JsonSegment(_Strict):
    start: float = Field(ge=0, le=10 * 24 * 3600)
    end: float = Field(ge=0, le=10 * 24 * 3600)
    text: str
    speaker: str = Field(default="", max_length=200)
    channel: int = Field(default=-1, ge=-1, le=1)
    words: list[_JsonWord] = Field(default_factory=list)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _number(cls, v):  # "12.5" or true must not pass as a time
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError("must be a number of seconds")
        return v


class _JsonTranscript(_Strict):
    title: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=16)
    segments: list[_JsonSegment]


def _json_depth_ok(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Bracket nesting of ``text`` (outside strings) stays within ``limit``."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return False
        elif c in "]}":
            depth -= 1
    return True


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_kith_json(text: str) -> tuple[list[Segment], dict]:
    """Kith's JSON transcript, validated: a clear ImportError_ for anything else."""
    if not _json_depth_ok(text):
        raise ImportError_(f"JSON transcript nested deeper than {MAX_JSON_DEPTH} levels", hint=_JSON_HINT)
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        raise ImportError_(f"invalid JSON ({e})", hint=_JSON_HINT) from None
    except (ValueError, RecursionError) as e:
        raise ImportError_(f"invalid JSON ({str(e)[:100] or type(e).__name__})", hint=_JSON_HINT) from None
    if isinstance(data, list):
        data = {"segments": data}
    if not isinstance(data, dict):
        raise ImportError_(f"JSON transcript is a {type(data).__name__}, not an object with 'segments'", hint=_JSON_HINT)
    if not isinstance(data.get("segments"), list):
        raise ImportError_("JSON transcript has no 'segments' list", hint=_JSON_HINT)
    try:
        doc = _JsonTranscript.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = re.sub(r" or instance of \w+", "", err["msg"])
        raise ImportError_(f"JSON transcript: {where}: {msg}", hint=_JSON_HINT) from None
    segs = []
    for i, s in enumerate(doc.segments):
        if s.end < s.start:
            raise ImportError_(f"JSON transcript: segment {i} ends ({s.end}) before it starts ({s.start})", hint=_JSON_HINT)
        segs.append(Segment(start=s.start, end=s.end, text=s.text.strip(), speaker=s.speaker.strip(),
                            channel=s.channel, words=[Word(**w.model_dump()) for w in s.words]))
    meta = {k: v for k, v in (("title", doc.title), ("language", doc.language)) if v}
    return segs, meta


_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"')\]]*\s+")


def _pieces(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` characters: at sentence ends, else at
    spaces, else hard."""
    out: list[str] = []
    cur = ""
    for sent in (p for p in _SENTENCE_END.split(text) if p):
        while len(sent) > limit:  # one endless sentence: cut at the last space that fits
            cut = sent.rfind(" ", 0, limit + 1)
            cut = cut if cut > limit // 2 else limit
            if cur:
                out.append(cur)
                cur = ""
            out.append(sent[:cut].strip())
            sent = sent[cut:].strip()
        if cur and len(cur) + 1 + len(sent) > limit:
            out.append(cur)
            cur = sent
        else:
            cur = f"{cur} {sent}" if cur else sent
    if cur:
        out.append(cur)
    return [p for p in out if p]


def split_long_segments(segments: list[Segment], limit: int = MAX_LINE_CHARS) -> list[Segment]:
    """Split segments longer than ``limit`` characters at sentence boundaries, before chunking:
    one 72 KB line must not become a prompt larger than the model's context. Times are shared
    out by length; word timings go with the piece they fall in."""
    out: list[Segment] = []
    for s in segments:
        if len(s.text) <= limit:
            out.append(s)
            continue
        parts = _pieces(s.text, limit)
        total = sum(len(p) for p in parts) or 1
        t, span = s.start, max(0.0, s.end - s.start)
        for p in parts:
            end = t + span * len(p) / total
            words = [w for w in s.words if t <= w.start < end] if s.words else []
            out.append(Segment(start=round(t, 3), end=round(end, 3), text=p, speaker=s.speaker, channel=s.channel,
                               words=words))
            t = end
    return out


def import_transcript(path: Path) -> tuple[list[Segment], dict]:
    """Parse a transcript file. Returns (segments numbered 1..n, metadata)."""
    path = Path(path)
    from app.core.files import read_user_text

    text = read_user_text(path, str(path), "supported: .vtt, .srt, 'Speaker: text' lines, Kith JSON",
                          MAX_TRANSCRIPT_BYTES, error=ImportError_)
    meta: dict = {}
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            segs, meta = parse_kith_json(text)
        except ImportError_ as e:
            raise ImportError_(f"{path}: {e.message}", hint=e.hint) from None
    elif "-->" in text:
        segs = parse_cues(text)
    else:
        segs = parse_speaker_lines(text)
    for s in segs:  # a cue timed backwards (end before start) keeps its start
        s.end = max(s.end, s.start)
    segs = split_long_segments([s for s in segs if s.text])
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
