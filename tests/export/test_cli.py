"""`kith export` / `kith connect` end to end through app.cli.main, against loopback servers."""
from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import zipfile

import keyring
import pytest

from app.cli import main

from .hubspot_server import FakeHubSpot
from .salesforce_server import FakeSalesforce
from .test_salesforce import TOKEN as SF_TOKEN
from .test_salesforce import tls  # noqa: F401  (module-scoped certificate fixture)

HS_TOKEN = "pat-na1-cli-token"
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def hub():
    with FakeHubSpot(HS_TOKEN) as h:
        yield h


@pytest.fixture
def seeded(kith):
    from .conftest import seed_store

    s = seed_store(kith.store())
    kith.close()  # the CLI opens its own Kith on the same profile
    return s


def no_sockets(monkeypatch):
    def refuse(self, *a, **k):
        raise AssertionError(f"a socket was opened: {a}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_dry_run_shows_fields_and_counts_and_opens_no_socket(seeded, hub, monkeypatch, capsys):
    keyring.set_password("kith", "hubspot-token", HS_TOKEN)
    no_sockets(monkeypatch)
    assert main(["export", "hubspot", "--dry-run", "--api-base", hub.url]) == 0
    out = capsys.readouterr().out
    assert "nothing has been sent yet" in out
    assert "create contact  #1     Ada Lovelace <ada@acme.com>" in out and "email: ada@acme.com" in out
    assert "skip   contact" in out and "no email address" in out
    assert "Would send 8 records (8 create, 0 update; 2 skipped)" in out
    assert hub.state.requests == []

    assert main(["export", "salesforce", "--dry-run", "--json"]) == 0  # works without credentials, too
    plan = json.loads(capsys.readouterr().out)
    assert plan["counts"]["contact"]["create"] == 3


def test_real_run_refuses_without_terminal_or_yes(seeded, hub, monkeypatch, capsys):
    keyring.set_password("kith", "hubspot-token", HS_TOKEN)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["export", "hubspot", "--api-base", hub.url]) == 1
    assert "without confirmation" in capsys.readouterr().err
    assert hub.state.requests == []


def test_confirm_at_the_prompt_then_nothing_left_to_send(seeded, hub, monkeypatch, capsys):
    keyring.set_password("kith", "hubspot-token", HS_TOKEN)
    monkeypatch.setattr(sys, "stdin", Tty("n\n"))
    assert main(["export", "hubspot", "--api-base", hub.url]) == 130  # declined
    assert hub.state.requests == []
    monkeypatch.setattr(sys, "stdin", Tty("y\n"))
    assert main(["export", "hubspot", "--api-base", hub.url, "--meeting", str(seeded.m1.id)]) == 0
    out = capsys.readouterr().out
    assert "Send 8 records to HubSpot? [y/N]" in out and "HubSpot: 8 created, 1 skipped" in out
    assert main(["export", "hubspot", "--yes", "--api-base", hub.url, "--meeting", str(seeded.m1.id)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_export_without_connection_says_connect(seeded, hub, capsys):
    assert main(["export", "hubspot", "--yes", "--api-base", hub.url]) == 1
    assert "kith connect hubspot" in capsys.readouterr().err


def test_connect_hubspot_verifies_before_storing(hub, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("pat-na1-wrong\n"))
    assert main(["connect", "hubspot", "--token-stdin", "--api-base", hub.url]) == 1
    assert "kith connect hubspot" in capsys.readouterr().err
    assert keyring.get_password("kith", "hubspot-token") is None
    monkeypatch.setattr(sys, "stdin", io.StringIO(HS_TOKEN + "\n"))
    assert main(["connect", "hubspot", "--token-stdin", "--api-base", hub.url]) == 0
    assert keyring.get_password("kith", "hubspot-token") == HS_TOKEN
    assert hub.state.requests[-1] == ("GET", "/crm/v3/objects/contacts")


def test_connect_salesforce_then_export(seeded, tls, monkeypatch, capsys):  # noqa: F811
    ca, cert, key = tls
    with FakeSalesforce(cert, key, SF_TOKEN) as sf:
        monkeypatch.setattr(sys, "stdin", io.StringIO(SF_TOKEN + "\n"))
        assert main(["connect", "salesforce", "--instance-url", sf.url, "--token-stdin", "--ca-bundle", str(ca)]) == 0
        creds = json.loads(keyring.get_password("kith", "salesforce-credentials"))
        assert creds["instance_url"] == sf.url and creds["session_id"] == SF_TOKEN
        assert main(["export", "salesforce", "--yes", "--json"]) == 0
        report = json.loads(capsys.readouterr().out.split("\n", 1)[1])  # after the connect line
        assert report["counts"]["created"] == 9 and len(sf.state.records["Contact"]) == 3


def test_file_exports_from_the_cli(seeded, tmp_path, monkeypatch, capsys):
    no_sockets(monkeypatch)
    assert main(["export", "markdown", "--out", str(tmp_path / "md"), "--meeting", str(seeded.m1.id)]) == 0
    assert [p.name for p in (tmp_path / "md").iterdir()] == [f"2026-01-05 Acme pricing call ({seeded.m1.id}).md"]
    assert main(["export", "all", "--out", str(tmp_path / "all")]) == 0
    (archive,) = list((tmp_path / "all").iterdir())
    assert zipfile.is_zipfile(archive)
    assert main(["export", "csv"]) == 1
    assert "--out DIR" in capsys.readouterr().err
    assert main(["export", "hubspot", "--since", "yesterday", "--dry-run"]) == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_processing_path_never_imports_export_code():
    """Nothing is sent without the explicit command: the meeting pipeline and the CLI registry
    load no export module or CRM client (checked in a fresh interpreter)."""
    code = (
        "import sys, app.meetings.pipeline, app.meetings.store_results, app.cli\n"
        "app.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('app.export.hubspot', 'app.export.salesforce',"
        " 'app.export.base', 'app.export.files', 'hubspot', 'simple_salesforce')))\n"
        "assert not bad, bad\n"
        "import app.meetings.pipeline as p\n"
        "assert not any(m.startswith('app.export') for m in sys.modules if m != 'app.export' and m != 'app.export.cli'), "
        "[m for m in sys.modules if m.startswith('app.export')]\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-c", "import sys, app.meetings.pipeline;"
                        "assert not any(m.startswith('app.export') for m in sys.modules)"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
