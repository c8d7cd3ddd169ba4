"""One Markdown file per meeting, friendly to Obsidian and any other notes app.

Layout::

    ---                                  YAML front matter (JSON-quoted scalars, block lists)
    title: "Weekly sync"
    date: "2026-01-05T10:00:00+00:00"
    attendees:
      - "[[Ada Lovelace]]"
    ---
    # Weekly sync
    ## Minutes         (AI minutes; [S12] become links to the transcript line ^s12)
    ## Notes           (the user's own notes)
    ## Action items    - [ ] text — owner: [[Ada]] · due: 2026-01-09 · status: open ^action-12
                         > [S12] Ada: "quoted source"
    ## Transcript      **[00:00:03] Ada:** text ^s12

:func:`parse_meeting_markdown` reads such a file back (front matter and action items), so the
format is checked by a round trip, not by eye.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from app.export.base import ExportData, MeetingBundle

_SAFE = re.compile(r'[\\/:*?"<>|#^\[\]]+')


def wiki(name: str) -> str:
    """An Obsidian wiki link; characters Obsidian forbids in note names are replaced."""
    clean = _SAFE.sub(" ", name).strip() or "Unknown"
    return f"[[{clean}]]"


def safe_filename(text: str, limit: int = 80) -> str:
    clean = _SAFE.sub(" ", text)
    clean = re.sub(r"\s+", " ", clean).strip().strip(".") or "meeting"
    return clean[:limit].rstrip()


def meeting_filename(b: MeetingBundle) -> str:
    return f"{b.meeting.started_at.date().isoformat()} {safe_filename(b.meeting.title)} ({b.meeting.id}).md"


def _yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def front_matter(items: dict) -> str:
    lines = ["---"]
    for k, v in items.items():
        if isinstance(v, list):
            if not v:
                lines.append(f"{k}: []")
                continue
            lines.append(f"{k}:")
            lines += [f"  - {_yaml_scalar(x)}" for x in v]
        elif v is not None:
            lines.append(f"{k}: {_yaml_scalar(v)}")
    lines.append("---")
    return "\n".join(lines)


def _shift_headings(md: str, by: int = 1) -> str:
    return re.sub(r"^(#{1,5})(\s)", lambda m: "#" * min(6, len(m.group(1)) + by) + m.group(2), md, flags=re.M)


def _link_refs(md: str) -> str:
    return re.sub(r"\[S(\d+)\]", lambda m: f"[[#^s{m.group(1)}|S{m.group(1)}]]", md)


def _clock(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def render_meeting(b: MeetingBundle, data: ExportData) -> str:
    m = b.meeting
    companies = []
    for c in b.participants:
        co = data.company(c.company_id)
        if co and co.name not in companies:
            companies.append(co.name)
    fm = {
        "title": m.title,
        "date": m.started_at.isoformat(),
        "end": m.ended_at.isoformat() if m.ended_at else None,
        "attendees": [wiki(c.name) for c in b.participants],
        "companies": [wiki(n) for n in companies],
        "template": m.template,
        "language": m.language or None,
        "kith_meeting_id": m.id,
        "tags": ["meeting", "kith"],
    }
    out = [front_matter(fm), "", f"# {_one_line(m.title)}", ""]
    who = ", ".join(wiki(c.name) for c in b.participants)
    out.append(f"**Date:** {m.started_at.strftime('%Y-%m-%d %H:%M %Z').strip()}" + (f" · **Attendees:** {who}" if who else ""))
    out.append("")
    from app.store.meetings import Notes

    minutes = [n for n in b.notes if Notes.is_minutes(n)]
    own = [n for n in b.notes if not Notes.is_minutes(n)]
    if minutes:
        out += ["## Minutes", ""] + [_link_refs(_shift_headings(n.body.strip())) + "\n" for n in minutes]
    if own:
        out += ["## Notes", ""] + [n.body.strip() + "\n" for n in own]
    out += ["## Action items", ""]
    by_id = {s.id: s for s in b.segments}
    if not b.actions:
        out.append("_None._")
    for a in b.actions:
        owner_c = data.contact(a.owner_contact_id)
        owner = wiki(owner_c.name) if owner_c else (a.owner_text or "unassigned")
        box = "x" if a.status == "done" else " "
        meta = [f"owner: {owner}"]
        if a.due_date:
            meta.append(f"due: {a.due_date.isoformat()}")
        meta.append(f"status: {a.status}")
        out.append(f"- [{box}] {_one_line(a.text)} — {' · '.join(meta)} ^action-{a.id}")
        for sid in a.evidence:
            s = by_id.get(sid)
            if s is not None:
                out.append(f'  > [S{s.index}] {_one_line(s.speaker or "?")}: {json.dumps(_one_line(s.text), ensure_ascii=False)}')
    out.append("")
    if b.full_transcript and b.segments:
        out += ["## Transcript", ""]
        for s in sorted(b.segments, key=lambda s: (s.index, s.start)):
            out.append(f"**[{_clock(s.start)}] {_one_line(s.speaker or 'Unknown')}:** {_one_line(s.text)} ^s{s.index}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- reading it back -------------------------------------------------------------------------
@dataclass
class ParsedAction:
    text: str
    owner: str
    status: str
    due: date | None = None
    local_id: int | None = None
    quotes: list[tuple[int, str, str]] = field(default_factory=list)  # (segment index, speaker, text)


@dataclass
class ParsedMeeting:
    front: dict
    actions: list[ParsedAction]


_ACTION = re.compile(r"^- \[(?P<box> |x)\] (?P<text>.*) — owner: (?P<owner>.*?)(?: · due: (?P<due>\d{4}-\d{2}-\d{2}))?"
                     r" · status: (?P<status>proposed|open|done|dismissed)(?: \^action-(?P<id>\d+))?$")
_QUOTE = re.compile(r'^\s+> \[S(?P<idx>\d+)\] (?P<speaker>.*?): (?P<text>".*")$')


def _parse_front(lines: list[str]) -> tuple[dict, int]:
    if not lines or lines[0] != "---":
        return {}, 0
    front: dict = {}
    key = None
    for i, line in enumerate(lines[1:], start=1):
        if line == "---":
            return front, i + 1
        if line.startswith("  - ") and key:
            front[key].append(json.loads(line[4:]) if line[4:].startswith('"') else line[4:])
            continue
        k, _, v = line.partition(":")
        key, v = k.strip(), v.strip()
        if v == "":
            front[key] = []
        elif v == "[]":
            front[key] = []
        elif v.startswith('"'):
            front[key] = json.loads(v)
        elif v in ("true", "false"):
            front[key] = v == "true"
        else:
            try:
                front[key] = int(v)
            except ValueError:
                front[key] = v
    raise ValueError("front matter is not closed with ---")


def parse_meeting_markdown(text: str) -> ParsedMeeting:
    lines = text.splitlines()
    front, start = _parse_front(lines)
    actions: list[ParsedAction] = []
    section = None
    for line in lines[start:]:
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if section != "Action items":
            continue
        if m := _ACTION.match(line):
            owner = m.group("owner")
            if owner.startswith("[[") and owner.endswith("]]"):
                owner = owner[2:-2]
            actions.append(ParsedAction(
                text=m.group("text"), owner=owner, status=m.group("status"),
                due=date.fromisoformat(m.group("due")) if m.group("due") else None,
                local_id=int(m.group("id")) if m.group("id") else None))
        elif (q := _QUOTE.match(line)) and actions:
            actions[-1].quotes.append((int(q.group("idx")), q.group("speaker"), json.loads(q.group("text"))))
    return ParsedMeeting(front=front, actions=actions)
