"""Salesforce export with the real simple-salesforce over TLS to a loopback REST server."""
from __future__ import annotations

import base64

import pytest
import requests

from app.core.errors import KithError
from app.export.base import gather
from app.export.salesforce import SalesforceExporter, ca_session

from .salesforce_server import FakeSalesforce
from .tls import make_tls

TOKEN = "00Dxx0000001gPL!session"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def sf(tls):
    _ca, cert, key = tls
    with FakeSalesforce(cert, key, TOKEN) as s:
        yield s


def exporter(store, sf, tls, backoff, token=TOKEN):
    session = ca_session(str(tls[0]))  # trusts the test CA (over REQUESTS_CA_BUNDLE if set)
    return SalesforceExporter(store, credentials={"instance_url": sf.url, "session_id": token},
                              session=session, backoff=backoff)


def recs(sf, sobject):
    return sf.state.records[sobject]


def test_first_export_creates_accounts_contacts_tasks_and_a_content_note(store, seed, sf, tls, fast_backoff):
    ex = exporter(store, sf, tls, fast_backoff)
    plan = ex.plan(gather(store))
    report = ex.run(plan, confirm=True)
    assert not report.failed
    assert sorted(r["Name"] for r in recs(sf, "Account").values()) == ["Acme Corp", "Globex"]
    ada_id = store.exports.get("contact", seed.ada.id, "salesforce")
    acme_id = store.exports.get("company", seed.acme.id, "salesforce")
    ada = recs(sf, "Contact")[ada_id]
    assert (ada["FirstName"], ada["LastName"], ada["Email"], ada["AccountId"]) == ("Ada", "Lovelace", "ada@acme.com", acme_id)
    carol = recs(sf, "Contact")[store.exports.get("contact", seed.carol.id, "salesforce")]
    assert carol["LastName"] == "Carol" and "Email" not in carol

    task = recs(sf, "Task")[store.exports.get("action", seed.a_open.id, "salesforce")]
    assert task["Subject"] == "Send the annual pricing sheet" and task["ActivityDate"] == "2026-01-09"
    assert (task["Status"], task["WhoId"], task["WhatId"]) == ("Not Started", ada_id, acme_id)
    done = recs(sf, "Task")[store.exports.get("action", seed.a_done.id, "salesforce")]
    assert done["Status"] == "Completed"

    kind, note_id = store.exports.get("meeting", seed.m1.id, "salesforce").split("/")
    assert kind == "ContentNote"
    content = base64.b64decode(recs(sf, "ContentNote")[note_id]["Content"]).decode()
    assert "<strong>pricing</strong>" in content and "Ask about SSO" in content
    links = [l for l in recs(sf, "ContentDocumentLink").values() if l["ContentDocumentId"] == note_id]
    assert {l["ShareType"] for l in links} == {"V"}
    people = {store.exports.get("contact", c.id, "salesforce") for c in (seed.ada, seed.bob, seed.carol)}
    assert {l["LinkedEntityId"] for l in links} == people | {acme_id, store.exports.get("company", seed.globex.id, "salesforce")}
    assert store.audit.list()[0].action == "export:salesforce"


def test_second_export_updates_changed_records_and_creates_nothing(store, seed, sf, tls, fast_backoff):
    ex = exporter(store, sf, tls, fast_backoff)
    ex.run(ex.plan(gather(store)), confirm=True)
    sizes = {k: len(v) for k, v in sf.state.records.items()}
    assert all(o.op == "skip" for o in ex.plan(gather(store)).ops)

    bob = store.contacts.get(seed.bob.id)
    bob.title = "Head of Ops"
    store.contacts.update(bob)
    from app.core.domain import Note
    store.notes.add(Note(meeting_id=seed.m1.id, author="user", body="Follow-up: **legal** review."))
    report = ex.run(ex.plan(gather(store)), confirm=True)
    assert {(r.entity, r.local_id) for r in report.results if r.status == "updated"} == {
        ("contact", seed.bob.id), ("meeting", seed.m1.id)}
    assert {k: len(v) for k, v in sf.state.records.items()} == sizes
    bob_id = store.exports.get("contact", seed.bob.id, "salesforce")
    assert recs(sf, "Contact")[bob_id]["Title"] == "Head of Ops"
    note_id = store.exports.get("meeting", seed.m1.id, "salesforce").split("/")[1]
    assert "<strong>legal</strong>" in base64.b64decode(recs(sf, "ContentNote")[note_id]["Content"]).decode()


def test_existing_contact_is_found_by_email(store, seed, sf, tls, fast_backoff):
    sf.state.records["Contact"]["003000000000999AAA"] = {"LastName": "Stone", "Email": "BOB@globex.io"}
    ex = exporter(store, sf, tls, fast_backoff)
    report = ex.run(ex.plan(gather(store)), confirm=True)
    r = next(r for r in report.results if r.entity == "contact" and r.local_id == seed.bob.id)
    assert (r.status, r.remote_id) == ("matched", "003000000000999AAA")
    assert len(recs(sf, "Contact")) == 3


