"""Action items confirmed on their exact line.

The model proposes action items; rules (:mod:`app.extract.commitments`) find the lines that
commit someone. An item is kept only when it stands on such a line — the model's item is then
anchored to it (with the request it accepts), its owner told by that line
(:func:`app.extract.owners.resolve_owner`), its due date read from it. A model item on a line
that commits nobody is dropped with the reason (a hedge, a question, past work, …). A
committing line the model missed becomes an item of its own. One item per committing line.
"""
from __future__ import annotations

from datetime import date

from rapidfuzz import fuzz

from app.core.domain import Segment
from app.extract.commitments import Candidate, classify, find_candidates
from app.extract.owners import Ownership, People, is_user_segment, resolve_owner
from app.extract.schema import ActionItemResult, DroppedItem, ExtractionResult
from app.extract.textutil import content_words, find_due_phrase, resolve_due, support


def _named(seg: Segment, people: People):
    sp = (seg.speaker or "").strip()
    if not sp or sp.lower() in {"them", "unknown"} or sp.lower().startswith("speaker"):
        return None
    return people.match(sp, min_score=90)


def owner_of(c: Candidate, model_owner: str, by_index: dict[int, Segment], people: People) -> Ownership:
    """The owner the committing line tells: the one who accepts, the promiser, the named doer."""
    if c.shape == "accepted" and c.request is not None:
        if is_user_segment(c.segment, people.user.name):
            return Ownership(people.user, "reply", c.sentence, c.segment)
        p = _named(c.segment, people)
        if p is not None:
            return Ownership(p, "reply", c.sentence, c.segment)
        window = [s for s in (c.request, c.segment) if s is not None]
        return resolve_owner(c.task, model_owner, [c.request], window, by_index, people)
    window = [by_index[i] for i in (c.segment.index - 1, c.segment.index) if i in by_index]
    return resolve_owner(c.task, model_owner, [c.segment], window, by_index, people)


def _due(c: Candidate, model_due: str, meeting_date: date) -> tuple[date | None, str]:
    texts = [c.sentence, c.segment.text] + ([c.request.text] if c.request is not None else [])
    here = " ".join(texts)
    if model_due and (content_words(model_due) <= content_words(here) or not content_words(model_due)):
        texts.append(model_due)
    for t in texts:
        phrase = find_due_phrase(t)
        d = resolve_due(phrase, meeting_date) if phrase else None
        if d is not None:
            return d, phrase
    return None, ""


def _item(c: Candidate, task: str, model_owner: str, model_due: str, by_index: dict[int, Segment], people: People,
          meeting_date: date) -> ActionItemResult:
    own = owner_of(c, model_owner, by_index, people)
    due, due_text = _due(c, model_due, meeting_date)
    owner = own.owner
    ev = sorted({c.segment.index} | ({c.request.index} if c.request is not None else set()))
    quote_seg = c.request if c.shape == "accepted" and c.request is not None else c.segment
    return ActionItemResult(
        task=task, owner=owner.name if owner else "unassigned", owner_is_user=bool(owner and owner.is_user),
        owner_email=owner.email if owner else None, owner_source=own.source if owner else "none",  # type: ignore[arg-type]
        due=due, due_text=due_text, evidence=ev, quote=" ".join(quote_seg.text.split()),
    )


def _candidate_for(item: ActionItemResult, by_line: dict[int, list[Candidate]], requests: dict[int, list[Candidate]]
                   ) -> Candidate | None:
    best, score = None, -1.0
    for i in item.evidence:
        for c in by_line.get(i, []) + requests.get(i, []):
            sc = max(support(item.task, c.task), support(c.task, item.task), support(item.task, c.sentence))
            if sc > score:
                best, score = c, sc
    return best if best is not None and score >= 0.34 else None


def confirm_actions(result: ExtractionResult, segments: list[Segment], people: People, meeting_date: date,
                    candidates: list[Candidate] | None = None) -> None:
    """Keep the model's items that stand on a committing line, add the lines it missed."""
    by_index = {s.index: s for s in segments}
    cands = find_candidates(segments, people) if candidates is None else candidates
    by_line: dict[int, list[Candidate]] = {}
    requests: dict[int, list[Candidate]] = {}
    for c in cands:
        by_line.setdefault(c.segment.index, []).append(c)
        if c.request is not None:
            requests.setdefault(c.request.index, []).append(c)
    kept: list[ActionItemResult] = []
    used: set[int] = set()
    for a in result.action_items:
        c = _candidate_for(a, by_line, requests)
        if c is None:
            line = by_index.get(a.evidence[0]) if a.evidence else None
            why = classify(line.text) if line is not None else ""
            result.dropped.append(DroppedItem(kind="action_item", text=a.task, evidence=a.evidence,
                                              reason=f"the cited line is {why}" if why else "no one commits to it in the cited line"))
            continue
        if id(c) in used:
            result.dropped.append(DroppedItem(kind="action_item", text=a.task, evidence=a.evidence,
                                              reason="the same commitment as another item"))
            continue
        used.add(id(c))
        task = a.task if support(a.task, c.sentence + " " + (c.request.text if c.request else "")) >= 0.5 else c.task
        item = _item(c, task, a.owner, a.due_text, by_index, people, meeting_date)
        if a.due is not None and item.due is None and a.due_text and a.due_text in (c.sentence + c.segment.text):
            item.due, item.due_text = a.due, a.due_text
        kept.append(item)
    for c in cands:
        if id(c) in used:
            continue
        if any(fuzz.token_set_ratio(k.task.lower(), c.task.lower()) >= 85 and c.segment.index in k.evidence for k in kept):
            continue
        kept.append(_item(c, c.task, "", "", by_index, people, meeting_date))
    kept.sort(key=lambda x: x.evidence[0] if x.evidence else 0)
    result.action_items = kept
