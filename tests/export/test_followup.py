"""The follow-up email draft: built from the stored minutes, decisions and next steps in the
user's voice; `kith meetings followup ID [--mailto]` prints what the app's dialog shows."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

from app.cli import main
from app.core.domain import ActionItem, Contact, Meeting, Note

MINUTES = """## Summary

Northwind wants a ten-agent pilot before rolling out to forty agents [S10]. Budget is **$12,000** [S11].
Security must review the encryption first. A fourth sentence that is cut.

## Key points

- Forty agents lose an hour a day on notes [S4]

## Decisions

- Pilot with ten agents [S10]
- review call at the end of the pilot [S17]
"""


def seed(store, my_name="Sam"):
    dana = store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"]))
    priya = store.contacts.add(Contact(name="Priya Raman", emails=["priya@northwind.example"]))
    me = store.contacts.add(Contact(name=my_name, emails=["sam@kith.example"]))
    m = store.meetings.add(Meeting(title="Northwind\x1b[31m pilot", started_at=datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc),
                                   template="sales", status="processed"))
    for c in (dana, priya, me):
        store.meetings.add_participant(m.id, c.id)
    store.notes.add(Note(meeting_id=m.id, author="ai", body=MINUTES, kind="minutes"))
    store.notes.add(Note(meeting_id=m.id, author="user", body="my private note", kind="notes"))
    store.actions.add(ActionItem(meeting_id=m.id, text="Send the security overview\x07", owner_text=my_name,
                                 due_date=date(2026, 11, 27), status="open"))
    store.actions.add(ActionItem(meeting_id=m.id, text="share the questionnaire", owner_text="Priya Raman",
                                 owner_contact_id=priya.id, due_date=date(2026, 12, 4), status="proposed"))
    store.actions.add(ActionItem(meeting_id=m.id, text="Old thing already done", owner_text="Dana", status="done"))
    store.actions.add(ActionItem(meeting_id=m.id, text="Dismissed idea", owner_text="Dana", status="dismissed"))
    return m.id


def test_draft_from_stored_minutes_in_the_users_voice(kith):
    from app.ops.meetings import followup

    kith.settings.crm.my_name = "Sam"
    mid = seed(kith.store())
    res = followup(kith, mid)
    assert not res.changes  # a draft changes nothing
    d = res.value
    assert d.to == ["dana@northwind.example", "priya@northwind.example"]  # not the user
    assert d.subject == "Follow-up: Northwind pilot"
    body = d.body
    assert body.startswith("Hi Dana and Priya,\n")
    assert "Northwind wants a ten-agent pilot before rolling out to forty agents. Budget is $12,000." in body
    assert "Security must review the encryption first." in body and "fourth sentence" not in body  # a short recap
    assert "What we decided:\n- Pilot with ten agents\n- Review call at the end of the pilot\n" in body
    assert "Next steps:\n- Me — Send the security overview (Fri 27 Nov 2026)\n- Priya Raman — Share the questionnaire (Fri 4 Dec 2026)\n" in body
    assert "Thanks for your time on Friday 20 November." in body
    assert "Old thing" not in body and "Dismissed" not in body and "private note" not in body
    assert "[S" not in body and "**" not in body and "Forty agents" not in body
    assert "\x1b" not in body + d.subject and "\x07" not in body
    assert body.rstrip().endswith("Best,\nSam")


def test_no_minutes_no_attendees_still_a_sane_draft(kith):
    from app.ops.meetings import followup

    m = kith.store().meetings.add(Meeting(title="Quick sync", started_at=datetime.now(timezone.utc) - timedelta(hours=1)))
    d = followup(kith, m.id).value
    assert d.to == [] and d.body.startswith("Hi all,\n")
    assert "decided" not in d.body and "Next steps" not in d.body
    assert d.body.rstrip().endswith("Best,")  # the default "You" is no signature


def test_calendar_invitees_not_in_the_crm_are_greeted_and_addressed(kith):
    from app.calendar.model import Attendee, CalendarEvent, SourceRecord
    from app.calendar.repo import CalendarRepo
    from app.export.followup import build_followup

    store = kith.store()
    t0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
    repo = CalendarRepo(store)
    src = repo.add_source(SourceRecord(kind="ics", name="work", config={"location": "/w.ics"}))
    repo.upsert_events(src.id, [CalendarEvent(external_id="e", title="Pilot", start=t0, end=t0 + timedelta(hours=1),
                                              attendees=[Attendee("tom.becker@acme.example", "", "accepted"),
                                                         Attendee("no@acme.example", "Nope", "declined")])])
    ev = repo.events_between(t0 - timedelta(hours=1), t0 + timedelta(hours=2))[0]
    m = store.meetings.add(Meeting(title="Pilot", started_at=t0, calendar_event_id=ev.id))
    d = build_followup(store, m.id, "Sam")
    assert d.to == ["tom.becker@acme.example"] and d.body.startswith("Hi Tom,\n")


def test_mailto_url_round_trips():
    from app.export.followup import mailto_url

    url = mailto_url(["dana@northwind.example", "priya@northwind.example"], "Follow-up: A & B?", "Hi,\n\n- x — y (Fri)\n")
    parts = urlsplit(url)
    assert parts.scheme == "mailto" and unquote(parts.path) == "dana@northwind.example,priya@northwind.example"
    q = parse_qs(parts.query)
    assert q["subject"] == ["Follow-up: A & B?"] and q["body"] == ["Hi,\r\n\r\n- x — y (Fri)\r\n"]


def test_cli_prints_the_draft_and_the_mailto(kith, capsys):
    kith.settings.crm.my_name = "Sam"
    from app.core.config import save_settings

    save_settings(kith.settings, kith.paths.settings_file)
    mid = seed(kith.store())
    kith.close()
    assert main(["meetings", "followup", str(mid)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("To: dana@northwind.example, priya@northwind.example\nSubject: Follow-up: Northwind pilot\n\nHi Dana and Priya,")
    assert "- Me — Send the security overview (Fri 27 Nov 2026)" in out
    assert main(["meetings", "followup", str(mid), "--mailto"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("mailto:dana@northwind.example,priya@northwind.example?subject=Follow-up%3A%20Northwind%20pilot&body=Hi%20Dana")
