"""Who owns an action item — told from the transcript, not guessed.

Before the model runs, code collects the people the meeting itself names: the user (channel 0
/ speaker "You"), the attendees, self-introductions ("This is Priya from Acme"), people
addressed ("Ana, can you send…") and speakers named by an import. After the model runs, each
action item's owner is decided by rules on the sentence that supports it:

1. a person addressed with a request ("Maria, can you share …") owns it;
2. a known person named as the doer ("Tom will set up the pilot") owns it;
3. a first-person commitment ("I will…", "I'll do that") belongs to the speaker: the user on
   channel 0; a named speaker; on the far side, the person just asked ("Maria, can you…?" —
   "Yes, I'll do that"), or the only other person in the meeting;
4. "can you…" without a name, said to the user by the far side, is the user's;
5. otherwise the model's owner is kept only if it is one of these people, else "unassigned".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from app.core.domain import Segment
from app.extract.textutil import sentences, support

_NOT_NAMES = frozenset(
    """i we you they he she it that this there then so and but okay ok yes no sure great thanks thank well also
    now our your their the someone everyone anyone nobody hi hello hey let maybe just perfect right good who what
    when where why how which absolutely definitely sounds alright all both each either one next last
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december today tomorrow team everybody actually honestly totally awesome cool""".split()
)

_NAME = r"([A-Z][a-z]{1,20}(?:[ -][A-Z][a-z]{1,20})?)"
_INTRO_RE = re.compile(
    r"(?:\b(?i:this is|i'm|i am|my name is|it's|here is|here's|name's)\s+)" + _NAME
    + r"(?:,?\s+(?i:from|at|with)\s+([A-Z][\w&]*(?:\s+[A-Z][\w&]*){0,3}))?"
)
_ADDRESS_RE = re.compile(
    r"(?:^|[.!?]\s+|\b(?i:and|so|okay|ok|great|thanks)\s*,?\s+)" + _NAME
    + r",?\s+(?i:can you|could you|would you|will you|please|you'll|you will|would it|i'd like you to|do you mind)"
)
_DOER_RE = re.compile(r"\b" + _NAME + r"\s+(?i:will|'ll|is going to|is gonna|can|should|is to)\s+[a-z]")
_FIRST_PERSON_RE = re.compile(
    r"\b(?i:i will|i'll|i can|i'm going to|i am going to|i'm gonna|let me|i shall|we will|we'll|we can|i'd be happy to|i'll do|will do)\b"
)
_YOU_REQUEST_RE = re.compile(r"\b(?i:can you|could you|would you|will you|please send|please share|you'll need to)\b")


@dataclass
class Person:
    name: str
    email: str | None = None
    company: str = ""
    sources: set[str] = field(default_factory=set)
    is_user: bool = False


@dataclass
class People:
    user: Person
    others: list[Person] = field(default_factory=list)
    user_aliases: set[str] = field(default_factory=set)  # names the user introduced themself by

    def all(self) -> list[Person]:
        return [self.user, *self.others]

    def candidates(self) -> list[str]:
        return [p.name for p in self.all()]

    def match(self, name: str, min_score: int = 85) -> Person | None:
        """Find a known person by a (possibly partial or mis-heard) name."""
        n = (name or "").strip().strip(".")
        if not n:
            return None
        low = n.lower()
        if low in {"you", "me", "i", "myself", "user", "the user", self.user.name.lower()} or low in self.user_aliases:
            return self.user
        for p in self.all():
            pl = p.name.lower()
            if low == pl or low == pl.split()[0] or pl == low.split()[0]:
                return p
            if p.email and low == p.email.lower():
                return p
        choices = {i: p.name for i, p in enumerate(self.all())}
        hit = process.extractOne(n, choices, scorer=fuzz.WRatio, score_cutoff=min_score)
        return self.all()[hit[2]] if hit else None

    def add(self, name: str, source: str, email: str | None = None, company: str = "") -> Person | None:
        name = " ".join(name.split())
        if not name or name.split()[0].lower() in _NOT_NAMES:
            return None
        p = self.match(name, min_score=92)
        if p is self.user and source in ("introduced", "addressed", "named"):
            return None  # e.g. "Mike, can you" when the user is Mike is still the user; don't duplicate
        if p is None:
            p = Person(name=name, email=email, company=company)
            self.others.append(p)
        elif len(name) > len(p.name) and name.lower().startswith(p.name.lower()):
            p.name = name  # "Maria" then "Maria Lopez": keep the fuller name
        p.sources.add(source)
        p.email = p.email or email
        p.company = p.company or company
        return p


def is_user_segment(seg: Segment, user_name: str) -> bool:
    return seg.channel == 0 or seg.speaker.lower() in {"you", "me", user_name.lower()}


def _named_speaker(seg: Segment) -> str | None:
    sp = (seg.speaker or "").strip()
    if not sp or sp.lower() in {"them", "you", "unknown"} or re.match(r"(?i)^speaker\s*\d*$", sp):
        return None
    return sp


def find_people(segments: list[Segment], attendees: list[tuple[str, str | None]], user_name: str = "You") -> People:
    people = People(user=Person(name=user_name or "You", is_user=True, sources={"user"}))
    for name, email in attendees:
        if name and people.match(name, min_score=95) is not people.user:
            people.add(name, "attendee", email=email or None)
        elif email and not name:
            people.add(email.split("@")[0].replace(".", " ").title(), "attendee", email=email)
    for seg in segments:
        sp = _named_speaker(seg)
        if sp and not is_user_segment(seg, user_name):
            people.add(sp, "speaker")
        for m in _INTRO_RE.finditer(seg.text):
            if not is_user_segment(seg, user_name):
                people.add(m.group(1), "introduced", company=(m.group(2) or "").strip())
            elif m.group(1).split()[0].lower() not in _NOT_NAMES:
                people.user_aliases.add(m.group(1).lower())
        for m in _ADDRESS_RE.finditer(seg.text):
            people.add(m.group(1), "addressed")
    # "Tom will set up the pilot": only names already known, or repeated as doers
    for seg in segments:
        for m in _DOER_RE.finditer(seg.text):
            if people.match(m.group(1), min_score=90) is None:
                continue
            people.add(m.group(1), "named")
    return people


@dataclass
class Ownership:
    owner: Person | None
    source: str  # see schema.OwnerSource
    sentence: str = ""
    segment: Segment | None = None


def _with_fragment(seg: Segment, by_index: dict[int, Segment]) -> str:
    """The segment's text, prefixed by the unfinished tail of the previous segment on the same
    channel (speech recognisers cut "Tom will set up | the pilot by …" mid-sentence)."""
    prev = by_index.get(seg.index - 1)
    if prev is not None and prev.channel == seg.channel and prev.text.strip() and prev.text.strip()[-1] not in ".!?":
        tail = sentences(prev.text)[-1]
        return f"{tail} {seg.text}"
    return seg.text


def _best_sentence(task: str, segs: list[Segment], by_index: dict[int, Segment]) -> tuple[Segment | None, str, float]:
    best: tuple[Segment | None, str, float] = (None, "", -1.0)
    for s in segs:
        for sent in sentences(_with_fragment(s, by_index)):
            score = support(task, sent)
            if score > best[2]:
                best = (s, sent, score)
    return best


def resolve_owner(
    task: str,
    model_owner: str,
    cited: list[Segment],
    window: list[Segment],
    by_index: dict[int, Segment],
    people: People,
) -> Ownership:
    """Decide an action item's owner (rules in the module docstring)."""
    user_name = people.user.name
    seg, sent, score = _best_sentence(task, cited, by_index)
    if seg is None or score < 0.34:
        wseg, wsent, wscore = _best_sentence(task, window, by_index)
        if wseg is not None and wscore > max(score, 0.0):
            seg, sent = wseg, wsent
    if seg is None:
        seg = cited[0] if cited else None
        sent = seg.text if seg else ""
    if seg is not None:
        # 1. addressed with a request, in the sentence or at the start of the segment
        for text in (sent, seg.text):
            m = _ADDRESS_RE.search(text)
            if m:
                p = people.match(m.group(1))
                if p is not None:
                    return Ownership(p, "addressed", sent, seg)
        # 2. a known person named as the doer
        m = _DOER_RE.search(sent)
        if m:
            p = people.match(m.group(1))
            if p is not None:
                return Ownership(p, "named", sent, seg)
        speaker_is_user = is_user_segment(seg, user_name)
        # 3. first-person commitment
        if _FIRST_PERSON_RE.search(sent) or _FIRST_PERSON_RE.search(seg.text) and score < 0.34:
            if speaker_is_user:
                return Ownership(people.user, "speaker", sent, seg)
            sp = _named_speaker(seg)
            if sp:
                p = people.match(sp)
                if p is not None:
                    return Ownership(p, "speaker", sent, seg)
            # a reply: look back for a request addressed to a name from the other side
            for back in (1, 2, 3):
                prev = by_index.get(seg.index - back)
                if prev is None:
                    break
                if is_user_segment(prev, user_name) == speaker_is_user:
                    continue
                m = _ADDRESS_RE.search(prev.text)
                if m:
                    p = people.match(m.group(1))
                    if p is not None and not p.is_user:
                        return Ownership(p, "reply", sent, seg)
                break
            others = [p for p in people.others]
            if len(others) == 1:
                return Ownership(others[0], "only_other", sent, seg)
            mp = people.match(model_owner)
            if mp is not None and not mp.is_user:
                return Ownership(mp, "model", sent, seg)
            return Ownership(None, "none", sent, seg)
        # 4. "can you …" from the far side to the user
        if _YOU_REQUEST_RE.search(sent) and not speaker_is_user:
            return Ownership(people.user, "addressed", sent, seg)
        if _YOU_REQUEST_RE.search(sent) and speaker_is_user:
            others = people.others
            if len(others) == 1:
                return Ownership(others[0], "only_other", sent, seg)
            mp = people.match(model_owner)
            if mp is not None and not mp.is_user:
                return Ownership(mp, "model", sent, seg)
            return Ownership(None, "none", sent, seg)
    # 5. the model's owner, only if it is a known person
    mp = people.match(model_owner)
    if mp is not None:
        return Ownership(mp, "model", sent, seg)
    return Ownership(None, "none", sent, seg)


