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