def test_request_limit_exceeded_is_retried(store, seed, sf, tls, fast_backoff):
    sf.state.fail("POST", r"/sobjects/Task/$", 403, "REQUEST_LIMIT_EXCEEDED", times=2, after=1)
    ex = exporter(store, sf, tls, fast_backoff)
    report = ex.run(ex.plan(gather(store)), confirm=True)
    assert not report.failed and len(fast_backoff.waits) == 2
    assert len(recs(sf, "Task")) == 3


def test_invalid_session_stops_cleanly(store, seed, sf, tls, fast_backoff):
    ex = exporter(store, sf, tls, fast_backoff, token="expired")
    with pytest.raises(KithError) as e:
        ex.run(ex.plan(gather(store)), confirm=True)
    assert "kith connect salesforce" in str(e.value)
    assert sf.state.count("POST", "") == 0 and sf.state.count("GET", "query") == 1
    assert e.value.report.sent == []


def test_partial_failure_then_rerun_completes(store, seed, sf, tls, fast_backoff):
    sf.state.fail("POST", r"/sobjects/Contact/$", 400, "DUPLICATES_DETECTED", times=1, after=1)
    ex = exporter(store, sf, tls, fast_backoff)
    report = ex.run(ex.plan(gather(store)), confirm=True)
    assert [(r.entity, r.local_id) for r in report.failed] == [("contact", seed.bob.id)]
    assert "DUPLICATES_DETECTED" in report.failed[0].error
    done = recs(sf, "Task")[store.exports.get("action", seed.a_done.id, "salesforce")]
    assert "WhoId" not in done  # Bob was not there yet
    report2 = ex.run(ex.plan(gather(store)), confirm=True)
    assert not report2.failed
    bob_id = store.exports.get("contact", seed.bob.id, "salesforce")
    done = recs(sf, "Task")[store.exports.get("action", seed.a_done.id, "salesforce")]
    assert done["WhoId"] == bob_id  # the re-run linked the task to Bob
    assert len(recs(sf, "Contact")) == 3 and len(recs(sf, "Task")) == 3


@pytest.mark.parametrize("disabled, expect", [({"ContentNote"}, "Note"), ({"ContentNote", "Note"}, "Task")])
def test_note_falls_back_when_content_notes_are_off(store, seed, sf, tls, fast_backoff, disabled, expect):
    sf.state.disabled = set(disabled)
    ex = exporter(store, sf, tls, fast_backoff)
    assert not ex.run(ex.plan(gather(store)), confirm=True).failed
    kind, rid = store.exports.get("meeting", seed.m1.id, "salesforce").split("/")
    assert kind == expect
    rec = recs(sf, expect)[rid]
    text = rec["Body"] if expect == "Note" else rec["Description"]
    assert "Go with the annual plan" in text and "<" not in text.replace("<script>", "")
    if expect == "Task":
        assert rec["Subject"].startswith("Meeting notes: Acme pricing call") and rec["Status"] == "Completed"
    # an update goes to the same kind of record, not a new one
    store.notes.add(__import__("app.core.domain", fromlist=["Note"]).Note(meeting_id=seed.m1.id, author="user", body="More."))
    before = len(recs(sf, expect))
    ex.run(ex.plan(gather(store)), confirm=True)
    assert len(recs(sf, expect)) == before
    assert "More." in (recs(sf, expect)[rid]["Body" if expect == "Note" else "Description"])


def test_untrusted_certificate_is_refused(store, seed, sf, tls, fast_backoff):
    ex = SalesforceExporter(store, credentials={"instance_url": sf.url, "session_id": TOKEN},
                            session=requests.Session(), backoff=fast_backoff)  # system CAs only
    with pytest.raises(KithError, match="cannot reach Salesforce"):
        ex.run(ex.plan(gather(store)), confirm=True)


def test_limit_never_lifts_then_rerun_finishes(store, seed, sf, tls, fast_backoff):
    sf.state.fail("POST", r"/sobjects/ContentNote/$", 403, "REQUEST_LIMIT_EXCEEDED", times=50)
    ex = exporter(store, sf, tls, fast_backoff)
    with pytest.raises(KithError, match="run the same export again|continues where it stopped") as e:
        ex.run(ex.plan(gather(store)), confirm=True)
    assert len(fast_backoff.waits) == fast_backoff.retries
    assert {r.entity for r in e.value.report.sent} == {"company", "contact"}
    sf.state.faults.clear()
    report = ex.run(ex.plan(gather(store)), confirm=True)
    assert not report.failed
    assert len(recs(sf, "Contact")) == 3 and len(recs(sf, "ContentNote")) == 1 and len(recs(sf, "Task")) == 3


def test_record_deleted_in_salesforce_is_recreated(store, seed, sf, tls, fast_backoff):
    ex = exporter(store, sf, tls, fast_backoff)
    ex.run(ex.plan(gather(store)), confirm=True)
    old = store.exports.get("action", seed.a_open.id, "salesforce")
    del sf.state.records["Task"][old]
    store.actions.set_status(seed.a_open.id, "done")
    report = ex.run(ex.plan(gather(store)), confirm=True)
    r = next(r for r in report.results if r.entity == "action" and r.local_id == seed.a_open.id)
    assert r.status == "created" and r.remote_id != old
    assert recs(sf, "Task")[r.remote_id]["Status"] == "Completed"
