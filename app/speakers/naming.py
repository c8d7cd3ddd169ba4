"""Put names on speaker labels — only when the evidence is clear.

Evidence, strongest first:

* **voice profile** — the label's voice matches a contact the user confirmed in an earlier meeting
  (:mod:`app.speakers.profiles`), weight 3;
* **self-introduction** — "This is Diane from Acme", "I'm Tom", "my name is …", "Diane here",
  weight 2 per occurrence;
* **addressed, then answered** — "Maria, can you …?" / "… what do you think, Maria?" / a greeting
  "Hi Maria" / "Welcome, Maria", and the next turn by *another* speaker within a few seconds is
  Maria's, weight 1 (0.5 when the reply does not start like an answer); "Thanks, Leo" at the start
  of a turn answers the previous speaker, who is Leo, weight 1;
* **exclusion** — a speaker who addresses or mentions a person by name is not that person (a
  penalty on that name for that label, and that label is out of the running for it below);
* **the attendees left** — when the unnamed speakers and the attendees not yet placed are as many,
  a speaker whom exclusion leaves exactly one of them is that one ("the only attendee left" is
  the case of one), weight 1; only when the user is known.

A spoken name that matches an attendee ("Tom" → "Tom Baker") becomes that attendee's full name.
A label is named when its best candidate scores ≥ 1 and clearly beats its runner-up; a name is
given to one label at most. Everything else keeps its "Speaker N" label.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core.domain import Segment

_NAME = r"([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)?)"
_NOT_NAMES = {
    w.casefold() for w in """I I'm The This That These Those There Here It It's We You They He She Monday Tuesday
    Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October
    November December Okay Ok Yes No Yeah Sure Not Just So Well Also Going Happy Glad Sorry Good Great Fine Back
    Still Done Ready All Really Very Thanks Thank Hello Hi Hey Right Now Then And But Or From With In On At For To
    Today Tomorrow Yesterday Afraid Sure Looking Working Calling Speaking Joining Trying Actually Basically Probably
    Definitely Absolutely Totally Quite Pretty Interested Curious Confident Worried Excited Pleased Aware Able
    One Two Three Four Five Everyone Everybody Team Guys Folks Sir Madam Mr Mrs Ms Dr""".split()
}
_INTRO = [
    re.compile(r"\b[Mm]y name(?: is|'s)\s+" + _NAME),
    re.compile(r"\b(?:[Tt]his is|[Ii]t's|[Ii]t is)\s+" + _NAME + r"(?=\s+(?:from|at|with|in|here|speaking|calling)\b|\s*[,.!?;]|\s*$)"),
    re.compile(r"\b(?:I'm|I am)\s+" + _NAME + r"(?=\s*[,.!?;]|\s+(?:from|at|with|and|here|speaking|calling|in)\b|\s*$)"),
    re.compile(r"(?:^|[.!?]\s+)" + _NAME + r"\s+(?:here|speaking)\b"),
]
_ADDRESS = [
    re.compile(r"(?:^|[.!?]\s+|\b(?:[Ss]o|[Aa]nd|[Oo]kay|OK|[Ww]ell|[Nn]ow|[Tt]hanks|[Tt]hank you)[,]?\s+)" + _NAME
               + r",\s+(?=(?:can|could|would|will|do|did|are|is|what|how|when|please|you|any|have|shall)\b)"),
    re.compile(r",\s+" + _NAME + r"\s*\?\s*$"),
]
_GREET = re.compile(r"\b(?:[Hh]i|[Hh]ello|[Hh]ey|[Ww]elcome(?: back)?|[Gg]ood (?:morning|afternoon|evening)|"
                    r"[Nn]ice to (?:meet|see) you|[Oo]ver to you)[,]?\s+" + _NAME + r"(?=\s*[,.!?;]|\s+(?:and|to|from|here)\b|\s*$)")
_GREET_WORDS = r"(?:[Hh]i|[Hh]ello|[Hh]ey|[Ww]elcome(?: back)?|[Gg]ood (?:morning|afternoon|evening))[,]?\s+"
_GREET_BOTH = re.compile(_GREET_WORDS + _NAME + r",?\s+and\s+")  # "Hi Dana and Leo": both names
_GREET_AND = re.compile(_GREET_WORDS + r"[A-Z][a-z]+,?\s+and\s+" + _NAME + r"(?=\s*[,.!?;]|\s*$)")
# a name used about or to someone else: "Leo is right", "as Dana said", "ask Dana", "thanks Dana"
# (a bare name is not enough: a garbled self-introduction, "Mrs. Maria from Acme", is still one)
_THIRD_AFTER = re.compile(r"(?:'s\b|\s+(?:is|was|said|says|will|would|can|could|has|had|mentioned|thinks|agrees|"
                          r"wants|needs|asked|told|and I|did|does)\b|\s*,\s+(?:can|could|would|will|do|what|how|please)\b)")
_THIRD_BEFORE = re.compile(r"(?i:\b(?:as|ask|asked|tell|told|with|thanks|thank you|hi|hello|hey|welcome|to|for|like|"
                           r"agree with|and)\s+)$")
_SELF = re.compile(r"(?i:\b(?:i'm|i am|this is|my name is|my name's|it's|it is|call me))\s+$")
_THANKS = re.compile(r"^\W*(?:[Tt]hanks|[Tt]hank you)(?: (?:so|very) much)?[,]?\s+" + _NAME + r"(?=\s*[,.!?;]|\s*$|\s+for\b)")
_ANSWER = re.compile(r"^\W*(?:yes|yeah|yep|sure|of course|absolutely|definitely|no|nope|okay|ok|right|i will|i'll|"
                     r"i can|i think|i'd|i would|will do|happy to|good question|well|so|um|uh|hi|hello|hey|thanks|"
                     r"thank you|good morning|good afternoon|nice to|great|glad)\b", re.I)

W_PROFILE, W_INTRO, W_ADDRESS, W_LAST, W_EXCLUDE = 3.0, 2.0, 1.0, 1.0, 1.0


@dataclass
class Candidate:
    name: str
    score: float = 0.0
    how: list[str] = field(default_factory=list)
    contact_id: int | None = None


@dataclass
class NameChoice:
    label: str
    name: str
    how: str  # profile | introduction | addressed | exclusion | attendee
    score: float
    contact_id: int | None = None


def _clean(name: str) -> str | None:
    parts = name.split()
    while parts and parts[-1].casefold() in _NOT_NAMES:
        parts.pop()
    if not parts or parts[0].casefold() in _NOT_NAMES:
        return None
    return " ".join(parts)


def introductions(segments: list[Segment]) -> list[tuple[int, str]]:
    """(segment position, name) for every self-introduction."""
    out = []
    for i, s in enumerate(segments):
        for rx in _INTRO:
            for m in rx.finditer(s.text or ""):
                name = _clean(m.group(1))
                if name:
                    out.append((i, name))
    return out


def _names_in(rxs, text: str) -> list[str]:
    out = []
    for rx in rxs:
        out += [n for n in (_clean(m.group(1)) for m in rx.finditer(text)) if n]
    return list(dict.fromkeys(out))


def addressings(segments: list[Segment], window_s: float = 5.0) -> list[tuple[int, str, float]]:
    """(position of the answering segment, name, weight): "Name, can you…" or "Hi Name" followed by
    another speaker's turn; "Thanks, Name" at the start of a turn answering another speaker's."""
    out = []
    for i, s in enumerate(segments):
        text = (s.text or "").strip()
        names = _names_in(_ADDRESS + [_GREET, _GREET_BOTH], text)
        names += [n for n in _names_in([_GREET_AND], text) if n not in names]
        if names:
            for j in range(i + 1, len(segments)):
                nxt = segments[j]
                if nxt.start - s.end > window_s:
                    break
                if nxt.speaker and nxt.speaker != s.speaker:
                    w = 1.0 if _ANSWER.search(nxt.text or "") else 0.5
                    out += [(j, n, w / len(names) if len(names) > 1 else w) for n in names]
                    break
        thanked = _names_in([_THANKS], text)
        if thanked and i > 0:
            prev = segments[i - 1]
            if prev.speaker and prev.speaker != s.speaker and s.start - prev.end <= window_s:
                out += [(i - 1, n, 1.0) for n in thanked]
    return out


def mentions(segments: list[Segment], people: list[str]) -> list[tuple[int, str]]:
    """(segment position, person) for every person a segment's speaker addresses or talks about
    ("Leo is right", "as Dana said", "Dana, can you…") — not their own introduction, not a bare
    name. ``people`` are full names; the first name is enough."""
    intro_at = {(i, n.casefold()) for i, n in introductions(segments)}
    out = []
    for i, s in enumerate(segments):
        text = s.text or ""
        for full in people:
            keys = {full, full.split()[0]}
            if any((i, k.casefold()) in intro_at for k in keys):
                continue
            for k in (k for k in keys if len(k) > 1):
                hits = [m for m in re.finditer(r"(?<![\w])" + re.escape(k) + r"(?![\w])", text)
                        if not _SELF.search(text[:m.start()])
                        and (_THIRD_AFTER.match(text[m.end():]) or _THIRD_BEFORE.search(text[:m.start()]))]
                if hits:
                    out.append((i, full))
                    break
    return out


def match_attendee(name: str, attendees: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The attendee a spoken name refers to: full-name or first-name match (fuzzy, for ASR spelling)."""
    from rapidfuzz import fuzz

    best, best_score = None, 0.0
    said = name.casefold()
    for full, email in attendees:
        if not full:
            continue
        f = full.casefold()
        first = f.split()[0]
        score = max(fuzz.ratio(said, f), fuzz.ratio(said, first) if " " not in said else 0,
                    fuzz.ratio(said.split()[0], first) - 5)
        if score > best_score:
            best, best_score = (full, email), score
    return best if best_score >= 80 else None


