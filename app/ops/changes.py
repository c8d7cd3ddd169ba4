"""What an operation changed, by kind of record (like Anki's ``OpChanges``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


class Kind(str, Enum):
    CONTACTS = "contacts"
    COMPANIES = "companies"
    DEALS = "deals"
    MEETINGS = "meetings"  # a meeting, its segments, participants or notes
    ACTIONS = "actions"
    SUGGESTIONS = "suggestions"
    RECORDINGS = "recordings"
    CALENDAR = "calendar"  # events, sources and the briefs built from them
    VOICES = "voices"
    SETTINGS = "settings"
    KEYS = "keys"


@dataclass(frozen=True)
class OpChanges:
    kinds: frozenset[Kind] = frozenset()

    @classmethod
    def of(cls, *kinds: Kind) -> "OpChanges":
        return cls(frozenset(kinds))

    def __or__(self, other: "OpChanges") -> "OpChanges":
        return OpChanges(self.kinds | other.kinds)

    def __contains__(self, kind: Kind) -> bool:
        return kind in self.kinds

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def touches(self, *kinds: Kind) -> bool:
        return any(k in self.kinds for k in kinds)


NOTHING = OpChanges()


@dataclass
class OpResult(Generic[T]):
    value: T
    changes: OpChanges = field(default_factory=OpChanges)
