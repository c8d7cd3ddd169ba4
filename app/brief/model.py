"""A prep brief as data (for the UI and ``--json``); Markdown is rendered from it.

Every claim that comes from a past meeting carries a ref such as ``M12`` — the id of that
meeting (``kith minutes 12`` opens it); ``Brief.refs`` maps each ref to its meeting.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Ref:
    ref: str  # "M12"
    meeting_id: int
    title: str
    date: str  # ISO date of the meeting


@dataclass
class Person:
    name: str
    email: str = ""
    contact_id: int | None = None
    title: str = ""
    company: str = ""
    how_known: str = ""
    meetings: int = 0
    first_met: str | None = None
    first_ref: str | None = None
    last_met: str | None = None
    last_ref: str | None = None
    in_crm: bool = False

    @property
    def first_time(self) -> bool:
        return self.meetings == 0


@dataclass
class PastMeeting:
    ref: str
    meeting_id: int
    title: str
    date: str
    summary: str = ""
    people: list[str] = field(default_factory=list)


@dataclass
class Item:
    text: str
    owner: str
    ref: str | None = None
    due: str | None = None
    status: str = "open"


@dataclass
class DealState:
    company: str
    title: str
    stage: str = ""
    amount: float | None = None
    currency: str = ""
    next_step: str = ""
    close_date: str | None = None
    deal_id: int | None = None
    ref: str | None = None  # latest meeting with someone from that company


@dataclass
class Signal:
    text: str
    ref: str | None = None


@dataclass
class Point:
    text: str
    refs: list[str] = field(default_factory=list)


@dataclass
class Brief:
    event_id: int | None
    title: str
    start: str  # ISO, UTC
    end: str
    tz: str = ""
    local_start: str = ""  # ISO in the event's own zone
    location: str = ""
    people: list[Person] = field(default_factory=list)
    meetings: list[PastMeeting] = field(default_factory=list)
    you_promised: list[Item] = field(default_factory=list)
    they_promised: list[Item] = field(default_factory=list)
    deals: list[DealState] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    agenda: list[Point] = field(default_factory=list)
    questions: list[Point] = field(default_factory=list)
    refs: dict[str, Ref] = field(default_factory=dict)
    agenda_source: str = "rules"  # "rules" or "llm:<model name>"
    inputs_hash: str = ""
    generated_at: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. "the language model was unavailable"

    @property
    def no_history(self) -> bool:
        return not self.meetings

    def to_dict(self) -> dict:
        d = asdict(self)
        d["no_history"] = self.no_history
        for p, pd in zip(self.people, d["people"]):
            pd["first_time"] = p.first_time
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Brief":
        def build(kind: type, v: dict) -> Any:
            names = {f.name for f in fields(kind)}
            return kind(**{k: x for k, x in v.items() if k in names})

        return cls(
            event_id=d.get("event_id"), title=d.get("title", ""), start=d.get("start", ""), end=d.get("end", ""),
            tz=d.get("tz", ""), local_start=d.get("local_start", ""), location=d.get("location", ""),
            people=[build(Person, x) for x in d.get("people", [])],
            meetings=[build(PastMeeting, x) for x in d.get("meetings", [])],
            you_promised=[build(Item, x) for x in d.get("you_promised", [])],
            they_promised=[build(Item, x) for x in d.get("they_promised", [])],
            deals=[build(DealState, x) for x in d.get("deals", [])],
            signals=[build(Signal, x) for x in d.get("signals", [])],
            agenda=[build(Point, x) for x in d.get("agenda", [])],
            questions=[build(Point, x) for x in d.get("questions", [])],
            refs={k: build(Ref, v) for k, v in (d.get("refs") or {}).items()},
            agenda_source=d.get("agenda_source", "rules"), inputs_hash=d.get("inputs_hash", ""),
            generated_at=d.get("generated_at", ""), notes=list(d.get("notes", [])),
        )

    def one_line(self) -> str:
        """For `kith today`: who, when last met, open items, deal stage."""
        people = [p for p in self.people]
        if not people:
            return "no other attendees"
        bits = []
        for p in people[:3]:
            who = p.name + (f" ({p.company})" if p.company else "")
            bits.append(f"{who}: last met {p.last_met} [{p.last_ref}]" if p.last_met else f"{who}: first meeting")
        if len(people) > 3:
            bits.append(f"+{len(people) - 3} more")
        n_open = len(self.you_promised) + len(self.they_promised)
        if n_open:
            bits.append(f"{n_open} open item{'s' if n_open != 1 else ''}")
        for d in self.deals[:1]:
            if d.stage:
                bits.append(f"deal {d.stage}")
        return "; ".join(bits)
