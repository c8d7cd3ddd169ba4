"""Briefs kept in the store: built when missing, rebuilt when their inputs change.

The facts of a brief are hashed (``inputs_hash``); a stored brief is reused while the hash
matches. A rules-only brief is upgraded when a model is offered; an LLM brief is kept when
asked for a rules-only one with the same facts. No network is used here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

from app.brief.agenda import llm_agenda, rules_agenda
from app.brief.build import collect, inputs_hash
from app.brief.model import Brief
from app.brief.render import to_markdown
from app.calendar.model import CalendarEvent
from app.core.errors import KithError

if TYPE_CHECKING:  # pragma: no cover
    from app.extract.llm import LocalLLM
    from app.store.db import Store


@dataclass
class BriefOptions:
    my_name: str = "You"
    # returns a LocalLLM, or None for rules only; called only when a model is needed
    llm: "Callable[[], LocalLLM | None] | None" = None
    self_emails: set[str] = field(default_factory=set)


def _llm_name(llm: "LocalLLM") -> str:
    return f"llm:{getattr(llm, 'name', 'model')}"


def brief_for_event(store: "Store", event: CalendarEvent, opts: BriefOptions | None = None, force: bool = False,
                    save: bool = True) -> Brief:
    from app.calendar.repo import CalendarRepo

    opts = opts or BriefOptions()
    repo = CalendarRepo(store)
    mine = set(opts.self_emails) | repo.self_emails()
    brief = collect(store, event, opts.my_name, mine)
    h = inputs_hash(brief)
    want_llm = opts.llm is not None
    if not force and event.id is not None:
        stored = repo.get_brief(event.id)
        if stored and stored["inputs_hash"] == h:
            old = Brief.from_dict(stored["data"])
            if old.agenda_source.startswith("llm") or not want_llm:
                return old
    brief.inputs_hash = h
    llm = None
    if want_llm:
        try:
            llm = opts.llm()
        except KithError as e:
            brief.notes.append(f"The local language model is unavailable ({e.message}); agenda from rules.")
    if llm is not None:
        try:
            agenda, questions = llm_agenda(brief, llm)
            if agenda:
                brief.agenda, brief.questions = agenda, questions
                brief.agenda_source = _llm_name(llm)
            else:
                brief.notes.append("The local language model proposed no agenda; agenda from rules.")
        except KithError as e:
            brief.notes.append(f"The local language model gave no usable agenda ({e.message}); agenda from rules.")
    if not brief.agenda_source.startswith("llm"):
        brief.agenda, brief.questions = rules_agenda(brief)
        brief.agenda_source = "rules"
    brief.generated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if save and event.id is not None:
        repo.save_brief(event.id, to_markdown(brief), brief.to_dict(), h,
                        [p.contact_id for p in brief.people if p.contact_id is not None])
    return brief


def options_for(kith, with_llm: bool = False) -> BriefOptions:
    """Brief options from the user's settings (the model is loaded only if a brief needs it)."""
    def make():
        from app.catalog import resolve_llm
        from app.extract.llm import LocalLLM

        s = kith.settings.llm
        return LocalLLM(resolve_llm(kith.paths, s.model), n_threads=s.threads, n_ctx=s.context,
                        hash_cache_dir=kith.paths.models)

    return BriefOptions(my_name=kith.settings.crm.my_name, llm=make if with_llm else None)


def todays_briefs(store: "Store", opts: BriefOptions | None = None, now: datetime | None = None,
                  days: int = 1) -> list[tuple[CalendarEvent, Brief | None]]:
    """The events of today (and the next ``days - 1`` days) with their briefs — stored briefs reused
    while their facts are unchanged, rebuilt and saved when they changed (``kith today`` and the
    app's Today page). All-day events have no brief. A brief that cannot be built hides no event."""
    from app.calendar.repo import CalendarRepo

    now = (now or datetime.now().astimezone()).astimezone()
    start = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo).astimezone(timezone.utc)
    out: list[tuple[CalendarEvent, Brief | None]] = []
    for e in CalendarRepo(store).events_between(start, start + timedelta(days=days)):
        brief = None
        if not e.all_day:
            try:
                brief = brief_for_event(store, e, opts)
            except KithError:
                brief = None
        out.append((e, brief))
    return out


def next_event(store: "Store", now: datetime | None = None, horizon_days: int = 14) -> CalendarEvent | None:
    """The next timed event that has not ended yet (the running one counts)."""
    from app.calendar.repo import CalendarRepo

    now = now or datetime.now(timezone.utc)
    for e in CalendarRepo(store).events_between(now, now + timedelta(days=horizon_days), include_all_day=False):
        if e.end > now:
            return e
    return None


def prepare_upcoming(store: "Store", opts: BriefOptions | None = None, hours: int = 24,
                     now: datetime | None = None) -> list[Brief]:
    """Build (or refresh) briefs for the timed events in the next ``hours``."""
    from app.calendar.repo import CalendarRepo

    now = now or datetime.now(timezone.utc)
    out = []
    for e in CalendarRepo(store).events_between(now, now + timedelta(hours=hours), include_all_day=False):
        out.append(brief_for_event(store, e, opts))
    return out
