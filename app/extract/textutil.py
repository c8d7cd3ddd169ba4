"""Small text helpers: content words, lexical support, sentences, due dates."""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&.-]*")

STOPWORDS = frozenset(
    """a an the and or but if then so of to in on at by for with from up down out over into onto about as is are
    was were be been being am do does did done have has had having will would shall should can could may might
    must i me my mine we us our ours you your yours he him his she her hers it its they them their theirs this
    that these those there here what which who whom whose when where why how all any each every some no not
    yes ok okay just also very really well let lets let's i'll i'm i've i'd we'll we're we've you'll you're it's
    that's there's gonna going get got make sure thing things something anything please thanks thank great good
    right now sounds sound like know think want need one two it'll can't don't won't isn't
    """.split()
)

_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    w = word.lower().strip(".'-")
    for suf in _SUFFIXES:
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content_words(text: str) -> set[str]:
    out = set()
    for m in _WORD.finditer(text or ""):
        w = m.group(0).lower().strip(".'-")
        if len(w) < 2 or w in STOPWORDS:
            continue
        out.add(stem(w))
    return out


def support(claim: str, evidence_text: str) -> float:
    """Share of the claim's content words found in the evidence (0..1); 1.0 for an empty claim."""
    cw = content_words(claim)
    if not cw:
        return 1.0
    ev = content_words(evidence_text)
    hits = sum(1 for w in cw if w in ev or any(len(w) >= 5 and (e.startswith(w[:5])) for e in ev))
    return hits / len(cw)


_SENT = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENT.split(text or "") if p.strip()]
    return parts or [text.strip()]


# --------------------------------------------------------------------------- due dates

_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "couple of": 2}

_DUE_PATTERNS = [
    r"\b(?:next|this|by|on|until|before)?\s*(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    r"\b(?:end of (?:the |this |next )?(?:day|week|month|quarter|year))\b",
    r"\b(?:eod|eow|tomorrow|today|tonight|next week|next month|this week)\b",
    r"\bin (?:\d+|a|an|one|two|three|four|five|six|ten|a couple of) (?:days?|weeks?|months?)\b",
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"\b(?:" + "|".join(m for m in _MONTHS if len(m) > 3) + r")\s+\d{1,2}(?:st|nd|rd|th)?\b",
    r"\b\d{1,2}(?:st|nd|rd|th)? of (?:" + "|".join(m for m in _MONTHS if len(m) > 3) + r")\b",
]
_DUE_RE = re.compile("|".join(f"(?:{p})" for p in _DUE_PATTERNS), re.IGNORECASE)


def find_due_phrase(text: str) -> str:
    m = _DUE_RE.search(text or "")
    return m.group(0).strip() if m else ""


def _end_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def resolve_due(text: str, meeting_date: date) -> date | None:
    """Turn a spoken deadline into a date, relative to the meeting date. None if unclear.

    "by Friday" = the next Friday after the meeting; "next Tuesday" = the Tuesday of the
    following week; "end of the month" = its last day; "end of the week" = that Friday.
    """
    if not text:
        return None
    t = text.lower().strip()
    d = meeting_date
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", t)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    if re.search(r"\b(today|tonight|eod|end of (the )?day)\b", t):
        return d
    if "tomorrow" in t:
        return d + timedelta(days=1)
    m = re.search(r"\bend of (the |this |next )?(week|month|quarter|year)\b", t)
    if m:
        nxt = (m.group(1) or "").strip() == "next"
        unit = m.group(2)
        if unit == "week":
            friday = d + timedelta(days=(4 - d.weekday()) % 7)
            return friday + timedelta(days=7) if nxt else friday
        if unit == "month":
            return _end_of_month(_add_months(d, 1) if nxt else d)
        if unit == "quarter":
            q_end_month = ((d.month - 1) // 3 + 1) * 3 + (3 if nxt else 0)
            y = d.year + (q_end_month - 1) // 12
            mm = (q_end_month - 1) % 12 + 1
            return _end_of_month(date(y, mm, 1))
        return date(d.year + (1 if nxt else 0), 12, 31)
    if re.search(r"\beow\b|\bthis week\b", t):
        return d + timedelta(days=(4 - d.weekday()) % 7)
    for name, wd in _WEEKDAYS.items():
        if re.search(rf"\b{name}\b", t):
            if re.search(rf"\bnext {name}\b", t):
                next_monday = d + timedelta(days=7 - d.weekday())
                return next_monday + timedelta(days=wd)
            ahead = (wd - d.weekday()) % 7
            return d + timedelta(days=ahead or 7)
    if re.search(r"\bnext week\b", t):
        return d + timedelta(days=7 - d.weekday() + 4)  # Friday of next week
    if re.search(r"\bnext month\b", t):
        return _end_of_month(_add_months(d, 1))
    m = re.search(r"\bin (\d+|a|an|one|two|three|four|five|six|ten|a couple of) (day|week|month)s?\b", t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS.get(m.group(1), 1)
        if m.group(2) == "day":
            return d + timedelta(days=n)
        if m.group(2) == "week":
            return d + timedelta(weeks=n)
        return _add_months(d, n)
    months = "|".join(_MONTHS)
    m = re.search(rf"\b({months})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", t) or re.search(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)? of ({months})\b", t
    )
    if m:
        a, b = m.group(1), m.group(2)
        month, day = (_MONTHS[a], int(b)) if a in _MONTHS else (_MONTHS[b], int(a))
        try:
            cand = date(d.year, month, day)
        except ValueError:
            return None
        return cand if cand >= d else date(d.year + 1, month, day)
    return None
