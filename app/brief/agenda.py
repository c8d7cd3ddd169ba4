"""Suggested agenda and questions: one short call to the local LLM, or rules when there is
no model (``--no-llm``). Every ref the model returns is checked against the brief's own
refs; an unknown ref is dropped, never shown."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.brief.model import Brief, Point

if TYPE_CHECKING:  # pragma: no cover
    from app.extract.llm import LocalLLM

MAX_POINTS = 5


class _LLMPoint(BaseModel):
    # few fields, short keys, bounded lists: every generated token is a forward pass
    text: str = Field(max_length=90)  # a cap in the grammar: a looping model cannot run on
    m: list[int] = Field(max_length=2)  # meeting numbers cited, 12 for [M12]


class AgendaAnswer(BaseModel):
    agenda: list[_LLMPoint] = Field(min_length=2, max_length=4)  # at least some: "[]" is a lazy valid answer
    questions: list[_LLMPoint] = Field(min_length=1, max_length=2)


SYSTEM = (
    "You prepare a busy professional for a meeting. From the facts given, propose a short agenda "
    "(2 to 4 points) and questions to ask (1 or 2). Use only the facts given; do not invent names, "
    "numbers or events. Each point is one short sentence; in m list the numbers of the meetings it rests on "
    "(12 for a fact marked [M12]), or [] when none. Answer with JSON only."
)


def facts_text(b: Brief) -> str:
    """The brief's facts as compact lines with refs (the model's whole input)."""
    lines = [f"Meeting: {b.title} on {b.local_start[:16].replace('T', ' ')}"]
    for p in b.people:
        bits = [p.name] + [x for x in (p.title, p.company) if x]
        hist = f"last met {p.last_met} [{p.last_ref}]" if p.last_met else "first meeting, no history"
        lines.append(f"Attendee: {', '.join(bits)}; {hist}")
    for m in b.meetings:
        lines.append(f"[{m.ref}] {m.date} {m.title}: {m.summary or '(no summary)'}")
    for i in b.you_promised:
        lines.append(f"You promised: {i.text}" + (f" (due {i.due})" if i.due else "") + (f" [{i.ref}]" if i.ref else ""))
    for i in b.they_promised:
        lines.append(f"{i.owner} promised: {i.text}" + (f" (due {i.due})" if i.due else "") + (f" [{i.ref}]" if i.ref else ""))
    for d in b.deals:
        lines.append(f"Deal {d.company} / {d.title}: stage {d.stage or '?'}; next step {d.next_step or '?'}"
                     + (f" [{d.ref}]" if d.ref else ""))
    for s in b.signals:
        lines.append(f"Signal: {s.text}" + (f" [{s.ref}]" if s.ref else ""))
    return "\n".join(lines)


def _refs(raw: list[str], known: set[str]) -> list[str]:
    out = []
    for r in raw:
        for m in re.findall(r"M\d+", str(r)):
            if m in known and m not in out:
                out.append(m)
    return out


def fact_lines(b: Brief) -> list[tuple[str, str]]:
    """(text, ref) for every cited fact, most specific first: what an uncited point may rest on."""
    out = [(i.text, i.ref) for i in b.you_promised + b.they_promised if i.ref]
    out += [(f"{d.title} {d.stage} {d.next_step}", d.ref) for d in b.deals if d.ref]
    out += [(s.text, s.ref) for s in b.signals if s.ref]
    out += [(f"{m.title}. {m.summary}", m.ref) for m in b.meetings]
    return out


_STOP = {"about", "after", "again", "check", "discuss", "from", "have", "into", "last", "make", "next", "on", "review",
         "share", "that", "their", "them", "they", "this", "what", "when", "will", "with", "your", "promised", "follow"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 4 and w not in _STOP}


def ground(text: str, facts: list[tuple[str, str]], min_shared: int = 2) -> list[str]:
    """The ref of the fact a point restates (shared content words), when the model cited none."""
    words = _words(text)
    best, ref = 0, None
    for fact, r in facts:
        n = len(words & _words(fact))
        if n > best:
            best, ref = n, r
    return [ref] if ref and best >= min(min_shared, max(1, len(words))) else []


def supports(text: str, ref: str, facts: list[tuple[str, str]]) -> bool:
    """A model's citation is kept only if a fact from that meeting shares a content word with the point."""
    words = _words(text)
    return any(words & _words(f) for f, r in facts if r == ref)


def _points(items: list[Any], known: set[str], facts: list[tuple[str, str]]) -> list[Point]:
    out, seen = [], set()
    for it in items[:MAX_POINTS]:
        text = re.sub(r"\s*\[M\d+\]", "", it.text).strip()[:240]
        if not text or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        claimed = _refs([f"M{n}" for n in it.m] + re.findall(r"M\d+", it.text), known)
        refs = [r for r in claimed if supports(text, r, facts)] or ground(text, facts)
        out.append(Point(text=text, refs=refs))
    return out


def llm_agenda(b: Brief, llm: "LocalLLM", max_tokens: int = 360) -> tuple[list[Point], list[Point]]:
    answer, _raw, _usage = llm.complete_json(SYSTEM, facts_text(b), AgendaAnswer, max_tokens=max_tokens)
    known, facts = set(b.refs), fact_lines(b)
    return _points(answer.agenda, known, facts), _points(answer.questions, known, facts)


def rules_agenda(b: Brief) -> tuple[list[Point], list[Point]]:
    """A deterministic agenda from the facts (no model)."""
    agenda: list[Point] = []
    questions: list[Point] = []
    if b.no_history:
        agenda.append(Point("Introductions: who they are and what they need"))
        agenda.append(Point("Agree on next steps and who follows up"))
        questions.append(Point("What prompted this meeting, and what would make it a success for you?"))
        if any(p.company for p in b.people):
            questions.append(Point("How are decisions like this made at your company?"))
        return agenda, questions
    last = b.meetings[0]
    agenda.append(Point(f"Pick up from {last.date}: {last.title}", [last.ref]))
    for i in b.they_promised[:2]:
        agenda.append(Point(f"Check on {i.owner}'s item: {i.text}", [i.ref] if i.ref else []))
    for i in b.you_promised[:2]:
        agenda.append(Point(f"Report back on your item: {i.text}", [i.ref] if i.ref else []))
    for d in b.deals[:1]:
        if d.next_step:
            agenda.append(Point(f"Deal next step ({d.stage or 'stage unknown'}): {d.next_step}", [d.ref] if d.ref else []))
    agenda.append(Point("Agree on next steps and owners"))
    for s in b.signals[:3]:
        questions.append(Point(f"Follow up on: {s.text}", [s.ref] if s.ref else []))
    if not questions:
        questions.append(Point("What has changed since we last spoke?", [last.ref]))
    return agenda[:MAX_POINTS], questions[:MAX_POINTS]
