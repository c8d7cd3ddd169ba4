"""Domain records shared by every layer (plain dataclasses, no Qt, no SQL).

Times are timezone-aware ``datetime`` in UTC unless stated; segment times are seconds
from the start of the recording. ``id`` is None until a record is stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Speaker = str  # "You", "Them", or a person's name once known
Channel = Literal[0, 1, -1]  # 0 = mic (You), 1 = system audio (Them), -1 = mono/unknown

SuggestionKind = Literal["create_contact", "update_contact", "link_contact", "create_company", "update_deal", "action_item"]
SuggestionStatus = Literal["pending", "accepted", "rejected"]
ActionStatus = Literal["proposed", "open", "done", "dismissed"]


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass
class Segment:
    start: float
    end: float
    text: str
    speaker: Speaker = ""
    channel: int = -1
    words: list[Word] = field(default_factory=list)
    id: int | None = None
    meeting_id: int | None = None
    # position in the meeting (1-based), the number cited by the LLM ("[S12]")
    index: int = 0


@dataclass
class Company:
    name: str
    domain: str | None = None
    notes: str = ""
    source: str = "user"
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Contact:
    name: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    title: str = ""
    company_id: int | None = None
    notes: str = ""
    source: str = "user"  # user | ai | calendar | import
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def email(self) -> str | None:
        return self.emails[0] if self.emails else None


@dataclass
class Deal:
    company_id: int | None
    title: str
    stage: str = ""
    amount: float | None = None
    currency: str = ""
    next_step: str = ""
    close_date: date | None = None
    id: int | None = None
    updated_at: datetime | None = None


@dataclass
class Meeting:
    title: str
    started_at: datetime
    ended_at: datetime | None = None
    calendar_event_id: int | None = None
    recording_id: int | None = None
    language: str = ""
    template: str = "general"
    status: str = "new"  # new | recording | transcribed | processed
    source_file: str = ""
    id: int | None = None


@dataclass
class Participant:
    meeting_id: int
    contact_id: int
    role: str = "attendee"  # attendee | organizer | speaker


@dataclass
class Note:
    meeting_id: int
    author: Literal["user", "ai"]
    body: str
    kind: str = "notes"  # notes | minutes
    id: int | None = None
    created_at: datetime | None = None


@dataclass
class ActionItem:
    meeting_id: int | None
    text: str
    owner_text: str = "unassigned"
    owner_contact_id: int | None = None
    due_date: date | None = None
    status: ActionStatus = "proposed"
    evidence: list[int] = field(default_factory=list)  # segment ids
    id: int | None = None
    created_at: datetime | None = None


@dataclass
class Suggestion:
    kind: SuggestionKind
    payload: dict
    evidence: list[int] = field(default_factory=list)  # segment ids
    meeting_id: int | None = None
    status: SuggestionStatus = "pending"
    reason: str = ""
    id: int | None = None
    created_at: datetime | None = None


@dataclass
class AuditEntry:
    actor: Literal["ai", "user", "system"]
    action: str
    model: str = ""
    model_sha256: str = ""
    template: str = ""
    prompt_sha256: str = ""
    output: dict | list | None = None
    id: int | None = None
    at: datetime | None = None


# Deal stages Kith knows (the sales template asks the model for these); a user may type others.
DEAL_STAGES = ("discovery", "demo", "pilot", "proposal", "negotiation", "won", "lost")
# ISO 4217 codes offered in pickers (a stored code outside the list is kept and shown).
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
              "RON", "BGN", "ISK", "TRY", "ILS", "AED", "SAR", "INR", "CNY", "HKD", "SGD", "KRW", "TWD", "THB",
              "MYR", "IDR", "PHP", "VND", "BRL", "MXN", "ARS", "CLP", "COP", "PEN", "ZAR", "NGN", "KES", "EGP",
              "MAD", "UAH")
