"""Read-side views of a stored meeting: Markdown minutes with quoted sources, and JSON."""
from __future__ import annotations

from app.core.domain import ActionItem, Segment
from app.core.output import to_jsonable


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def evidence_of(store, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    segs = {s.id: s for s in store.segments.get_many(ids)}
    out = []
    for i in ids:
        s: Segment | None = segs.get(i)
        if s is not None:
            out.append({"segment_id": s.id, "index": s.index, "speaker": s.speaker, "start": s.start, "end": s.end, "quote": s.text})
    return out


def action_dict(store, a: ActionItem) -> dict:
    d = to_jsonable(a)
    d["owner"] = a.owner_text
    d["evidence_segment_ids"] = list(a.evidence)
    d["evidence"] = evidence_of(store, a.evidence)
    return d


def action_lines(store, a: ActionItem, with_meeting: bool = False) -> list[str]:
    box = "x" if a.status == "done" else " "
    due = f" — due {a.due_date.isoformat()}" if a.due_date else ""
    meeting = f" (meeting {a.meeting_id})" if with_meeting else ""
    lines = [f"- [{box}] **{a.owner_text}**: {a.text}{due} · _{a.status}_ · #{a.id}{meeting}"]
    for ev in evidence_of(store, a.evidence):
        who = ev["speaker"] or "speaker"
        lines.append(f"  > “{ev['quote']}” — {who}, {clock(ev['start'])} [S{ev['index']}]")
    if not a.evidence:
        lines.append("  > (no source line)")
    return lines


def suggestion_line(s) -> str:
    p = s.payload
    if s.kind == "create_contact":
        what = f"add contact {p.get('name')}" + (f" <{p['email']}>" if p.get("email") else "") + (f" ({p['company']})" if p.get("company") else "")
    elif s.kind == "create_company":
        what = f"add company {p.get('name')}" + (f" ({p['domain']})" if p.get("domain") else "")
    elif s.kind == "update_contact":
        what = f"update contact #{p.get('contact_id')}: " + ", ".join(f"{k}={v}" for k, v in (p.get("fields") or {}).items())
    elif s.kind == "link_contact":
        what = (f"link “{p.get('name')}” in this meeting to contact #{p.get('contact_id')} {p.get('contact_name')} "
                f"(matched by {p.get('matched_by')})")
    elif s.kind == "update_deal":
        fields = p.get("fields") or {}
        what = f"update deal{(' with ' + p['company']) if p.get('company') else ''}: " + "; ".join(
            f"{k}={v.get('value', v) if isinstance(v, dict) else v}" for k, v in list(fields.items())[:6]
        )
    elif s.kind == "action_item":
        what = f"action item for {p.get('owner')}: {p.get('task')}"
        if (p.get("owner_match") or {}).get("name"):
            what += f" (owner → contact #{p['owner_match']['contact_id']} {p['owner_match']['name']} when accepted)"
    else:
        what = f"{s.kind}: {p}"
    flag = f" ⚠ {s.reason}" if s.reason else ""
    return f"- #{s.id} {what}{flag}"


def render_markdown(store, meeting_id: int) -> str:
    m = store.meetings.get(meeting_id)
    people = store.meetings.participants(meeting_id)
    lines = [f"# {m.title}", "", f"_{m.started_at:%Y-%m-%d %H:%M} · template: {m.template} · meeting #{m.id}_", ""]
    if people:
        lines += ["**With:** " + ", ".join(p.name + (f" <{p.email}>" if p.email else "") for p in people), ""]
    for n in store.notes.minutes(meeting_id):
        lines += [n.body.rstrip(), ""]
    actions = store.actions.list(meeting_id=meeting_id, status=["proposed", "open", "done"])
    lines += ["## Action items", ""]
    if actions:
        for a in actions:
            lines += action_lines(store, a)
    else:
        lines.append("_None found._")
    lines.append("")
    mine = store.notes.user_notes(meeting_id)
    if mine:
        lines += ["## Your notes", ""] + [n.body.rstrip() for n in mine] + [""]
    pending = store.suggestions.list(status="pending", meeting_id=meeting_id)
    if pending:
        lines += [f"## Waiting for your review ({len(pending)}) — run `kith review`", ""]
        lines += [suggestion_line(s) for s in pending] + [""]
    return "\n".join(lines).rstrip() + "\n"


def meeting_json(store, meeting_id: int, with_segments: bool = True) -> dict:
    m = store.meetings.get(meeting_id)
    data = {
        "meeting": to_jsonable(m),
        "participants": to_jsonable(store.meetings.participants(meeting_id)),
        "notes": to_jsonable(store.notes.for_meeting(meeting_id)),
        "action_items": [action_dict(store, a) for a in store.actions.list(meeting_id=meeting_id)],
        "suggestions": to_jsonable(store.suggestions.list(status=None, meeting_id=meeting_id)),
    }
    if with_segments:
        data["segments"] = to_jsonable(store.segments.for_meeting(meeting_id))
    return data
