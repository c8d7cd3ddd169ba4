"""HubSpot export with the real hubspot-api-client against a loopback CRM v3/v4 server."""
from __future__ import annotations

import html
import json

import pytest

from app.core.errors import Cancelled, KithError
from app.export.base import gather
from app.export.hubspot import HubSpotExporter

from .hubspot_server import FakeHubSpot

TOKEN = "pat-na1-test-token"


@pytest.fixture
def hub():
    with FakeHubSpot(TOKEN) as h:
        yield h


def exporter(store, hub, backoff, token=TOKEN):
    return HubSpotExporter(store, token=token, api_base=hub.url, backoff=backoff)


def props(hub, otype):
    return [o["properties"] for o in hub.state.objects[otype].values()]


def test_first_export_creates_everything_with_associations(store, seed, hub, fast_backoff):
    ex = exporter(store, hub, fast_backoff)
    plan = ex.plan(gather(store))
    counts = plan.counts()
    assert counts["company"] == {"create": 2, "update": 0, "skip": 0}
    assert counts["contact"] == {"create": 2, "update": 0, "skip": 1}  # Carol has no email
    assert counts["meeting"] == {"create": 1, "update": 0, "skip": 1}  # Globex intro has no minutes
    assert counts["action"] == {"create": 3, "update": 0, "skip": 0}   # open, done, mine — not proposed/dismissed
    report = ex.run(plan, confirm=True)
    assert not report.failed and len(report.sent) == 8

    st = hub.state
    assert sorted(p["email"] for p in props(hub, "contacts")) == ["ada@acme.com", "bob@globex.io"]
    assert sorted(p["domain"] for p in props(hub, "companies")) == ["acme.com", "globex.io"]
    ada_rid = store.exports.get("contact", seed.ada.id, "hubspot")
    acme_rid = store.exports.get("company", seed.acme.id, "hubspot")
    ada = st.objects["contacts"][ada_rid]["properties"]
    assert (ada["firstname"], ada["lastname"], ada["jobtitle"]) == ("Ada", "Lovelace", "CTO")
    assert ("contacts", ada_rid, "companies", acme_rid, 279) in st.associations

    note_rid = store.exports.get("meeting", seed.m1.id, "hubspot")
    note = st.objects["notes"][note_rid]["properties"]
    assert note["hs_timestamp"] == "2026-01-05T10:00:00.000Z"
    body = note["hs_note_body"]
    assert "<strong>pricing</strong>" in body and "<h3>Decisions</h3>" in body
    assert "&lt;script&gt;" in body and "<script>" not in body  # user text never becomes markup
    assert "Ask about SSO" in body
    assert st.linked("notes", note_rid, "contacts") == {ada_rid, store.exports.get("contact", seed.bob.id, "hubspot")}
    assert {a[4] for a in st.associations if a[0] == "notes"} == {202, 190}

    task_rid = store.exports.get("action", seed.a_open.id, "hubspot")
    task = st.objects["tasks"][task_rid]["properties"]
    assert task["hs_task_subject"] == "Send the annual pricing sheet"
    assert task["hs_task_status"] == "NOT_STARTED" and task["hs_timestamp"] == "2026-01-09T12:00:00.000Z"
    assert 'Ada Lovelace: "I\'ll send the "annual" pricing sheet by Friday."' in task["hs_task_body"]  # quoted source
    assert st.linked("tasks", task_rid, "contacts") == {ada_rid}
    done = st.objects["tasks"][store.exports.get("action", seed.a_done.id, "hubspot")]["properties"]
    assert done["hs_task_status"] == "COMPLETED" and done["hs_task_priority"] == "MEDIUM"
    assert task["hs_task_priority"] == "MEDIUM"  # due 4 days after the meeting

    # the audit log says what went — ids and counts, never bodies or emails
    entry = next(e for e in store.audit.list() if e.action == "export:hubspot")
    assert entry.actor == "user" and entry.output["counts"]["created"] == 8
    dumped = json.dumps(entry.output)
    assert "ada@acme.com" not in dumped and "pricing" not in dumped


