"""From the model's raw JSON to checked, sourced items; and merging chunk results.

Every kept item cites segments that exist (in the chunk the model saw) and whose text — with
one neighbouring segment either side — supports it lexically. Items that fail are dropped
(recorded in ``dropped`` with the reason) or kept with ``flagged=True`` and a reason; none is
kept silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel
from rapidfuzz import fuzz

from app.core.domain import Segment
from app.extract.owners import People, resolve_owner
from app.extract.schema import (
    ActionItemResult,
    CompanyResult,
    Decision,
    DroppedItem,
    ExtractionResult,
    PersonResult,
    RawExtractionBase,
    SignalResult,
)
from app.extract.templates import Template
from app.extract.textutil import content_words, find_due_phrase, resolve_due, support

DROP_BELOW = 0.0001  # no content word of the item in its sources → not supported
FLAG_BELOW = 0.34  # fewer than a third of its content words → flagged (signals)
SUPPORT_MIN = 0.5  # an item (action, decision, key point) needs half its content words in its line
_ASR_FUZZ = 85  # names heard by Whisper may be slightly off
_EMPTY = {"", "none", "n/a", "na", "unknown", "not discussed", "not mentioned", "null", "-"}


@dataclass
class ChunkView:
    """The segments one model call saw, and the whole meeting for neighbours."""

    chunk: list[Segment]
    by_index: dict[int, Segment]

    def __post_init__(self) -> None:
        self.allowed = {s.index for s in self.chunk}

    def cited(self, seg: list[int]) -> tuple[list[Segment], list[int]]:
        ok, bad = [], []
        for i in dict.fromkeys(seg):  # keep order, no repeats
            (ok if i in self.allowed else bad).append(i)
        return [self.by_index[i] for i in ok], bad

    def window(self, segs: list[Segment], radius: int = 1) -> list[Segment]:
        idx: set[int] = set()
        for s in segs:
            idx.update(range(s.index - radius, s.index + radius + 1))
        return [self.by_index[i] for i in sorted(idx) if i in self.by_index]

    def best_anchor(self, claim: str, near: int | None = None) -> tuple[Segment | None, float]:
        """The line of this part that supports the claim best (ties: the one nearest ``near``)."""
        best, score, dist = None, 0.0, 10**9
        for s in self.chunk:
            sc = support(claim, s.text)
            d = abs(s.index - near) if near is not None else 0
            if sc > score or (sc == score and sc > 0 and d < dist):
                best, score, dist = s, sc, d
        return best, score


def _line_text(seg: Segment, view: ChunkView) -> str:
    """A line with the unfinished tail of the line before it on the same channel ("Tom will set
    up | the pilot by …" is one sentence cut in two by the recogniser)."""
    prev = view.by_index.get(seg.index - 1)
    if prev is not None and prev.channel == seg.channel and prev.speaker == seg.speaker \
            and prev.text.strip() and prev.text.strip()[-1] not in ".!?":
        return f"{prev.text} {seg.text}"
    return seg.text


def _check(kind: str, text: str, seg: list[int], view: ChunkView, out: ExtractionResult,
           flag_only: bool = False) -> tuple[list[Segment], float, str] | None:
    """Validate citations and support. Returns (cited segments, support, flag reason) or None
    when the item is dropped (recorded in ``out.dropped``).

    The item must be supported by the lines it cites — at least half of its content words
    (:data:`SUPPORT_MIN`) — not merely by their neighbourhood. When it is not, it moves to the
    line of the part that supports it best (if one does), else it is dropped: a mismatch is
    never kept. Signals (``flag_only``) are values, not claims: weak support flags them."""
    cited, bad = view.cited(seg)
    if not cited and not bad:
        reason = "cites no segment"
        out.dropped.append(DroppedItem(kind=kind, text=text, reason=reason, evidence=bad))
        return None
    if not cited:
        reason = f"cites segments that do not exist ({', '.join(f'S{i}' for i in bad)})"
        out.dropped.append(DroppedItem(kind=kind, text=text, reason=reason, evidence=bad))
        return None
    flag = f"also cited missing segments {', '.join(f'S{i}' for i in bad)}" if bad else ""
    scored = [(support(text, _line_text(s, view)), s) for s in cited]
    sc = max(x for x, _ in scored)
    if not flag_only and sc < SUPPORT_MIN:
        anchor, asc = view.best_anchor(text, near=cited[0].index)
        if anchor is not None and asc >= SUPPORT_MIN:
            if min(abs(anchor.index - s.index) for s in cited) > 1:
                flag = f"the model cited {', '.join(f'S{s.index}' for s in cited)}; S{anchor.index} supports it"
            cited, sc = [anchor], asc
        else:
            out.dropped.append(DroppedItem(kind=kind, text=text, reason="the cited words do not support it",
                                           evidence=[s.index for s in cited]))
            return None
    elif not flag_only:
        cited = [s for x, s in scored if x >= SUPPORT_MIN] or cited
    if flag_only and sc < DROP_BELOW:
        window_sc = support(text, " ".join(s.text for s in view.window(cited)))
        if window_sc < DROP_BELOW:
            flag = "; ".join(x for x in (flag, "weak support in the cited words") if x)
        sc = window_sc
    window_text = " ".join(s.text for s in view.window(cited))
    if flag_only and sc < FLAG_BELOW and "weak support" not in flag:
        flag = "; ".join(x for x in (flag, "weak support in the cited words") if x)
    missing = _numbers(text) - _numbers(window_text)
    if missing:  # numbers are where small models slip: each must be in the cited words
        flag = "; ".join(x for x in (flag, f"{', '.join(sorted(missing))} not in the cited words") if x)
    return cited, sc, flag


_NUM = re.compile(r"\d[\d,.]*\d|\d")


def _numbers(text: str) -> set[str]:
    return {m.group(0).replace(",", "").rstrip(".") for m in _NUM.finditer(text or "")}


def _quote(cited: list[Segment], claim: str) -> str:
    best = max(cited, key=lambda s: support(claim, s.text))
    return " ".join(best.text.split())


def _due(candidates: list[str], meeting_date: date) -> tuple[date | None, str]:
    for text in candidates:
        phrase = find_due_phrase(text) if text else ""
        if phrase:
            d = resolve_due(phrase, meeting_date)
            if d is not None:
                return d, phrase
    return None, ""


def process_chunk(raw: "RawExtractionBase | BaseModel", view: ChunkView, people: People, template: Template,
                  meeting_date: date) -> ExtractionResult:
    out = ExtractionResult(summary=(getattr(raw, "summary", "") or "").strip(), template=template.name)
    for p in raw.points:  # a key point must be said in some line of the part
        p = " ".join(p.split())
        if not p:
            continue
        _, psc = view.best_anchor(p)
        if psc >= SUPPORT_MIN:
            out.key_points.append(p)
        else:
            out.dropped.append(DroppedItem(kind="key_point", text=p, reason="no line of the transcript says it"))
    for d in raw.decisions:
        if not d.text.strip():
            continue
        chk = _check("decision", d.text, d.seg, view, out)
        if chk:
            cited, _, flag = chk
            out.decisions.append(Decision(text=d.text.strip(), evidence=[s.index for s in cited],
                                          quote=_quote(cited, d.text), flagged=bool(flag), flag_reason=flag))
    for a in raw.actions:
        task = a.task.strip()
        if not task:
            continue
        chk = _check("action_item", task, a.seg, view, out)
        if not chk:
            continue
        cited, _, flag = chk
        window = view.window(cited)
        own = resolve_owner(task, a.owner, cited, window, view.by_index, people)
        # the deadline as spoken in the supporting sentence, then the model's words, then nearby
        due_sources = [own.sentence]
        if own.segment is not None:
            due_sources.append(own.segment.text)
            prev = view.by_index.get(own.segment.index - 1)
            if own.source == "reply" and prev is not None:
                due_sources.append(prev.text)
        window_text = " ".join(s.text for s in window)
        model_due = a.due.strip()
        if model_due and (content_words(model_due) & content_words(window_text) or not content_words(model_due)):
            due_sources.append(model_due)
        due_sources += [s.text for s in cited]
        due, due_text = _due(due_sources, meeting_date)
        owner = own.owner
        out.action_items.append(ActionItemResult(
            task=task,
            owner=owner.name if owner else "unassigned",
            owner_is_user=bool(owner and owner.is_user),
            owner_email=owner.email if owner else None,
            owner_source=own.source if owner else "none",  # type: ignore[arg-type]
            due=due,
            due_text=due_text,
            evidence=[s.index for s in cited],
            quote=_quote(cited, task),
            flagged=bool(flag),
            flag_reason=flag,
        ))
    for p in raw.people:
        name = p.name.strip()
        if not name:
            continue
        known = people.match(name, min_score=90)
        if known is not None and known.is_user:
            out.dropped.append(DroppedItem(kind="person", text=name, evidence=p.seg, reason="this is the user"))
            continue  # the user is not a contact suggestion
        cited, bad = view.cited(p.seg)
        window_text = " ".join(s.text + " " + s.speaker for s in view.window(cited)) if cited else ""
        heard = bool(window_text) and fuzz.partial_ratio(name.split()[0].lower(), window_text.lower()) >= _ASR_FUZZ
        if not cited or not (heard or known is not None):
            out.dropped.append(DroppedItem(kind="person", text=name, evidence=p.seg,
                                           reason="cites no existing segment" if not cited else "name not in the cited words"))
            continue
        said = " ".join(s.text for s in view.window(cited))
        out.people.append(PersonResult(
            name=known.name if known else name,
            email=known.email if known else None,
            company=_stated(p.company, said) or (known.company if known else ""),
            role=_stated(p.role, said),  # a job title only when the transcript says it
            evidence=[s.index for s in cited],
            quote=_quote(cited, name),
            flagged=not heard,
            flag_reason="" if heard else "known attendee, name not heard in the cited words",
        ))
    for c in raw.companies:
        name = c.name.strip()
        if not name:
            continue
        cited, bad = view.cited(c.seg)
        window_text = " ".join(s.text for s in view.window(cited)) if cited else ""
        if not cited or fuzz.partial_ratio(name.lower(), window_text.lower()) < _ASR_FUZZ:
            out.dropped.append(DroppedItem(kind="company", text=name, evidence=c.seg,
                                           reason="cites no existing segment" if not cited else "name not in the cited words"))
            continue
        out.companies.append(CompanyResult(name=name, domain=_domain_for(name, people),
                                           evidence=[s.index for s in cited], quote=_quote(cited, name)))
    signals = getattr(raw, "signals", None)
    for field in template.signals:
        sig = getattr(signals, field.key, None) if signals is not None else None
        if sig is None or sig.value.strip().lower().strip(".") in _EMPTY:
            continue
        chk = _check("signal", f"{field.key}: {sig.value}", sig.seg, view, out, flag_only=True)
        if not chk:
            continue
        cited, sc, flag = chk
        wrong = _wrong_signal(field.key, sig.value, " ".join(s.text for s in view.window(cited)))
        if wrong:
            out.dropped.append(DroppedItem(kind="signal", text=f"{field.key}: {sig.value}", reason=wrong,
                                           evidence=[s.index for s in cited]))
            continue
        if sc < FLAG_BELOW and not flag:
            flag = "weak support in the cited words"
        out.signals[field.key] = SignalResult(value=sig.value.strip(), evidence=[s.index for s in cited],
                                              quote=_quote(cited, sig.value), flagged=bool(flag), flag_reason=flag)
    return out


def _stated(value: str, said: str) -> str:
    """``value`` when its words are in what was said (ASR-tolerant), else "" — a role or a
    company the model inferred ("sales representative") is not a fact of the meeting."""
    v = " ".join((value or "").split())
    if not v or v.lower().strip(".") in _EMPTY:
        return ""
    return v if support(v, said) >= 0.67 or fuzz.partial_ratio(v.lower(), said.lower()) >= 90 else ""


_MONEY = re.compile(r"(?:[$€£¥]\s?\d|\d[\d,.]*\s?(?:k|m|bn|thousand|million|billion|dollars?|euros?|pounds?|usd|eur|gbp)\b|"
                    r"\b(?:thousand|million|billion|hundred)\b|\b(?:dollars?|euros?|pounds?)\b)", re.IGNORECASE)
_NUMBER_WORDS = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                           r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion)\b", re.IGNORECASE)
_PRICE_CHANGE = re.compile(r"\b(?:increase|raise|rise|hike|discount|cut|decrease|uplift|more expensive|cheaper)\b",
                           re.IGNORECASE)


