"""`kith today` and the app's Today page show the same briefs, from the same brief store."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from app.calendar.model import Attendee, CalendarEvent, SourceRecord
from app.calendar.repo import CalendarRepo
from app.cli import main


def _event_in_an_hour(kith):
    repo = CalendarRepo(kith.store())
    src = repo.add_source(SourceRecord(kind="ics", name="Team", config={"location": "/tmp/team.ics"}))
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=5)
    ev = CalendarEvent(source_id=src.id, external_id="e1", title="Renewal with Northwind", start=start,
                       end=start + timedelta(minutes=30), attendees=[Attendee(email="dana@northwind.example", name="Dana")])
    repo.upsert_events(src.id, [ev])
    return repo


def test_app_today_uses_the_cli_brief_store(kith, capsys):
    from app.ui.views.today import load_today

    repo = _event_in_an_hour(kith)
    assert main(["today", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    [ev] = repo.events_between(datetime.now(timezone.utc) - timedelta(days=1), datetime.now(timezone.utc) + timedelta(days=1))
    saved = repo.get_brief(ev.id)
    assert saved is not None and cli["events"][0]["brief"]
    data = load_today(kith.store(), my_name=kith.settings.crm.my_name)
    assert [md for _e, md in data.events] == [saved["markdown"]]  # the stored brief, not a second build
