from __future__ import annotations

import pytest

from gcal_server import GoogleServer


@pytest.fixture
def store(kith):
    return kith.store()


@pytest.fixture
def gserver(monkeypatch):
    # oauthlib refuses plain-http token endpoints; the loopback test server is http (test only)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with GoogleServer() as srv:
        yield srv
