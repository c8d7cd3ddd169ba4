"""Who owns an action item — told from the transcript, not guessed.

Before the model runs, code collects the people the meeting itself names: the user (channel 0
/ speaker "You"), the attendees, self-introductions ("This is Priya from Acme"), people
addressed ("Ana, can you send…") and speakers named by an import. After the model runs, each
action item's owner is decided by rules on the line that supports it — never guessed:

1. a person addressed with a request ("Maria, can you share …") owns it, unless the answer turns
   it down;
2. a known person named as the doer ("Tom will set up the pilot") owns it;
3. a first-person commitment ("I will…", "I'll do that") belongs to its speaker: the user; a
   named speaker; the person just asked by name ("Maria, can you…?" — "Yes, I'll do that"); an
   unnamed voice's label ("Speaker 2", so a later rename fixes it); the only other person when
   the far side is one voice;
4. "can you…" without a name belongs to the next speaker who takes it on ("Sure"); on a call
   with one far-side voice, a request from there is the user's;
5. otherwise the model's owner is kept only when that line names them or they said it; else the
   line's speaker label when it is an unnamed voice, else "unassigned".
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
_LABEL_RE = re.compile(r"(?i)^speaker\s*\d+$")
_ACCEPT_RE = re.compile(
    r"^\W*(?i:yes|yeah|yep|sure|of course|absolutely|definitely|okay|ok|will do|no problem|happy to|i will|i'll|i can"
    r"|sounds good|consider it done|can do|on it)\b"
)
_REFUSAL_RE = re.compile(
    r"^\W*(?i:no\b|nope|i can't|i cannot|i won't|not me|i'm afraid not|unfortunately|sorry,? (?:i|we) can't)"
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


def _speaker_person(seg: Segment, people: People) -> Person | None:
    """Who said ``seg``: the user, a named speaker, or the diarized label itself ("Speaker 2" —
    a person not named yet, whom a later rename names everywhere). None for a channel-wide label
    ("Them") that may stand for several people."""
    if is_user_segment(seg, people.user.name):
        return people.user
    sp = _named_speaker(seg)
    if sp:
        return people.match(sp) or Person(name=sp, sources={"speaker"})
    label = (seg.speaker or "").strip()
    if _LABEL_RE.match(label):
        return Person(name=label, sources={"label"})
    return None


def _same_speaker(a: Segment, b: Segment, user_name: str) -> bool:
    ua, ub = is_user_segment(a, user_name), is_user_segment(b, user_name)
    if ua or ub:
        return ua == ub
    return (a.speaker or "") == (b.speaker or "") and a.channel == b.channel


def _reply_to(seg: Segment, by_index: dict[int, Segment], user_name: str, reach: int = 3) -> Segment | None:
    """The next segment by another speaker (within ``reach`` segments)."""
    for k in range(1, reach + 1):
        nxt = by_index.get(seg.index + k)
        if nxt is None:
            return None
        if not _same_speaker(nxt, seg, user_name):
            return nxt
    return None


def _mentions(person: Person, text: str) -> bool:
    names = {person.name, person.name.split()[0]} if person.name else set()
    return any(re.search(r"(?<![\w])" + re.escape(n) + r"(?![\w])", text or "", re.I) for n in names if len(n) > 1)


def _far_labels(by_index: dict[int, Segment], user_name: str) -> set[str]:
    return {(s.speaker or "") for s in by_index.values() if not is_user_segment(s, user_name)}


def resolve_owner(
    task: str,
    model_owner: str,
    cited: list[Segment],
    window: list[Segment],
    by_index: dict[int, Segment],
    people: People,
) -> Ownership:
    """Decide an action item's owner from the line that supports it (rules in the module
    docstring). The model's owner counts only when that line names them or they said it."""
    user_name = people.user.name
    seg, sent, score = _best_sentence(task, cited, by_index)
    if seg is None or score < 0.34:
        wseg, wsent, wscore = _best_sentence(task, window, by_index)
        if wseg is not None and wscore > max(score, 0.0):
            seg, sent = wseg, wsent
    if seg is None:
        seg = cited[0] if cited else None
        sent = seg.text if seg else ""
    if seg is None:
        return Ownership(None, "none", sent, seg)
    speaker = _speaker_person(seg, people)
    speaker_is_user = speaker is people.user
    first_person = bool(_FIRST_PERSON_RE.search(sent) or (_FIRST_PERSON_RE.search(seg.text) and score < 0.34))
    reply = _reply_to(seg, by_index, user_name)
    # 1. a named person asked to do it, who does not turn it down
    texts = (sent,) if first_person else (sent, seg.text)
    for text in texts:
        m = _ADDRESS_RE.search(text)
        p = people.match(m.group(1)) if m else None
        if p is not None:
            if reply is not None and _REFUSAL_RE.search(reply.text or ""):
                return Ownership(None, "none", sent, seg)
            return Ownership(p, "addressed", sent, seg)
    # 2. a known person named as the doer
    m = _DOER_RE.search(sent)
    p = people.match(m.group(1)) if m else None
    if p is not None:
        return Ownership(p, "named", sent, seg)
    # 3. first-person commitment: the speaker
    if first_person:
        if speaker is not None and (speaker_is_user or _named_speaker(seg)):
            return Ownership(speaker, "speaker", sent, seg)
        # a reply to a request addressed by name from another speaker ("Maria, can you…?" — "Yes, I'll…")
        for back in (1, 2, 3):
            prev = by_index.get(seg.index - back)
            if prev is None:
                break
            if _same_speaker(prev, seg, user_name):
                continue
            m = _ADDRESS_RE.search(prev.text)
            p = people.match(m.group(1)) if m else None
            if p is not None and not p.is_user:
                return Ownership(p, "reply", sent, seg)
            break
        if speaker is not None:  # "Speaker 2": named by a later rename
            return Ownership(speaker, "speaker", sent, seg)
        if len(people.others) == 1 and len(_far_labels(by_index, user_name)) <= 1:
            return Ownership(people.others[0], "only_other", sent, seg)
        return Ownership(None, "none", sent, seg)
    # 4. "can you …" without a name: the one who answers and takes it on
    if _YOU_REQUEST_RE.search(sent):
        if reply is not None and _ACCEPT_RE.search(reply.text or ""):
            who = _speaker_person(reply, people)
            if who is not None:
                return Ownership(who, "reply" if not who.is_user else "addressed", sent, seg)
            if len(people.others) == 1 and len(_far_labels(by_index, user_name)) <= 1:
                return Ownership(people.others[0], "only_other", sent, seg)
        user_there = any(is_user_segment(s, user_name) for s in by_index.values())
        if not speaker_is_user and user_there and len(_far_labels(by_index, user_name)) <= 1:
            return Ownership(people.user, "addressed", sent, seg)  # one voice on the far side asks the user
        if speaker_is_user and len(people.others) == 1 and len(_far_labels(by_index, user_name)) <= 1:
            return Ownership(people.others[0], "only_other", sent, seg)
        return Ownership(None, "none", sent, seg)
    # 5. the model's owner, only when the supporting line names them or they said it
    mp = people.match(model_owner) if model_owner else None
    if mp is not None and (_mentions(mp, sent) or _mentions(mp, seg.text)
                           or (speaker is not None and speaker.name.casefold() == mp.name.casefold())):
        return Ownership(mp, "model", sent, seg)
    if speaker is not None and not speaker_is_user:  # said by someone not named yet: their label
        return Ownership(speaker, "speaker", sent, seg)
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
