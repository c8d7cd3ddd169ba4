"""Result types.

Two layers:
- *Raw* models are what the LLM must emit: few fields, short keys, bounded lists — every
  generated token costs a forward pass (~25-40 ms for the default model on 2 cores).
- The rich :class:`ExtractionResult` is built in code from the raw output: owners resolved,
  due dates computed, citations checked and quoted, dropped items recorded with a reason.

Evidence numbers are ``Segment.index`` values (1-based positions in the meeting).
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, Field, create_model

# --------------------------------------------------------------------------- LLM-facing


class RawItem(BaseModel):
    text: str = Field(max_length=120)
    seg: list[int] = Field(max_length=3)


class RawAction(BaseModel):
    task: str = Field(max_length=90)
    owner: str = Field(max_length=40)
    due: str = Field(max_length=40)
    seg: list[int] = Field(max_length=3)


class RawPerson(BaseModel):
    name: str = Field(max_length=50)
    company: str = Field(max_length=50)
    role: str = Field(max_length=50)
    seg: list[int] = Field(max_length=2)


class RawCompany(BaseModel):
    name: str = Field(max_length=50)
    seg: list[int] = Field(max_length=2)


class RawSignal(BaseModel):
    value: str = Field(max_length=100)
    seg: list[int] = Field(max_length=3)


class RawExtractionBase(BaseModel):
    # order matters: the model writes the fields in this order; tasks first, while the
    # transcript is "fresh", the summary after the details it summarises
    actions: list[RawAction] = Field(max_length=8)
    people: list[RawPerson] = Field(max_length=6)
    companies: list[RawCompany] = Field(max_length=4)
    decisions: list[RawItem] = Field(max_length=4)
    points: list[Annotated[str, Field(max_length=100)]] = Field(max_length=5)
    summary: str = Field(max_length=500)


DEFAULT_CAPS = (8, 6, 4, 4, 5)  # most actions, people, companies, decisions, points per call
LEAN_CAPS = (5, 4, 3, 3, 3)  # what extract_meeting asks for (the summary is written apart, in prose)


@lru_cache(maxsize=32)
def raw_schema_for(signal_keys: tuple[str, ...], caps: tuple[int, int, int, int, int] = DEFAULT_CAPS,
                   summary: bool = True) -> type[BaseModel]:
    """The LLM-facing model for a template: the base fields (lists bounded by ``caps``, which
    bounds the answer's length) plus one ``signals`` object with a ``{value, seg}`` entry per
    template signal (written before the points and summary)."""
    fields = {k: (RawSignal, ...) for k in signal_keys}
    signals = create_model("RawSignals_" + "_".join(signal_keys), **fields) if signal_keys else None  # type: ignore[call-overload]
    cap = dict(zip(("actions", "people", "companies", "decisions", "points"), caps))
    ordered: dict = {}
    for name, f in RawExtractionBase.model_fields.items():
        if name == "summary" and not summary:
            continue  # written in plain prose by its own call (app.extract.plain)
        if name == "points" and signals is not None:
            ordered["signals"] = (signals, ...)
        if name in cap:
            ordered[name] = (f.annotation, Field(max_length=cap[name]))
        else:
            ordered[name] = (f.annotation, f)
    suffix = "_".join(signal_keys) + "_" + "_".join(map(str, caps)) + ("" if summary else "_nosummary")
    return create_model("RawExtraction_" + suffix, **ordered)  # type: ignore[call-overload]


class RawSummary(BaseModel):
    summary: str = Field(max_length=600)


class RawAnswer(BaseModel):
    """The model's answer to an Ask question. The answer comes first and "no answer" is an empty
    string: asked to decide a ``known`` flag before writing anything, the default model said
    "false" to lines that plainly held the answer (6 of 44 bench questions; 1 with this order)."""

    answer: str = Field(max_length=400)
    cite: list[int] = Field(max_length=5)

    @property
    def known(self) -> bool:
        return bool(self.answer.strip())


# --------------------------------------------------------------------------- rich result

OwnerSource = Literal["speaker", "addressed", "named", "reply", "only_other", "model", "none"]


class Evidenced(BaseModel):
    evidence: list[int] = Field(default_factory=list)
    quote: str = ""
    flagged: bool = False
    flag_reason: str = ""


class Decision(Evidenced):
    text: str


class ActionItemResult(Evidenced):
    task: str
    owner: str = "unassigned"  # a person's name | the user's name | "unassigned"
    owner_is_user: bool = False
    owner_email: str | None = None
    owner_source: OwnerSource = "none"  # how the owner was told (for the reviewer)
    due: date | None = None
    due_text: str = ""


class PersonResult(Evidenced):
    name: str
    email: str | None = None
    company: str = ""
    role: str = ""


class CompanyResult(Evidenced):
    name: str
    domain: str | None = None


class SignalResult(Evidenced):
    value: str


class DroppedItem(BaseModel):
    kind: str  # action_item | decision | person | company | signal | key_point
    text: str
    reason: str
    evidence: list[int] = Field(default_factory=list)


class Audit(BaseModel):
    model: str = ""
    model_sha256: str = ""
    template: str = ""
    prompt_sha256: str = ""
    chunks: int = 0
    timings: dict[str, float] = Field(default_factory=dict)
    tokens: dict[str, int] = Field(default_factory=dict)
    retries: int = 0
    failed_chunks: list[int] = Field(default_factory=list)


class ExtractionResult(BaseModel):
    summary: str = ""
    key_points: list[str] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    action_items: list[ActionItemResult] = Field(default_factory=list)
    people: list[PersonResult] = Field(default_factory=list)
    companies: list[CompanyResult] = Field(default_factory=list)
    signals: dict[str, SignalResult] = Field(default_factory=dict)
    dropped: list[DroppedItem] = Field(default_factory=list)
    template: str = "general"
    audit: Audit = Field(default_factory=Audit)

    def cited_segments(self) -> set[int]:
        out: set[int] = set()
        for group in (self.decisions, self.action_items, self.people, self.companies, list(self.signals.values())):
            for item in group:
                out.update(item.evidence)
        return out


class Citation(BaseModel):
    meeting_title: str
    meeting_date: date | None = None
    segment_index: int
    segment_id: int | None = None
    meeting_id: int | None = None
    speaker: str = ""
    start: float = 0.0
    quote: str = ""


class Answer(BaseModel):
    text: str
    known: bool
    citations: list[Citation] = Field(default_factory=list)
    why_not: str = ""  # when not known: what stopped the answer (shown with the closest lines)
