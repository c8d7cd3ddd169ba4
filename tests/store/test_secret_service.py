"""The real OS keyring: a private D-Bus session with gnome-keyring's Secret Service.

Unlocked: the key is created in and read back from the Secret Service (no salt file, no
passphrase). Locked (no login keyring, nothing to unlock it with): Kith takes the passphrase
path with KITH_PASSPHRASE and explains itself without it. Needs apt packages gnome-keyring
and dbus (scripts/setup.sh)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KITH = ROOT / ".venv" / "bin" / "kith"
PY = ROOT / ".venv" / "bin" / "python"

pytestmark = pytest.mark.skipif(
    not (shutil.which("gnome-keyring-daemon") and shutil.which("dbus-run-session") and KITH.exists()),
    reason="needs gnome-keyring and dbus-run-session (apt: gnome-keyring dbus)",
)

UNLOCKED = r"""
set -e
echo test-login-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$KITH" people add --name "Secret Sam" --email sam@secret.test >/dev/null
"$KITH" people list --json > "$OUT/list.json"
"$PY" -c "import keyring; b = keyring.get_keyring(); print(type(b).__module__); print(len(keyring.get_password('kith', 'database-key')))" > "$OUT/kr.txt"
"""

LOCKED = r"""
gnome-keyring-daemon --start --components=secrets >/dev/null
"$KITH" people list </dev/null 2> "$OUT/err.txt"; echo $? > "$OUT/rc1.txt"
KITH_PASSPHRASE=ci-pass "$KITH" people add --name "Locked Lou" </dev/null >/dev/null 2>>"$OUT/err2.txt"; echo $? > "$OUT/rc2.txt"
"""


def _session(tmp_path: Path, script: str, name: str) -> Path:
    out = tmp_path / name
    out.mkdir()
    home = tmp_path / f"{name}-home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "KITH": str(KITH),
           "PY": str(PY), "OUT": str(out), "KITH_HOME": str(tmp_path / f"{name}-kith"), "LANG": "C.UTF-8"}
    subprocess.run(["dbus-run-session", "--", "sh", "-c", script], env=env, capture_output=True, timeout=120)
    return out


@pytest.mark.slow
def test_key_lives_in_the_real_secret_service(tmp_path):
    out = _session(tmp_path, UNLOCKED, "unlocked")
    assert json.loads((out / "list.json").read_text())[0]["emails"] == ["sam@secret.test"]
    module, length = (out / "kr.txt").read_text().split()
    assert module == "keyring.backends.SecretService" and length == "64"
    data = tmp_path / "unlocked-kith" / "data"
    assert (data / "kith.db").exists() and not (data / "kith.salt").exists()


@pytest.mark.slow
def test_locked_secret_service_falls_back_to_the_passphrase(tmp_path):
    out = _session(tmp_path, LOCKED, "locked")
    assert (out / "rc1.txt").read_text().strip() == "1"
    assert "KITH_PASSPHRASE" in (out / "err.txt").read_text()
    assert (out / "rc2.txt").read_text().strip() == "0", (out / "err2.txt").read_text()
    data = tmp_path / "locked-kith" / "data"
    assert (data / "kith.salt").exists() and (data / "kith.db").exists()
