"""The import plan: the defaults the app's import sheet shows (title, template suggested from the
event or the content, when with its calendar event, who) and the ProcessOptions its choices
become — the same options `kith process --title --template --at --with` builds."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from app.meetings.import_plan import options_from, suggest_template, who_text

ALL = ["general", "investor", "one_on_one", "sales"]


def test_suggest_template_from_content_and_title():
    s = suggest_template("Northwind call", "We talked about pricing and the contract for next year.", ALL)
    assert s.name == "sales" and "pricing" in s.why and "contract" in s.why
    assert suggest_template("Term sheet review", "", ALL).name == "investor"  # one title word is enough
    assert suggest_template("Weekly 1:1 with Alex", "", ALL).name == "one_on_one"
    # one passing word in the content is not enough; nothing → the default, with no reason
    weak = suggest_template("Team sync", "The price of coffee went up again.", ALL)
    assert (weak.name, weak.why) == ("general", "")
    assert suggest_template("Team sync", "", ALL, default="one_on_one").name == "one_on_one"
    # a template that is not installed is never suggested; "pricing" inside a word does not count
    assert suggest_template("Pricing call", "deal contract", ["general"]).name == "general"
    assert suggest_template("Repricingplan", "", ALL).name == "general"


def test_options_from_the_sheet_fields():
    when = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
    o = options_from("  Acme pricing  ", "sales", when, "Maria Lopez <maria@acme.example>, tom@acme.example, Priya")
    assert (o.title, o.template, o.started_at) == ("Acme pricing", "sales", when)
    assert o.with_emails == ["maria@acme.example", "tom@acme.example"]
    blank = options_from("", "", when, "")
    assert blank.title is None and blank.template is None and blank.with_emails == []
    assert who_text([("Maria Lopez", "maria@acme.example"), ("", "tom@acme.example"), ("Priya", "")]) == \
        "Maria Lopez <maria@acme.example>, tom@acme.example, Priya"


def _event(store, start, title="Acme pricing call"):
    from app.calendar.model import Attendee, CalendarEvent, SourceRecord
    from app.calendar.repo import CalendarRepo

    repo = CalendarRepo(store)
    src = repo.add_source(SourceRecord(kind="ics", name="work", config={"location": "/work.ics"}))
    people = [Attendee("maria.lopez@acmefreight.com", "Maria Lopez", "accepted"),
              Attendee("sam@kith.example", "Sam", "accepted", is_self=True)]
    repo.upsert_events(src.id, [CalendarEvent(external_id="ev1", title=title, start=start,
                                              end=start + timedelta(minutes=45), attendees=people)])


def test_plan_for_a_transcript_during_a_calendar_event(kith, tmp_path):
    from app.ops.meetings import import_plan

    f = tmp_path / "team_notes.vtt"
    f.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Maria>Hello, shall we start?\n", encoding="utf-8")
    start = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
    os.utime(f, (start.timestamp() + 300, start.timestamp() + 300))  # recorded 5 minutes into the event
    store = kith.store()
    plan = import_plan(kith, f).value
    assert plan.event is None and plan.title == "Team notes" and plan.template.name == "general"
    assert plan.started_at == start + timedelta(minutes=5) and plan.started_at.tzinfo is not None
    assert ("sales", "Sales call") in plan.templates and len(plan.templates) == 4
    _event(store, start)
    plan = import_plan(kith, f).value
    assert plan.event.title == "Acme pricing call" and plan.title == "Acme pricing call"
    assert plan.attendees == [("Maria Lopez", "maria.lopez@acmefreight.com")]  # the calendar's owner left out
    assert plan.template.name == "sales" and "pricing" in plan.template.why


def test_plan_suggests_from_the_transcript_words(kith, sales_vtt):
    from app.ops.meetings import import_plan

    plan = import_plan(kith, sales_vtt).value
    assert plan.title == "Acme call" and plan.template.name == "sales"
    assert "pricing" in plan.template.why and "budget" in plan.template.why