def choose_names(
    segments: list[Segment],
    labels: list[str],
    attendees: list[tuple[str, str]] = (),
    profile_matches: dict[str, tuple[int, str, float]] | None = None,
    me: tuple[str, str] | None = None,
    user_among_labels: bool = False,
) -> dict[str, NameChoice]:
    """Decide a name for each of ``labels`` (the diarized "Speaker N" labels) from the evidence above.

    ``profile_matches``: label → (contact_id, contact name, similarity) from the voice profiles.
    ``user_among_labels``: a mono recording, where the user (``me``) is one of the labelled voices;
    their label is named "You". Returns only the labels that get a name.
    """
    attendees = [(n, e) for n, e in attendees if n]
    if me is not None:
        mine = {x.casefold() for x in me if x}
        attendees = [(n, e) for n, e in attendees if n.casefold() not in mine and (e or "").casefold() not in mine]
    people = list(attendees)
    user_known = bool(me is not None and me[0] and me[0].casefold() != "you")  # "You" is the unset default
    if user_among_labels and user_known and attendees:
        people.append((me[0], me[1] or ""))  # a mono recording: the user is one of the voices
    cands: dict[str, dict[str, Candidate]] = {lab: {} for lab in labels}
    excluded: dict[str, set[str]] = {lab: set() for lab in labels}

    def canon(name: str) -> str:
        att = match_attendee(name, people)
        return att[0] if att else name

    def vote(label: str, name: str, weight: float, how: str, contact_id: int | None = None) -> None:
        if label not in cands:
            return
        c_name = canon(name)
        c = cands[label].setdefault(c_name.casefold(), Candidate(c_name))
        c.score += weight
        c.how.append(how)
        c.contact_id = c.contact_id or contact_id

    for label, (cid, cname, _sim) in (profile_matches or {}).items():
        vote(label, cname, W_PROFILE, "profile", cid)
    for i, name in introductions(segments):
        vote(segments[i].speaker, name, W_INTRO, "introduction")
    for j, name, w in addressings(segments):
        vote(segments[j].speaker, name, W_ADDRESS * w, "addressed")
    # exclusion: whoever addresses or names a person is not that person
    spoken = [n for i, n in introductions(segments)] + [n for _, n, _ in addressings(segments)]
    known = list(dict.fromkeys([n for n, _ in people] + [canon(n) for n in spoken]))
    seen: set[tuple[str, str]] = set()
    for i, full in mentions(segments, known):
        label = segments[i].speaker
        if label in cands and (label, full.casefold()) not in seen:
            seen.add((label, full.casefold()))
            excluded[label].add(full.casefold())
            c = cands[label].get(full.casefold())
            if c is not None:
                c.score -= W_EXCLUDE

    chosen = _assign(cands)
    if me is not None and people:
        _eliminate(chosen, labels, people, excluded)
    if user_among_labels and user_known:
        for lab, ch in chosen.items():
            if ch.name.casefold() == me[0].casefold():
                chosen[lab] = NameChoice(lab, "You", ch.how, ch.score, ch.contact_id)
    return chosen


