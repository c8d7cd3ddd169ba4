"""Real google-auth-oauthlib + google-api-python-client against the loopback Google server:
connect (PKCE) → full sync (paged) → incremental sync → 410 → full resync; refresh; DST."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.calendar import google
from app.calendar.repo import CalendarRepo
from app.calendar.sync import sync_all
from app.core.errors import KithError
from gcal_server import browser_for

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=timezone.utc)
BOB = {"email": "bob@acme.com", "displayName": "Bob Stone", "responseStatus": "accepted"}


def _seed(s) -> None:
    me = {"email": s.account, "self": True, "organizer": True, "responseStatus": "accepted"}
    # weekly 09:00 London across the end of BST (25 Oct 2026): UTC 08:00 then 09:00
    s.weekly(s.account, "wk", "Weekly sync", datetime(2026, 10, 12, 9, 0), 4, 30, "Europe/London", attendees=[me, BOB])
    for i in range(7):  # enough single events for several pages at page_size=3
        s.timed(s.account, f"one{i}", f"Call {i}", datetime(2026, 10, 21 + i, 15, 0), 45, "America/New_York",
                attendees=[me, {"email": f"p{i}@globex.com", "displayName": f"Person {i}"}])
    s.all_day(s.account, "off", "Offsite", "2026-10-30", days=2)
    s.timed(s.account, "old", "Long ago", datetime(2026, 1, 5, 10, 0), 30, "Europe/London")  # before timeMin


def _connect(store, gserver):
    open_url = browser_for(gserver)
    account, sources = google.connect(store, gserver.client_config(), open_url, api_endpoint=gserver.api_endpoint, timeout=20)
    assert not open_url.errors
    return account, sources


def _source(rec, gserver):
    return google.GoogleCalendarSource(rec, api_endpoint=gserver.api_endpoint, now=NOW, page_size=3)


def test_connect_sync_incremental_resync(store, gserver, memory_keyring, kith_home):
    s = gserver.state
    _seed(s)
    account, sources = _connect(store, gserver)
    assert account == "ada@example.com" and len(sources) == 1
    assert s.token_grants == ["authorization_code"]  # PKCE verified by the server

    # tokens live in the keyring only — never in a file of the profile
    raw = memory_keyring.store[("kith", "google:ada@example.com")]
    tokens = json.loads(raw)
    assert tokens["refresh_token"].startswith("1//")
    for f in kith_home.rglob("*"):
        if f.is_file():
            assert tokens["refresh_token"].encode() not in f.read_bytes(), f

    src = _source(sources[0], gserver)
    r1 = src.sync(store)
    assert r1.full and r1.added == 4 + 7 + 1 and r1.removed == 0  # "old" is before timeMin
    pages = [p for m, p in s.requests if "/events" in p and "syncToken" not in p]
    assert len(pages) == 4 and sum("pageToken" in p for p in pages) == 3  # 12 items / 3 per page
    repo = CalendarRepo(store)
    rec = repo.get_source(sources[0].id)
    assert rec.sync_token and rec.sync_token.startswith("st-")

    # DST: same 09:00 wall clock in London, the UTC instant moves by an hour
    weekly = [e for e in repo.events_between(datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 11, 30, tzinfo=timezone.utc))
              if e.title == "Weekly sync"]
    assert [e.start.hour for e in weekly] == [8, 8, 9, 9]
    assert all(e.tz == "Europe/London" and e.local_start().hour == 9 for e in weekly)
    assert {a.email for a in weekly[0].attendees} == {"ada@example.com", "bob@acme.com"}
    assert [a.email for a in weekly[0].others()] == ["bob@acme.com"]
    ny = next(e for e in repo.events_between(datetime(2026, 10, 21, tzinfo=timezone.utc), datetime(2026, 10, 22, tzinfo=timezone.utc)))
    assert ny.start == datetime(2026, 10, 21, 19, 0, tzinfo=timezone.utc) and ny.local_start().hour == 15
    offsite = next(e for e in repo.events_between(datetime(2026, 10, 30, tzinfo=timezone.utc), datetime(2026, 10, 31, tzinfo=timezone.utc)) if e.all_day)
    assert offsite.title == "Offsite" and offsite.start.date().isoformat() == "2026-10-30" and offsite.end.day == 1

    ids_before = {e.external_id: e.id for e in repo.events_between(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc))}

    # incremental: one instance of the series cancelled, one event changed, one added
    s.cancel(s.account, "wk_20261026T090000Z")
    s.timed(s.account, "one0", "Call 0 (moved)", datetime(2026, 10, 21, 16, 0), 45, "America/New_York")
    s.timed(s.account, "new", "New call", datetime(2026, 11, 3, 10, 0), 30, "Europe/Berlin", attendees=[BOB])
    src = _source(repo.get_source(rec.id), gserver)
    r2 = src.sync(store)
    assert not r2.full and (r2.added, r2.updated, r2.removed) == (1, 1, 1)
    assert [p for m, p in s.requests if "/events" in p][-1].count("syncToken=" + rec.sync_token) == 1
    events = {e.external_id: e for e in repo.events_between(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc))}
    assert "wk_20261026T090000Z" not in events
    assert events["one0"].title == "Call 0 (moved)" and events["one0"].id == ids_before["one0"]  # id stable
    assert events["new"].start == datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)  # CET, after DST end

    # nothing changed → nothing written
    r3 = _source(repo.get_source(rec.id), gserver).sync(store)
    assert (r3.added, r3.updated, r3.removed) == (0, 0, 0) and not r3.full

    # the server forgets our token: 410 → full resync, still the same events
    s.invalidate_sync_tokens()
    s.cancel(s.account, "one6")  # changed while we were away
    r4 = _source(repo.get_source(rec.id), gserver).sync(store)
    assert r4.full and "410" in r4.note and r4.removed == 1 and r4.added == 0
    after = {e.external_id: e.id for e in repo.events_between(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc))}
    assert set(after) == set(events) - {"one6"}
    assert all(after[x] == events[x].id for x in after)  # ids survive a resync (meetings link to them)
    assert repo.get_source(rec.id).sync_token != rec.sync_token


def test_expired_access_token_is_refreshed_and_saved(store, gserver, memory_keyring):
    s = gserver.state
    _seed(s)
    _, sources = _connect(store, gserver)
    before = json.loads(memory_keyring.store[("kith", "google:ada@example.com")])
    s.expire_access_tokens()  # the server now answers 401 to the old access token
    reports = sync_all(store, {"google_api_endpoint": gserver.api_endpoint, "now": NOW})
    assert reports[0].added == 12 and not reports[0].note
    assert s.token_grants == ["authorization_code", "refresh_token"]
    after = json.loads(memory_keyring.store[("kith", "google:ada@example.com")])
    assert after["token"] != before["token"] and after["refresh_token"] == before["refresh_token"]


def test_revoked_refresh_token_gives_clear_error(store, gserver):
    s = gserver.state
    _seed(s)
    _, sources = _connect(store, gserver)
    s.refresh_tokens.clear()
    s.expire_access_tokens()
    with pytest.raises(KithError, match="no longer accepts") as e:
        _source(sources[0], gserver).sync(store)
    assert "connect google" in str(e.value)
    assert CalendarRepo(store).count_events() == 0


def test_several_calendars_and_accounts(store, gserver, memory_keyring):
    s = gserver.state
    s.add_calendar("team@group.calendar.google.com", "Team", "Europe/Berlin")
    s.timed("team@group.calendar.google.com", "t1", "Team standup", datetime(2026, 10, 22, 9, 30), 15, "Europe/Berlin")
    s.timed(s.account, "a1", "Mine", datetime(2026, 10, 22, 11, 0), 30, "Europe/London")
    _, sources = _connect(store, gserver)
    assert {src.config["calendar_id"] for src in sources} == {"ada@example.com", "team@group.calendar.google.com"}
    assert any(src.name == "ada@example.com / Team" for src in sources)
    # a second account on another (loopback) Google
    from gcal_server import GoogleServer, GoogleState

    with GoogleServer(GoogleState(account="ada@work.example")) as g2:
        g2.state.timed("ada@work.example", "w1", "Work thing", datetime(2026, 10, 23, 10, 0), 60, "Europe/Paris")
        acct2, src2 = google.connect(store, g2.client_config(), browser_for(g2), api_endpoint=g2.api_endpoint, timeout=20)
        assert acct2 == "ada@work.example"
        assert {k[1] for k in memory_keyring.store if k[1].startswith("google:")} == {"google:ada@example.com", "google:ada@work.example"}
        r_a = sync_all(store, {"google_api_endpoint": gserver.api_endpoint, "now": NOW}, only=[x.id for x in sources])
        r_b = sync_all(store, {"google_api_endpoint": g2.api_endpoint, "now": NOW}, only=[x.id for x in src2])
    assert [r.added for r in r_a] == [1, 1] and [r.added for r in r_b] == [1]
    titles = {e.title for e in CalendarRepo(store).events_between(NOW, datetime(2026, 10, 24, tzinfo=timezone.utc))}
    assert titles == {"Team standup", "Mine", "Work thing"}
    # reconnecting does not duplicate sources
    _, again = _connect(store, gserver)
    assert len(CalendarRepo(store).list_sources("google")) == 3 and {x.id for x in again} == {x.id for x in sources}


def test_declined_consent_and_bad_client_json(store, gserver, tmp_path):
    with pytest.raises(KithError, match="refused access: access_denied"):
        google.connect(store, gserver.client_config(), browser_for(gserver, approve=False), api_endpoint=gserver.api_endpoint,
                       timeout=20)
    assert CalendarRepo(store).list_sources() == []
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": {"client_id": "x"}}))
    with pytest.raises(KithError, match="not a Desktop-app OAuth client"):
        google.load_client_config(str(web))
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(KithError, match="not a JSON file"):
        google.load_client_config(str(junk))


def test_event_times_parse_like_google_sends_them():
    item = {"id": "x", "summary": "S", "start": {"dateTime": "2026-03-29T01:30:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-29T03:30:00+02:00", "timeZone": "Europe/Berlin"},
            "attendees": [{"email": "Room@resource.calendar.google.com", "resource": True}, {"email": "A@B.com"}],
            "organizer": {"email": "org@b.com", "displayName": "Org"}}
    e = google.to_event(item)
    assert e.end - e.start == __import__("datetime").timedelta(hours=1)  # the spring-forward night
    assert e.local_start().tzinfo == ZoneInfo("Europe/Berlin")
    assert [a.email for a in e.attendees] == ["org@b.com", "a@b.com"] and e.attendees[0].organizer