def _wrong_signal(key: str, value: str, said: str) -> str:
    """Why a value does not belong to this signal ("" when it may): a budget is an amount of
    money, not a percentage or a price change; its numbers must be in the cited words."""
    if _numbers(value) - _numbers(said) and not _NUMBER_WORDS.search(said):  # "fifty thousand": flagged instead
        return f"{', '.join(sorted(_numbers(value) - _numbers(said)))} not in the cited words"
    if key == "budget":
        if not _MONEY.search(value):
            return "a budget is an amount of money" + (" (this is a percentage)" if "%" in value or "percent" in value.lower()
                                                        else "")
        if _PRICE_CHANGE.search(value) or ("%" in value and not re.search(r"budget|spend|afford", said, re.IGNORECASE)):
            return "a price change is not a budget"
    return ""


def _domain_for(company: str, people: People) -> str | None:
    key = "".join(ch for ch in company.lower() if ch.isalnum())
    for p in people.all():
        if p.email and "@" in p.email:
            domain = p.email.split("@", 1)[1].lower()
            stem = domain.split(".")[0]
            if key and (fuzz.ratio(stem, key) >= 80 or (len(stem) >= 4 and key.startswith(stem))):
                return domain
    return None


# --------------------------------------------------------------------------- merging


def _same_task(a: ActionItemResult, b: ActionItemResult) -> bool:
    if fuzz.token_set_ratio(a.task.lower(), b.task.lower()) < 80:
        return False
    return a.owner == b.owner or "unassigned" in (a.owner, b.owner)


