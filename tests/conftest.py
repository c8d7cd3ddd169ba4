"""Every test runs in its own throwaway Kith profile (KITH_HOME), with an in-memory keyring,
and shares one model cache per session so big weights are joined once."""
from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps secrets in a dict (like an unlocked Secret Service)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.store:
            raise PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture(scope="session")
def shared_model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def kith_home(tmp_path, monkeypatch, shared_model_cache) -> Path:
    home = tmp_path / "kith-home"
    monkeypatch.setenv("KITH_HOME", str(home))
    monkeypatch.setenv("KITH_MODELS", str(shared_model_cache))
    monkeypatch.delenv("KITH_PASSPHRASE", raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def kith(kith_home):
    """A Kith context on the test's profile (store opened lazily)."""
    from app.context import Kith

    k = Kith.from_env(dict(os.environ))
    yield k
    k.close()


@pytest.fixture
def jfk_wav() -> Path:
    return DATA / "jfk.wav"


# -- a clean exit for the test command -------------------------------------------------------------
# After a few hundred model loads in one process, the native engines' worker threads (CTranslate2's
# OpenMP pool, onnxruntime, OpenBLAS) can deadlock in interpreter teardown: seen once in four full
# runs here — all tests had passed and pytest had printed its summary, then the process spun forever.
# scripts/test.sh sets KITH_TEST_HARD_EXIT=1: once pytest is completely done (results and reports
# written), the process leaves with pytest's own exit status without running that teardown.
def pytest_sessionfinish(session, exitstatus):
    session.config._kith_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    import sys

    status = getattr(config, "_kith_exitstatus", None)
    if status is not None and os.environ.get("KITH_TEST_HARD_EXIT") == "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
