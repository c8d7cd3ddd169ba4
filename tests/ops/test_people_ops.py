"""Export and erase of a person: one operation for `kith people export|erase` and Settings → Privacy."""
from __future__ import annotations

import json
import stat

import pytest

from app.cli import main
from app.core.domain import Contact
from app.core.errors import KithError
from app.ops.changes import Kind
from app.ops.people import erase_person, export_person


def test_export_from_the_cli_and_the_op_write_the_same_private_file(kith, tmp_path, capsys):
    store = kith.store()
    c = store.contacts.add(Contact(name="Bruno Zebrowski", emails=["bruno@z.io"]))
    via_op = tmp_path / "op.json"
    res = export_person(store, c.id, out=via_op)
    assert not res.changes, "an export changes nothing"
    kith.close()
    via_cli = tmp_path / "cli.json"
    assert main(["people", "export", str(c.id), "-o", str(via_cli)]) == 0
    capsys.readouterr()
    for f in (via_op, via_cli):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    a, b = json.loads(via_op.read_text()), json.loads(via_cli.read_text())
    assert a["contact"]["name"] == b["contact"]["name"] == "Bruno Zebrowski"
    with pytest.raises(KithError, match="already exists"):
        export_person(kith.store(), c.id, out=via_op)
    with pytest.raises(KithError, match="not a folder"):
        export_person(kith.store(), c.id, out=tmp_path / "missing" / "x.json")


def test_erase_reports_what_changed(kith):
    store = kith.store()
    c = store.contacts.add(Contact(name="Bruno Zebrowski"))
    res = erase_person(store, c.id)
    assert res.changes.touches(Kind.CONTACTS) and store.contacts.list() == []
