"""Where a person shows up, and under which spellings (for export and erase).

Globally a person is found by full name, emails and phones. In *their* meetings — those they
take part in, whose speakers were renamed to them, whose action items or voice profiles point at
them — they are also found by the short forms people use there: first name, last name and the
speaker labels made of those words ("Bruno", "Bruno Z."). A short form another participant of
that meeting shares (two Brunos) is not used in that meeting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.store._util import loads

REDACTED = "[erased]"


def _rows(conn, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def name_tokens(name: str) -> set[str]:
    return {t.casefold() for t in re.findall(r"\w+", name or "") if len(t) > 1 and not t.isdigit()}


class Matcher:
    """Case-insensitive (Unicode) matching/replacing: ``needles`` anywhere, ``words`` as whole words."""

    def __init__(self, needles: list[str], words: list[str] = ()):
        self.needles = sorted({n.casefold() for n in needles if n}, key=len, reverse=True)
        self.words = sorted({w.casefold() for w in words if w} - set(self.needles), key=len, reverse=True)
        alts = [re.escape(n) for n in self.needles] + [rf"(?<!\w){re.escape(w)}(?!\w)" for w in self.words]
        self.rx = re.compile("|".join(alts), re.IGNORECASE) if alts else None

    def hit(self, text) -> int:
        if text is None or self.rx is None:
            return 0
        return int(self.rx.search(str(text)) is not None or any(n in str(text).casefold() for n in self.needles))

    def sub(self, text: str) -> str:
        if text is None or self.rx is None:
            return text
        out = self.rx.sub(REDACTED, text)
        if any(n in out.casefold() for n in self.needles):  # casefold-only matches (ß/ss …)
            low = out.casefold()
            for n in self.needles:
                while n in low:
                    i = low.index(n)
                    out, low = out[:i] + REDACTED + out[i + len(n):], low[:i] + REDACTED + low[i + len(n):]
        return out

    def is_label(self, speaker: str) -> bool:
        """A speaker label that names this person (every word is one of their forms or an initial)."""
        s = (speaker or "").strip().casefold()
        if not s:
            return False
        if s in self.needles:
            return True
        words = re.findall(r"\w+", s)
        forms = set(self.words)
        initials = {f[0] for f in forms}
        return bool(words) and any(w in forms for w in words) and all(w in forms or (len(w) == 1 and w in initials)
                                                                      for w in words)


@dataclass
class Scope:
    contact_id: int
    name: str
    everywhere: Matcher
    meetings: dict[int, Matcher] = field(default_factory=dict)  # meeting id → matcher with the short forms

    def at(self, meeting_id) -> Matcher:
        return self.meetings.get(meeting_id, self.everywhere) if meeting_id is not None else self.everywhere

    def hit(self, meeting_id, text) -> int:
        return self.at(meeting_id).hit(text)


def _their_meetings(conn, contact_id: int, name: str) -> set[int]:
    q = [("SELECT meeting_id FROM meeting_participants WHERE contact_id = ?", (contact_id,)),
         ("SELECT DISTINCT meeting_id FROM segments WHERE speaker = ? COLLATE NOCASE", (name.strip(),)),
         ("SELECT DISTINCT meeting_id FROM action_items WHERE owner_contact_id = ?", (contact_id,)),
         ("SELECT DISTINCT meeting_id FROM voice_profiles WHERE contact_id = ?", (contact_id,))]
    out: set[int] = set()
    for sql, p in q:
        out |= {r[0] for r in conn.execute(sql, p) if r[0] is not None}
    return out


def scope(store, contact_id: int) -> Scope:
    c = store.contacts.get(contact_id)
    conn = store.conn
    needles = [c.name.strip()] + list(c.emails) + [p for p in c.phones if len(p) >= 6]
    needles = [n for n in needles if n and len(n) >= 3]
    everywhere = Matcher(needles)
    mine = name_tokens(c.name)
    out = Scope(contact_id, c.name, everywhere)
    for mid in sorted(_their_meetings(conn, contact_id, c.name)):
        others: set[str] = set()
        for r in conn.execute("SELECT c.name FROM meeting_participants p JOIN contacts c ON c.id = p.contact_id "
                              "WHERE p.meeting_id = ? AND p.contact_id != ?", (mid, contact_id)):
            others |= name_tokens(r[0])
        out.meetings[mid] = Matcher(needles, sorted(mine - others))
    return out


def meeting_of_audit(output: str | None):
    v = loads(output, None) if output else None
    return v.get("meeting_id") if isinstance(v, dict) else None


def rows(conn, sql: str, params=()) -> list[dict]:
    return _rows(conn, sql, params)
