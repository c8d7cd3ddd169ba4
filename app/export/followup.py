"""A follow-up email draft for a meeting, in the user's voice, built only from stored data (no
model call): a greeting to the attendees by first name, a short recap from the minutes' summary,
the decisions, the next steps ("Owner — task (due date)") and the user's sign-off. Kith sends
nothing: the CLI prints it (or a ``mailto:`` URL), the app shows it to copy or open in the mail app."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from app.core.output import clean

REF = re.compile(r"\s*\[S\d+\]")
MAX_RECAP_SENTENCES = 3
NEXT_STEP_STATUSES = ("proposed", "open")


@dataclass
class FollowUp:
    meeting_id: int
    to: list[str] = field(default_factory=list)  # attendee emails
    subject: str = ""
    body: str = ""

    @property
    def mailto(self) -> str:
        return mailto_url(self.to, self.subject, self.body)


def mailto_url(to: list[str], subject: str, body: str) -> str:
    """RFC 6068: addresses comma-separated, subject and body percent-encoded, CRLF line breaks."""
    addrs = ",".join(quote(a.strip(), safe="@") for a in to if a.strip())
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return f"mailto:{addrs}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def _plain(text: str) -> str:
    """One line of stored text made safe for a mail: no control characters, no [S#] refs, no Markdown emphasis."""
    text = REF.sub("", clean(text or ""))
    text = re.sub(r"(\*\*|__|`)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def sections(md: str) -> dict[str, list[str]]:
    """The minutes' Markdown by ``## heading`` (lower-case) → its non-empty lines."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in (md or "").splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            current = m.group(1).strip().casefold()
            out.setdefault(current, [])
        elif line.strip():
            out.setdefault(current, []).append(line.strip())
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _day(d) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _bullets(lines: list[str]) -> list[str]:
    return [_cap(t) for t in (_plain(re.sub(r"^[-*+]\s+|^\d+[.)]\s+", "", ln)) for ln in lines)
            if t and not t.startswith("_")]


def recap(summary_lines: list[str], limit: int = MAX_RECAP_SENTENCES) -> str:
    text = _plain(" ".join(ln for ln in summary_lines if not ln.startswith("_")))
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(sentences[:limit]).strip()


def _first_names(names: list[str]) -> str:
    firsts = list(dict.fromkeys(n.split()[0] for n in names if n.strip()))
    if not firsts:
        return "all"
    return firsts[0] if len(firsts) == 1 else ", ".join(firsts[:-1]) + " and " + firsts[-1]


def _is_me(name: str, my_name: str) -> bool:
    n = name.strip().casefold()
    return n in ("you", "me", "i") or (bool(my_name.strip()) and n == my_name.strip().casefold())


def attendees(store, meeting, my_name: str = "", my_email: str = "") -> list[tuple[str, str]]:
    """(name, email) of the others: the meeting's participants, then its calendar event's invitees."""
    out: dict[str, tuple[str, str]] = {}
    mine = {my_email.casefold()} if my_email else set()
    for c in store.meetings.participants(meeting.id):
        email = c.emails[0] if c.emails else ""
        if _is_me(c.name, my_name) or email.casefold() in mine:
            continue
        out[(email or c.name).casefold()] = (c.name, email)
    if meeting.calendar_event_id is not None:
        from app.calendar.link import invitees
        from app.calendar.repo import CalendarRepo

        try:
            event = CalendarRepo(store).get_event(meeting.calendar_event_id)
        except Exception:  # noqa: BLE001 — the event was removed from the calendar
            event = None
        for name, email in invitees(event, me=(my_name, my_email)):
            key = (email or name).casefold()
            if key not in out and not any(email and email.casefold() == e.casefold() for _, e in out.values()):
                out[key] = (name or email.split("@")[0].split(".")[0].capitalize(), email)
    return list(out.values())


def next_step_line(store, a, my_name: str) -> str:
    owner = a.owner_text or ""
    if a.owner_contact_id is not None:
        try:
            owner = store.contacts.get(a.owner_contact_id).name
        except Exception:  # noqa: BLE001
            pass
    owner = "Me" if _is_me(owner, my_name) else (_plain(owner) or "Unassigned")
    if owner.casefold() == "unassigned":
        owner = "Unassigned"
    due = f" ({_day(a.due_date)})" if a.due_date else ""
    return f"- {owner} — {_cap(_plain(a.text))}{due}"


def build_followup(store, meeting_id: int, my_name: str = "", my_email: str = "") -> FollowUp:
    """The draft for ``meeting_id`` from its stored minutes, action items and attendees."""
    m = store.meetings.get(meeting_id)
    people = attendees(store, m, my_name, my_email)
    parts = sections("\n\n".join(n.body for n in store.notes.minutes(meeting_id)))
    summary = recap(parts.get("summary", []))
    decisions = _bullets(parts.get("decisions", []))
    steps = [next_step_line(store, a, my_name)
             for a in store.actions.list(meeting_id=meeting_id, status=list(NEXT_STEP_STATUSES))]
    title = _plain(m.title) or "our meeting"
    lines = [f"Hi {_first_names([_plain(n) for n, _ in people])},", "",
             f"Thanks for your time on {m.started_at.astimezone():%A} {m.started_at.astimezone().day} "
             f"{m.started_at.astimezone():%B}. A short recap of {title}:"]
    if summary:
        lines += ["", summary]
    if decisions:
        lines += ["", "What we decided:"] + [f"- {d}" for d in decisions]
    if steps:
        lines += ["", "Next steps:"] + steps
    lines += ["", "Let me know if I missed anything.", "", "Best,"]
    me = _plain(my_name)
    if me and me.casefold() != "you":
        lines.append(me)
    return FollowUp(meeting_id=m.id, to=[e for _, e in people if e], subject=f"Follow-up: {title}",
                    body="\n".join(lines) + "\n")