def _eliminate(chosen: dict[str, NameChoice], labels: list[str], people: list[tuple[str, str]],
               excluded: dict[str, set[str]]) -> None:
    """The attendees left: as many unnamed speakers as unplaced attendees, and a speaker whom
    exclusion leaves exactly one of them gets that one (repeated while it settles names)."""
    while True:
        free_labels = [lab for lab in labels if lab not in chosen]
        used = {c.name.casefold() for c in chosen.values()}
        free = [n for n, _ in people if n.casefold() not in used]
        if not free_labels or len(free_labels) != len(free):
            return
        progress = False
        for lab in free_labels:
            left = [n for n in free if n.casefold() not in excluded.get(lab, set())]
            if len(left) == 1:
                how = "attendee" if len(free) == 1 else "exclusion"
                chosen[lab] = NameChoice(lab, left[0], how, W_LAST)
                progress = True
                break
        if not progress:
            return


def _assign(cands: dict[str, dict[str, Candidate]]) -> dict[str, NameChoice]:
    pairs = []
    for label, by_name in cands.items():
        ranked = sorted(by_name.values(), key=lambda c: -c.score)
        if not ranked:
            continue
        top = ranked[0]
        runner = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= 1.0 and runner <= top.score / 2:
            pairs.append((top.score, label, top))
    chosen: dict[str, NameChoice] = {}
    taken: dict[str, float] = {}
    for score, label, c in sorted(pairs, key=lambda p: -p[0]):
        key = c.name.casefold()
        if key in taken:
            continue  # the same name is better supported on another label
        taken[key] = score
        how = max(set(c.how), key=c.how.count) if "profile" not in c.how else "profile"
        chosen[label] = NameChoice(label, c.name, how, score, c.contact_id)
    return chosen