def test_second_export_updates_only_what_changed_and_never_duplicates(store, seed, hub, fast_backoff):
    ex = exporter(store, hub, fast_backoff)
    ex.run(ex.plan(gather(store)), confirm=True)
    sizes = {t: len(v) for t, v in hub.state.objects.items()}
    creates = hub.state.count("POST", r"^/crm/v3/objects/\w+$")

    again = ex.plan(gather(store))
    assert all(o.op == "skip" for o in again.ops)  # nothing changed
    assert ex.run(again, confirm=True).counts() == {"skipped": len(again.ops)}

    ada = store.contacts.get(seed.ada.id)
    ada.title = "CEO"
    store.contacts.update(ada)
    store.actions.set_status(seed.a_open.id, "done")
    plan = ex.plan(gather(store))
    changed = {(o.entity, o.local_id) for o in plan.ops if o.op == "update"}
    assert changed == {("contact", seed.ada.id), ("action", seed.a_open.id)}
    report = ex.run(plan, confirm=True)
    assert {r.status for r in report.results} == {"updated", "skipped"}
    assert {t: len(v) for t, v in hub.state.objects.items()} == sizes
    assert hub.state.count("POST", r"^/crm/v3/objects/\w+$") == creates  # no new records at all
    rid = store.exports.get("contact", seed.ada.id, "hubspot")
    assert hub.state.objects["contacts"][rid]["properties"]["jobtitle"] == "CEO"
    task = hub.state.objects["tasks"][store.exports.get("action", seed.a_open.id, "hubspot")]
    assert task["properties"]["hs_task_status"] == "COMPLETED"


def test_existing_remote_contact_is_matched_by_email_not_duplicated(store, seed, hub, fast_backoff):
    st = hub.state
    st.objects["contacts"]["77"] = {"properties": {"email": "ADA@acme.com", "firstname": "A."},
                                    "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-01T00:00:00.000Z"}
    ex = exporter(store, hub, fast_backoff)
    report = ex.run(ex.plan(gather(store, meeting_id=seed.m1.id)), confirm=True)
    r = next(r for r in report.results if r.entity == "contact" and r.local_id == seed.ada.id)
    assert (r.status, r.remote_id) == ("matched", "77")
    assert len(st.objects["contacts"]) == 2 and st.objects["contacts"]["77"]["properties"]["firstname"] == "Ada"


def test_rate_limit_mid_run_is_retried_respecting_retry_after(store, seed, hub, fast_backoff):
    hub.state.fail("POST", r"^/crm/v3/objects/contacts$", 429, times=2, retry_after="0.01", after=1)
    ex = exporter(store, hub, fast_backoff)
    report = ex.run(ex.plan(gather(store)), confirm=True)
    assert not report.failed
    assert fast_backoff.waits == [0.01, 0.01]  # the server's Retry-After, not our own guess
    assert len(hub.state.objects["contacts"]) == 2


def test_rate_limit_without_retry_after_backs_off_exponentially(store, seed, hub):
    from app.export.base import Backoff

    waits = []
    b = Backoff(retries=4, base=0.001, cap=1.0, sleep=waits.append)
    hub.state.fail("POST", r"^/crm/v3/objects/tasks$", 429, times=3)
    ex = exporter(store, hub, b)
    assert not ex.run(ex.plan(gather(store)), confirm=True).failed
    assert waits == [0.001, 0.002, 0.004]


def test_rate_limit_that_never_ends_stops_then_a_rerun_finishes(store, seed, hub, fast_backoff):
    hub.state.fail("POST", r"^/crm/v3/objects/notes$", 429, times=10, retry_after="0")
    ex = exporter(store, hub, fast_backoff)
    with pytest.raises(KithError) as e:
        ex.run(ex.plan(gather(store)), confirm=True)
    report = e.value.report
    assert "run the same export again" in str(e.value)
    assert {r.entity for r in report.sent} == {"company", "contact"}
    assert {(r.entity, r.status) for r in report.failed} == {("meeting", "failed"), ("action", "not_attempted")}
    assert store.audit.list()[0].output["stopped"]

    hub.state.faults.clear()
    report2 = ex.run(ex.plan(gather(store)), confirm=True)
    statuses = {(r.entity, r.status) for r in report2.results}
    assert ("meeting", "created") in statuses and ("action", "created") in statuses
    assert ("contact", "skipped") in statuses and ("contact", "created") not in statuses
    assert len(hub.state.objects["contacts"]) == 2 and len(hub.state.objects["notes"]) == 1
    assert len(hub.state.objects["tasks"]) == 3


def test_wrong_token_stops_cleanly_with_a_clear_message(store, seed, hub, fast_backoff):
    ex = exporter(store, hub, fast_backoff, token="pat-na1-expired")
    with pytest.raises(KithError) as e:
        ex.run(ex.plan(gather(store)), confirm=True)
    assert "kith connect hubspot" in str(e.value)
    assert e.value.report.sent == [] and all(r.status in ("failed", "not_attempted") for r in e.value.report.failed)
    assert hub.state.count("POST", "") == 1  # stopped at the first refusal
    assert store.exports.list("hubspot") == []


