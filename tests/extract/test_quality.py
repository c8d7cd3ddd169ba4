"""Quality on the DEFAULT model (qwen2.5-coder-1.5b) on the bundled demo call, as Kith hears it
(the committed audio through the real transcriber): at least 2 of the 3 scripted action items
with the right owner, and a summary that names the product and the customer."""
from __future__ import annotations

from datetime import date

import pytest

from app.extract import MeetingContext, extract_meeting


def _norm(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum())


def _matches(item, expected: dict) -> bool:
    words = _norm(item.task + " " + item.quote)
    return all(_norm(k)[:6] in words for k in expected["keywords"])


def _owner_ok(item, expected: dict) -> bool:
    if expected["owner"] == "You":
        return item.owner_is_user
    return not item.owner_is_user and item.owner.split()[0].lower() == expected["owner"].lower()


@pytest.mark.quality
@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~30-60 s on an idle 2-core machine; far more when the CI box is shared
def test_demo_call_action_items_owners_and_summary(qwen, demo_spec, demo_segments):
    ctx = MeetingContext(
        title=demo_spec["title"],
        date=date.fromisoformat(demo_spec["date"]),
        attendees=[(a["name"], a["email"]) for a in demo_spec["attendees"]],
        template=demo_spec["template"],
    )
    r = extract_meeting(demo_segments, ctx, qwen)
    found = []
    for exp in demo_spec["expected"]["action_items"]:
        hits = [a for a in r.action_items if _matches(a, exp)]
        if any(_owner_ok(a, exp) for a in hits):
            found.append(exp["task"])
    report = [(a.task, a.owner, a.due, a.evidence, a.flag_reason) for a in r.action_items]
    assert len(found) >= 2, f"found {found} in {report}"
    # the product and the customer by name (the recogniser may mangle "Freight": match loosely)
    summary = _norm(r.summary)
    assert _norm(demo_spec["product"]) in summary, r.summary
    assert _norm(demo_spec["customer"].split()[0]) in summary, r.summary
    # every kept item quotes a real segment
    indices = {s.index for s in demo_segments}
    for a in r.action_items:
        assert a.evidence and set(a.evidence) <= indices and a.quote
    # sales signals: a budget figure was captured, quoting its source (the 1.5B model sometimes
    # takes the seller's quoted price, 45,000, for the customer's budget, 50,000: a reviewer
    # sees the quote; not asserted here)
    b = r.signals.get("budget")
    assert b is not None and any(ch.isdigit() for ch in b.value) and b.quote
