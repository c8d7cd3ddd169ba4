"""What an import will use before it starts — the defaults the app's import sheet shows and the
user may change: title, template (suggested from the calendar event or the content), when (with
the calendar event it falls in) and who. The chosen values go into the same
:class:`~app.meetings.pipeline.ProcessOptions` that ``kith process --title --template --at --with``
fills, so both front-ends run one pipeline."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# words that make a meeting look like one of the bundled templates (whole words, case-insensitive)
TEMPLATE_WORDS: dict[str, tuple[str, ...]] = {
    "sales": ("pricing", "price", "prices", "deal", "contract", "quote", "discount", "proposal", "procurement",
              "purchase order", "renewal", "licence", "license", "licenses", "seats", "pilot", "invoice",
              "order form", "demo", "budget"),
    "investor": ("investor", "investors", "valuation", "term sheet", "cap table", "runway", "fundraise",
                 "fundraising", "seed round", "series a", "series b", "due diligence", "pre-money", "dilution"),
    "one_on_one": ("1:1", "1-1", "one-on-one", "one on one", "career", "feedback", "check-in", "growth plan"),
}
TITLE_WEIGHT = 3  # a word in the title (event or file name) counts as much as three in the content
THRESHOLD = 2


@dataclass
class TemplateChoice:
    name: str
    why: str = ""  # "" when nothing pointed anywhere (the default template)


@dataclass
class ImportPlan:
    path: Path
    title: str
    started_at: datetime
    event: object | None  # CalendarEvent the start falls in
    attendees: list[tuple[str, str]] = field(default_factory=list)  # (name, email), the user left out
    templates: list[tuple[str, str]] = field(default_factory=list)  # (name, title) of every template
    template: TemplateChoice = field(default_factory=lambda: TemplateChoice("general"))
    already: object | None = None  # the Meeting these same bytes were imported as before


def _hits(words: tuple[str, ...], text: str) -> list[str]:
    low = text.casefold()
    return [w for w in words if re.search(r"(?<![\w])" + re.escape(w) + r"(?![\w])", low)]


def suggest_template(title: str, content: str, available: list[str], default: str = "general") -> TemplateChoice:
    """The template the title (calendar event or file name) and content point at, by keyword
    score (title words weigh ``TITLE_WEIGHT``); ``default`` when no template reaches ``THRESHOLD``."""
    best: tuple[int, str, list[str]] | None = None
    for name, words in TEMPLATE_WORDS.items():
        if name not in available:
            continue
        in_title, in_text = _hits(words, title), _hits(words, content)
        score = TITLE_WEIGHT * len(in_title) + len(set(in_text) - set(in_title))
        if score >= THRESHOLD and (best is None or score > best[0]):
            best = (score, name, list(dict.fromkeys(in_title + in_text)))
    if best is None:
        return TemplateChoice(default if default in available or not available else available[0])
    return TemplateChoice(best[1], "mentions " + ", ".join(best[2][:4]))


def event_at(kith, store, when: datetime):
    """(calendar event running at ``when`` or None, its other attendees as (name, email))."""
    from app.calendar.link import event_for, invitees

    event = event_for(store, when)
    crm = kith.settings.crm
    return event, invitees(event, me=(crm.my_name, crm.my_email))


def plan_import(kith, path: Path, max_content_chars: int = 200_000) -> ImportPlan:
    """The defaults for importing ``path``, as process_file would choose them (a transcript is
    read for its title and words; a recording only by its name and time)."""
    from app.extract.templates import list_templates, load_template
    from app.meetings.importers import import_transcript, is_transcript
    from app.meetings.pipeline import default_title, file_sha256, meeting_time

    path = Path(path)
    store = kith.store()
    already = store.meetings.find_by_source_hash(file_sha256(path))
    started_at = meeting_time(path).astimezone()
    event, attendees = event_at(kith, store, started_at)
    meta: dict = {}
    content = ""
    if is_transcript(path):
        segments, meta = import_transcript(path)
        content = " ".join(s.text for s in segments)[:max_content_chars]
    names = list_templates(kith.paths)
    templates = []
    for n in names:
        try:
            templates.append((n, load_template(n, kith.paths).title))
        except Exception:  # noqa: BLE001 — a broken user template is still listed by name
            templates.append((n, n))
    title = default_title(path, meta, event)
    hint = " ".join(filter(None, [title, getattr(event, "title", ""), path.stem.replace("_", " ").replace("-", " ")]))
    content = " ".join(filter(None, [getattr(event, "description", "") or "", content]))
    choice = suggest_template(hint, content, names, kith.settings.crm.default_template)
    return ImportPlan(path=path, title=title, started_at=started_at, event=event, attendees=attendees,
                      templates=templates, template=choice, already=already)


def options_from(title: str, template: str, started_at: datetime, who: str, notes: str = "", again: bool = False):
    """ProcessOptions from the sheet's fields (``who``: emails, or "Name <email>", comma-separated;
    ``again``: a second copy of a file already imported, as ``--again``)."""
    from app.meetings.pipeline import ProcessOptions

    emails = list(dict.fromkeys(re.findall(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", who)))
    return ProcessOptions(title=title.strip() or None, template=template or None, started_at=started_at,
                          with_emails=emails, user_notes=notes, allow_duplicate=again)


def who_text(attendees: list[tuple[str, str]]) -> str:
    """The sheet's "who" field for (name, email) pairs: "Dana Whitfield <dana@…>, …"."""
    return ", ".join(f"{n} <{e}>" if n and e else (n or e) for n, e in attendees)
