"""Accept / reject: `kith review` and the app's Review page are one implementation — the same
records and exactly one audit row per decision, on fresh profiles."""
from __future__ import annotations

from app.cli import main
from app.context import Kith
from app.core.domain import Suggestion
from app.ops import review as ops
from app.ops.changes import Kind


def _seed(store):
    a = store.suggestions.add(Suggestion(kind="create_contact", payload={"name": "Dana Whitfield", "email": "dana@northwind.example",
                                                                          "title": "VP Support"}))
    b = store.suggestions.add(Suggestion(kind="create_contact", payload={"name": "Leo Marsh", "email": "leo@northwind.example"}))
    return a.id, b.id


def _state(store):
    people = sorted((c.name, tuple(c.emails), c.title) for c in store.contacts.list())
    decided = sorted((s.id, s.status) for s in store.suggestions.list())
    audit = sorted(e.action for e in store.audit.list() if e.action.startswith("suggestion"))
    return people, decided, audit


def test_cli_and_app_decide_the_same_way(tmp_path, monkeypatch, capsys):
    states = []
    for front in ("cli", "app"):
        monkeypatch.setenv("KITH_HOME", str(tmp_path / front))
        kith = Kith.from_env()
        a, b = _seed(kith.store())
        if front == "cli":
            kith.close()
            assert main(["review", "--accept", str(a), "--reject", str(b)]) == 0
            kith = Kith.from_env()
        else:
            res = ops.decide(kith.store(), [a], True)
            assert Kind.CONTACTS in res.changes and Kind.SUGGESTIONS in res.changes
            ops.decide(kith.store(), [b], False)
        states.append(_state(kith.store()))
        kith.close()
    assert states[0] == states[1]
    people, decided, audit = states[0]
    assert people == [("Dana Whitfield", ("dana@northwind.example",), "VP Support")]
    assert audit == ["suggestion.accept", "suggestion.reject"]  # one row per decision, not two


def test_nested_edits_apply_before_accepting(kith):
    payload = {"name": "Acme", "fields": {"stage": {"value": "proposal", "quote": "…"}, "amount": 1000}}
    fields = dict(ops.editable_fields(payload))
    assert fields == {"name": "Acme", "fields.stage": "proposal", "fields.amount": 1000}
    edited = ops.apply_edits(payload, {"fields.stage": "negotiation", "name": "Acme Corp"})
    assert edited["fields"]["stage"]["value"] == "negotiation" and edited["name"] == "Acme Corp"
    assert payload["fields"]["stage"]["value"] == "proposal"  # the original is untouched


def test_accepting_a_person_from_a_meeting_makes_them_a_participant_and_owner(kith):
    from datetime import datetime, timezone

    from app.core.domain import ActionItem, Meeting

    store = kith.store()
    m = store.meetings.add(Meeting(title="Renewal", started_at=datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)))
    item = store.actions.add(ActionItem(meeting_id=m.id, text="Send the security overview", owner_text="Dana"))
    s = store.suggestions.add(Suggestion(kind="create_contact", meeting_id=m.id,
                                         payload={"name": "Dana Whitfield", "email": "dana@northwind.example"}))
    res = ops.accept(store, s.id)
    cid = res.value["id"]
    assert cid in store.meetings.participant_roles(m.id)
    assert store.actions.get(item.id).owner_contact_id == cid
    assert [x.id for x in store.meetings.meetings_with(cid)] == [m.id]  # the person page has the meeting


def test_a_corrected_company_name_flows_into_the_dependent_suggestions(kith):
    from datetime import datetime, timezone

    from app.core.domain import Meeting

    store = kith.store()
    m = store.meetings.add(Meeting(title="Intro", started_at=datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)))
    co = store.suggestions.add(Suggestion(kind="create_company", meeting_id=m.id, payload={"name": "Northwimd"}))
    person = store.suggestions.add(Suggestion(kind="create_contact", meeting_id=m.id,
                                              payload={"name": "Dana Whitfield", "company": "Northwimd"}))
    ops.accept(store, co.id, {"name": "Northwind"})
    assert store.suggestions.get(person.id).payload["company"] == "Northwind"
    ops.accept(store, person.id)
    [c] = [c for c in store.contacts.list() if c.name == "Dana Whitfield"]
    assert store.companies.get(c.company_id).name == "Northwind"