def test_one_refused_record_is_reported_and_the_rest_go(store, seed, hub, fast_backoff):
    hub.state.fail("POST", r"^/crm/v3/objects/companies$", 400, category="VALIDATION_ERROR", times=1)
    ex = exporter(store, hub, fast_backoff)
    report = ex.run(ex.plan(gather(store)), confirm=True)
    assert [(r.entity, r.local_id, r.error) for r in report.failed] == [
        ("company", seed.acme.id, "VALIDATION_ERROR (HTTP 400)")]
    assert len(report.sent) == 7
    # a re-run sends the missing company and links the contact to it
    report2 = ex.run(ex.plan(gather(store)), confirm=True)
    assert ("company", "created") in {(r.entity, r.status) for r in report2.results}
    acme = store.exports.get("company", seed.acme.id, "hubspot")
    ada = store.exports.get("contact", seed.ada.id, "hubspot")
    assert ("contacts", ada, "companies", acme, 279) in hub.state.associations
    assert len(hub.state.objects["companies"]) == 2


def test_record_deleted_in_hubspot_is_recreated(store, seed, hub, fast_backoff):
    ex = exporter(store, hub, fast_backoff)
    ex.run(ex.plan(gather(store)), confirm=True)
    rid = store.exports.get("contact", seed.bob.id, "hubspot")
    del hub.state.objects["contacts"][rid]
    bob = store.contacts.get(seed.bob.id)
    bob.title = "VP"
    store.contacts.update(bob)
    report = ex.run(ex.plan(gather(store)), confirm=True)
    r = next(r for r in report.results if r.entity == "contact" and r.local_id == seed.bob.id)
    assert r.status == "created" and r.remote_id != rid
    assert store.exports.get("contact", seed.bob.id, "hubspot") == r.remote_id


def test_declined_confirmation_sends_nothing(store, seed, hub, fast_backoff):
    ex = exporter(store, hub, fast_backoff)
    with pytest.raises(Cancelled):
        ex.run(ex.plan(gather(store)), confirm=lambda plan: False)
    assert hub.state.requests == []


def test_scope_by_meeting_and_since(store, seed, hub, fast_backoff):
    from datetime import date

    ex = exporter(store, hub, fast_backoff)
    only_m2 = ex.plan(gather(store, since=date(2026, 1, 20)))
    assert {(o.entity, o.local_id) for o in only_m2.ops} == {
        ("company", seed.globex.id), ("contact", seed.bob.id), ("meeting", seed.m2.id)}
    m1 = ex.plan(gather(store, meeting_id=seed.m1.id))
    assert {o.local_id for o in m1.ops if o.entity == "contact"} == {seed.ada.id, seed.bob.id, seed.carol.id}
    body = next(o for o in m1.ops if o.entity == "meeting").fields["hs_note_body"]
    assert html.escape("Acme pricing call") in body


def test_missing_scope_names_the_scopes(store, seed, hub, fast_backoff):
    hub.state.fail("POST", r"/search$", 403, category="MISSING_SCOPES", times=1)
    ex = exporter(store, hub, fast_backoff)
    with pytest.raises(KithError) as e:
        ex.run(ex.plan(gather(store)), confirm=True)
    assert "crm.objects.contacts.write" in str(e.value) and "kith connect hubspot" in str(e.value)


def test_busy_server_is_retried_then_succeeds(store, seed, hub, fast_backoff):
    hub.state.fail("PATCH", r"^/crm/v3/objects/contacts/", 503, category="", times=1)
    hub.state.objects["contacts"]["55"] = {"properties": {"email": "bob@globex.io"},
                                           "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-01T00:00:00.000Z"}
    ex = exporter(store, hub, fast_backoff)
    assert not ex.run(ex.plan(gather(store)), confirm=True).failed
    assert len(fast_backoff.waits) == 1 and hub.state.objects["contacts"]["55"]["properties"]["lastname"] == "Stone"


def test_unreachable_hubspot_stops_with_a_clear_error(store, seed, fast_backoff):
    import socket as s

    sock = s.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    ex = HubSpotExporter(store, token=TOKEN, api_base=f"http://127.0.0.1:{port}", backoff=fast_backoff)
    with pytest.raises(KithError, match="cannot reach HubSpot"):
        ex.run(ex.plan(gather(store)), confirm=True)
    assert store.exports.list("hubspot") == []


def test_very_long_minutes_are_cut_to_hubspots_limit(store, seed, hub, fast_backoff):
    from app.core.domain import Note

    store.notes.add(Note(meeting_id=seed.m1.id, author="user", body="- point **bold** & more\n" * 5000))
    ex = exporter(store, hub, fast_backoff)
    assert not ex.run(ex.plan(gather(store)), confirm=True).failed
    body = hub.state.objects["notes"][store.exports.get("meeting", seed.m1.id, "hubspot")]["properties"]["hs_note_body"]
    assert len(body) <= 65_536 and body.endswith("<p>… (truncated by Kith)</p>")
