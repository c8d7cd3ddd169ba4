"""Is this line a commitment? Rules a reviewer can read, applied to the exact line.

A small model turns almost any sentence into an "action". Here an action item must stand on a
line that commits someone to future work, found in one of three shapes:

- a first-person promise: "I'll send…", "I will…", "let me…", "I'm going to…", "that's on me",
  "leave it with me", "falls to me";
- a request addressed to someone ("Leo, can you send…", "could you…") that the addressee
  accepts on the next line ("Sure", "Yes, I'll…", "happy to", "no problem", "will do");
- a named doer: "Tom will set up the pilot".

and it is not a hedge ("we could…", "maybe", "I'll get back to you", "can't promise",
"don't count on it"), a question that asks nothing of anyone ("should we…?"), a report of
past work ("I finished…", "yesterday I…"), a refusal ("I won't") or a joke ("I'd bet my car…",
"no promises"). :func:`classify` says which, with a reason; :func:`find_candidates` lists every
committing line of a meeting with its task phrase (owners are resolved by
:func:`app.extract.owners.resolve_owner`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.domain import Segment
from app.extract.textutil import find_due_phrase, sentences

_PROMISE = re.compile(
    r"\b(?:i(?:'ll| will| shall)|i'm going to|i am going to|i'm gonna|let me|i can|"
    r"i'd be happy to|i'm happy to)\s+(?:(?:also|then|just|definitely|quickly|personally|go ahead and|make sure to|"
    r"get to|try and)\s+)*(?P<task>[a-z][^.?!;]*)", re.IGNORECASE)
_ON_ME = re.compile(r"\b(?:(?:that's|that is|it's|this one's|that one's|(?P<what>[a-z ]{3,40}?) (?:are|is)) on me|"
                    r"leave it with me|(?:that|it|this|the (?P<what2>[a-z ]{3,40}?)) falls? to me|i'll take (?:care of )?(?:it|that|this))\b",
                    re.IGNORECASE)
_REQUEST = re.compile(
    r"(?:^|[,.!?]\s*|\b)(?:can|could|would|will) you\s+(?:please\s+|also\s+)*(?P<task>[a-z][^.?!;]*)|"
    r"\bplease\s+(?P<task2>(?!let\b)[a-z][^.?!;]*)|\bi'd like you to\s+(?P<task3>[a-z][^.?!;]*)", re.IGNORECASE)
_ACCEPT = re.compile(
    r"^\W*(?:sure|yes|yeah|yep|ok(?:ay)?|of course|absolutely|definitely|will do|no problem|happy to|on it|"
    r"consider it done|sounds good|i can do that|i'll do (?:it|that)|i will|i'll)\b", re.IGNORECASE)
_DOER = re.compile(r"\b(?P<name>[A-Z][a-z]{1,20}(?: [A-Z][a-z]{1,20})?) (?:will|'ll|is going to|is gonna) "
                   r"(?P<task>[a-z][^.?!;]*)")

_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|might|probably|possibly|hopefully|not sure|i guess|we could|you could|could also|"
    r"think about|get back to (?:you|me|it)|get back on (?:it|that)|circle back|can't promise|cannot promise|"
    r"don't count on|no promises|if (?:i|we) (?:have|get) (?:time|a chance)|let's see|we'll see|at some point|"
    r"some time|someday|one day|ideally|in theory)\b", re.IGNORECASE)
_JOKE = re.compile(r"\b(?:i'd bet|i bet|bet my|eat my hat|ha(?:ha)?\b|just kidding|kidding|nice try|just testing|joke)\b",
                   re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:i won't|i will not|i can't|i cannot|i couldn't|we won't|we can't|not going to|never)\b",
                      re.IGNORECASE)
_PAST = re.compile(r"\b(?:yesterday|last (?:week|month|year|night|time)|already|earlier today|ago|this morning i)\b",
                   re.IGNORECASE)
_PAST_VERB = re.compile(r"^\s*(?:i|we)\s+(?:\w+ed|sent|did|made|wrote|built|took|got|ran|had|went|found|gave|spoke|told|"
                        r"shipped|fixed|moved|finished|merged)\b", re.IGNORECASE)
_SOCIAL = re.compile(r"^(?:see|talk to|speak (?:to|with)|catch) (?:you|everyone|u)\b|^(?:be (?:there|back)|"
                     r"start|begin|get started|kick off|go (?:first|ahead|through)|move on|wrap up|"
                     r"try|think|see|say|admit|guess|mean|tell you (?:what|the truth))\b|^(?:have a look|look) at (?:that|it)$",
                     re.IGNORECASE)
_QUESTION_ONLY = re.compile(r"^\W*(?:should|shall|do|does|did|is|are|was|were|what|why|how|who|when|where|which|any)\b",
                            re.IGNORECASE)


# the first word of a to-do (after fillers): work someone can be held to, not talk in the room
_ACTION_VERBS = frozenset("""send share email e-mail mail forward call ring phone text message ping contact reach follow check
look find get pull prepare draft write rewrite update fix set schedule book arrange organise organize plan review test run
build create make design put pass bring buy order ship deliver submit sign approve confirm ask tell let invite introduce
loop open file raise escalate handle take finish complete implement investigate research collect gather compile summarize
summarise document record track log keep monitor clean move migrate merge deploy install configure upload download print
demo pair help cover pick work figure coordinate sync double-check verify validate estimate price quote calculate measure
analyse analyze evaluate assess compare list chase remind notify inform brief train hire interview recruit onboard pay
invoice refund credit transfer reserve renew extend cancel contact post publish circulate distribute present prototype
sketch mock outline define specify install order sort book dig provide organise setup""".split())
_FILLER = re.compile(r"^(?:(?:uh|um|er|erm|uh-huh|like|you know|sort of|kind of|just|also|then|actually|probably|"
                     r"basically|quickly|first|go and|go ahead and|try to|try and)\b[\s,]*)+", re.IGNORECASE)
_IN_ROOM = re.compile(r"\b(?:this meeting|the meeting|right now|at the moment|for now|in a minute|in a second|"
                      r"this presentation|the agenda|on the (?:white ?board|board|screen))\b", re.IGNORECASE)
_VAGUE = re.compile(r"^(?:take (?!care of|notes|over|the lead|a look)|keep (?!a log|track|an eye|a record|a list)|"
                    r"introduce (?:yourself|myself|ourselves|themselves)|finish up|look at (?:it|this|that)\b|"
                    r"get (?:on|started|going|back)\b|pick up with)", re.IGNORECASE)
_NEXT_CLAUSE = re.compile(r"\s*(?:,\s*)?\b(?:and|then|but|so|because|'cause)\s+(?:i|we|you)\b.*$", re.IGNORECASE)


def task_phrase(raw: str) -> str:
    """The to-do in a promise's words, or "" when it is not one (talk in the room, a state, …)."""
    t = _NEXT_CLAUSE.sub("", " ".join(raw.split()))
    t = _FILLER.sub("", t)
    t = re.sub(r"\b(?:uh|um|er|erm)\b[\s,]*", "", t, flags=re.IGNORECASE).strip(" ,")
    words = t.split()
    if len(words) < 2 or words[0].lower() not in _ACTION_VERBS or _IN_ROOM.search(t):
        return ""
    if words[0].lower() in {"get", "have", "take", "work", "look", "pick", "put", "make", "keep", "do"} and len(words) < 3:
        return ""
    if _VAGUE.search(t):
        return ""
    return clean_task(t)


