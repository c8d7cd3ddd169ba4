from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from brief_seed import seed_store


@pytest.fixture
def store(kith):
    return kith.store()


@pytest.fixture
def seeded(store):
    return seed_store(store, datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=30))