def merge(parts: list[ExtractionResult], template: Template) -> ExtractionResult:
    out = ExtractionResult(template=template.name)
    for part in parts:
        out.dropped.extend(part.dropped)
        for kp in part.key_points:
            if all(fuzz.token_set_ratio(kp.lower(), k.lower()) < 85 for k in out.key_points):
                out.key_points.append(kp)
        for d in part.decisions:
            twin = next((x for x in out.decisions if fuzz.token_set_ratio(x.text.lower(), d.text.lower()) >= 85), None)
            if twin:
                twin.evidence = sorted(set(twin.evidence) | set(d.evidence))
            else:
                out.decisions.append(d)
        for a in part.action_items:
            twin = next((x for x in out.action_items if _same_task(x, a)), None)
            if twin is None:
                out.action_items.append(a)
                continue
            twin.evidence = sorted(set(twin.evidence) | set(a.evidence))
            if twin.owner == "unassigned" and a.owner != "unassigned":
                twin.owner, twin.owner_is_user, twin.owner_email, twin.owner_source = (
                    a.owner, a.owner_is_user, a.owner_email, a.owner_source)
            if twin.due is None and a.due is not None:
                twin.due, twin.due_text = a.due, a.due_text
            if twin.flagged and not a.flagged:
                twin.flagged, twin.flag_reason, twin.quote = False, "", a.quote
        for p in part.people:
            twin = next((x for x in out.people if fuzz.WRatio(x.name, p.name) >= 90), None)
            if twin is None:
                out.people.append(p)
                continue
            twin.evidence = sorted(set(twin.evidence) | set(p.evidence))
            twin.company = twin.company or p.company
            twin.role = twin.role or p.role
            twin.email = twin.email or p.email
        for c in part.companies:
            twin = next((x for x in out.companies if fuzz.WRatio(x.name, c.name) >= 90), None)
            if twin is None:
                out.companies.append(c)
            else:
                twin.evidence = sorted(set(twin.evidence) | set(c.evidence))
                twin.domain = twin.domain or c.domain
        for f in template.signals:
            s = part.signals.get(f.key)
            if s is None:
                continue
            cur = out.signals.get(f.key)
            if cur is None:
                out.signals[f.key] = s.model_copy()
            elif f.kind == "list":
                if fuzz.token_set_ratio(cur.value.lower(), s.value.lower()) < 85:
                    cur.value = f"{cur.value}; {s.value}"
                cur.evidence = sorted(set(cur.evidence) | set(s.evidence))
            elif not s.flagged or cur.flagged:
                out.signals[f.key] = s.model_copy()  # later in the meeting supersedes
    out.key_points = out.key_points[:8]
    return out