@dataclass
class Candidate:
    segment: Segment  # the line that holds the commitment (the promise, or the accepted request)
    sentence: str
    task: str
    shape: str  # promise | accepted | doer
    request: Segment | None = None  # for "accepted": the line that asked


def clean_task(task: str) -> str:
    """A task phrase as a to-do: no deadline words, no trailing filler."""
    t = " ".join(task.split()).strip(" ,;:-")
    due = find_due_phrase(t)
    if due:
        t = t.replace(due, " ")
    t = re.sub(r"\b(?:right after this call|after this call|as soon as possible|asap|so (?:that )?\w.*$|,? if .*$|"
               r"before the (?:meeting|call)|then|too|as well|for you|real quick|okay|ok)\s*$", "", t, flags=re.IGNORECASE)
    t = re.sub(r"\s+(?:by|on|until|before|for|in|at)(?:\s+the)?\s*$", "", " ".join(t.split()), flags=re.IGNORECASE)
    return t.strip(" ,;:-")


def classify(sentence: str) -> str:
    """'' when the sentence can hold a commitment, else why it cannot (hedge, question, …)."""
    s = " ".join((sentence or "").split())
    if not s:
        return "empty"
    if _JOKE.search(s):
        return "a joke or aside"
    if _HEDGE.search(s):
        return "a hedge, not a commitment"
    if _NEGATED.search(s) and not re.search(r"\b(?:i'll|i will)\b", s, re.IGNORECASE):
        return "a refusal"
    if s.endswith("?") and not _REQUEST.search(s) and _QUESTION_ONLY.search(s):
        return "a question"
    if (_PAST.search(s) or _PAST_VERB.search(s)) and not re.search(r"\b(?:will|'ll|going to|gonna|let me)\b", s,
                                                                     re.IGNORECASE):
        return "a report of past work"
    return ""