# --------------------------------------------------------------------------- commitments

_TASK_VERBS = (
    "send|share|set up|setup|schedule|prepare|draft|review|follow up|call|email|e-mail|book|write|check|update|"
    "introduce|loop in|circle back|get back|put together|organi[sz]e|arrange|confirm|deliver|finish|fix|run|"
    "have|create|sign|approve|look into|find|talk to|reach out|invite|order|ship|test|install|complete|submit|"
    "provide|forward|compile|collect|plan|build|migrate|move|present|demo|walk"
)
_COMMIT_RE = re.compile(
    r"\b(?i:i will|i'll|i'm going to|i am going to|i'm gonna|let me|we will|we'll)\s+(?:(?i:also|then|just|make sure to|try to|get to)\s+)?"
    r"(?P<task>(?i:" + _TASK_VERBS + r")\b[^.?!]*)"
)
_REQUEST_RE = re.compile(
    _NAME + r",?\s+(?i:can you|could you|would you|will you|please)\s+(?:(?i:also|please)\s+)?(?P<task>(?i:"
    + _TASK_VERBS + r")\b[^.?!]*)"
)
_DOER_TASK_RE = re.compile(
    r"\b" + _NAME + r"\s+(?i:will|'ll|is going to|is gonna)\s+(?P<task>(?i:" + _TASK_VERBS + r")\b[^.?!]*)"
)


@dataclass
class Commitment:
    segment: Segment
    sentence: str
    task: str


def find_commitments(segments: list[Segment], people: People) -> list[Commitment]:
    """Sentences that commit someone to a task, found by rule (used as hints for the model
    and as a backstop for tasks it misses). Owners are resolved later, by ``resolve_owner``."""
    by_index = {s.index: s for s in segments}
    out: list[Commitment] = []
    for s in segments:
        nxt = by_index.get(s.index + 1)
        continued = (nxt is not None and nxt.channel == s.channel and s.text.strip()
                     and s.text.strip()[-1] not in ".!?")
        sents = sentences(_with_fragment(s, by_index))
        if continued:
            sents = sents[:-1]  # the next segment carries this sentence whole
        for sent in sents:
            for rx in (_REQUEST_RE, _DOER_TASK_RE):
                m = rx.search(sent)
                if m and people.match(m.group(1)) is not None:
                    out.append(Commitment(s, sent, m.group("task").strip(" ,")))
                    break
            else:
                m = _COMMIT_RE.search(sent)
                if m:
                    out.append(Commitment(s, sent, m.group("task").strip(" ,")))
    return out
