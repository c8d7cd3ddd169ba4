"""CRM operations: one implementation for the CLI and the app (parity on fresh profiles)."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from app.cli import main
from app.context import Kith
from app.core.domain import ActionItem, Contact, Meeting
from app.ops.changes import Kind
from app.ops.crm import edit_contact, merge_contacts
from app.speakers import profiles


def _rows(store, table):
    cur = store.conn.execute(f"SELECT * FROM {table} ORDER BY id")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _contact_view(store):
    return [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")} for r in _rows(store, "contacts")]


def test_cli_and_app_edit_give_the_same_record(tmp_path, monkeypatch, capsys):
    profiles_ = []
    for name in ("cli", "app"):
        monkeypatch.setenv("KITH_HOME", str(tmp_path / name))
        kith = Kith.from_env()
        store = kith.store()
        c = store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"], source="ai"))
        if name == "cli":
            kith.close()
            assert main(["people", "edit", str(c.id), "--title", "VP Support"]) == 0
            store = Kith.from_env().store()
        else:
            c.title = "VP Support"
            res = edit_contact(store, c)
            assert Kind.CONTACTS in res.changes
        profiles_.append(_contact_view(store))
    assert profiles_[0] == profiles_[1]
    assert profiles_[0][0]["source"] == "user"


def test_merge_keeps_roles_items_and_voice_and_is_audited(kith):
    store = kith.store()
    keep = store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"]))
    dup = store.contacts.add(Contact(name="Dana W.", emails=["dana.w@gmail.example"], title="VP Support"))
    m = store.meetings.add(Meeting(title="Renewal", started_at=datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)))
    store.meetings.add_participant(m.id, dup.id, role="organizer")
    item = store.actions.add(ActionItem(meeting_id=m.id, text="Send the security overview", owner_text="Dana",
                                        owner_contact_id=dup.id))
    v = np.ones(256, np.float32) / 16
    profiles.add_profile(store, dup.id, v)

    res = merge_contacts(store, keep.id, dup.id)

    assert set(res.value.emails) == {"dana@northwind.example", "dana.w@gmail.example"}
    assert res.value.title == "VP Support"
    assert store.meetings.participant_roles(m.id) == {keep.id: "organizer"}
    assert store.actions.get(item.id).owner_contact_id == keep.id
    assert profiles.count(store, keep.id) == 1  # the voice moved, not deleted
    audit = [e for e in store.audit.list() if e.action == "contact:merge"]
    assert len(audit) == 1 and audit[0].output["merged"] == dup.id
    assert res.changes.touches(Kind.CONTACTS, Kind.VOICES)