_CLAUSE = re.compile(r"[,;]?\s+\b(?:and|then|but|so|also)\s+(?=(?:i(?:'ll| will| can|'m going to| am going to)|let me)\b)",
                     re.IGNORECASE)


def _line_sentences(seg: Segment) -> list[str]:
    """Sentences, and promises joined by "and" split apart ("I'll take notes and I'll send…")."""
    out = []
    for sent in sentences(seg.text):
        out.extend(p.strip() for p in _CLAUSE.split(sent) if p.strip())
    return out


def find_candidates(segments: list[Segment], people=None) -> list[Candidate]:
    """Every committing line of the meeting (time order), with its task phrase. A named doer
    ("Tom will …") counts only when ``people`` (an :class:`app.extract.owners.People`) knows
    the name."""
    segs = sorted(segments, key=lambda s: s.index)
    out: list[Candidate] = []
    for k, seg in enumerate(segs):
        for sent in _line_sentences(seg):
            if classify(sent):
                continue
            promised = False
            for m in _PROMISE.finditer(sent):
                task = task_phrase(m.group("task")) if not _SOCIAL.search(m.group("task")) else ""
                if task:
                    out.append(Candidate(seg, sent, task, "promise"))
                    promised = True
            if promised:
                continue
            m = _ON_ME.search(sent)
            if m:
                what = m.group("what") or m.group("what2") or ""
                prev = segs[k - 1] if k else None
                task = clean_task(re.sub(r"^(?:and|so|then|okay|ok)?\s*(?:the|this|that)?\s*", "", what, flags=re.IGNORECASE)) if what else ""
                if not task and prev is not None:
                    rm = _REQUEST.search(prev.text)
                    task = clean_task(next(g for g in rm.groups() if g)) if rm else ""
                if task:
                    out.append(Candidate(seg, sent, task, "promise", request=prev))
                continue
            m = _DOER.search(sent)
            if m and people is not None and people.match(m.group("name"), min_score=90) is not None \
                    and not _SOCIAL.search(m.group("task")) and task_phrase(m.group("task")):
                out.append(Candidate(seg, sent, task_phrase(m.group("task")), "doer"))
                continue
        # an accepted request: this line asks, the next line (another speaker) says yes
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        if nxt is None or (nxt.speaker == seg.speaker and nxt.channel == seg.channel):
            continue
        for sent in _line_sentences(seg):
            m = _REQUEST.search(sent)
            if not m or classify(nxt.text) or not _ACCEPT.search(nxt.text):
                continue
            task = task_phrase(next(g for g in m.groups() if g))
            if not task:
                continue
            # the reply's own promise ("Sure, I'll pull the numbers") is the same commitment
            if k + 1 < len(segs):
                promise = next((c for c in _promises_on(nxt)), None)
                if promise is not None:
                    task = promise.task
            out.append(Candidate(nxt, nxt.text, task, "accepted", request=seg))
            break
    return _one_per_line(out)


def _promises_on(seg: Segment) -> list[Candidate]:
    found = []
    for sent in _line_sentences(seg):
        if classify(sent):
            continue
        for m in _PROMISE.finditer(sent):
            task = task_phrase(m.group("task"))
            if task:
                found.append(Candidate(seg, sent, task, "promise"))
    return found


def _one_per_line(cands: list[Candidate]) -> list[Candidate]:
    """An accepted request and the reply's promise are one commitment: keep the accepted one
    (it knows the request), with the promise's words."""
    accepted = {c.segment.index for c in cands if c.shape == "accepted"}
    out = [c for c in cands if c.shape == "accepted" or c.segment.index not in accepted]
    return sorted(out, key=lambda c: c.segment.index)
