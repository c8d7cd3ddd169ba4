"""Ask: filters read from the question, hybrid retrieval (bm25 + the real MiniLM vectors), one ask
operation with checked citations for the CLI and the Ask page."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest

from app.core.domain import Meeting, Segment
from app.extract.schema import RawAnswer
from app.meetings.ask import NOTHING, UNSURE, ask
from app.meetings.pipeline import Engines
from app.meetings.retrieval import parse_filters, retrieve, time_filter

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)  # a Monday
ACME = [
    ("Dana", "Thanks for making time today, I know the quarter is busy for you."),
    ("Sam", "Our budget for the pilot is about fifty thousand dollars for the first year."),
    ("Sam", "Legal asked about the contract length."),
    ("Sam", "Honestly a two-year term makes me nervous, I'd rather start with twelve months."),
    ("Sam", "Security will also ask whether you support single sign-on with Okta."),
    ("Dana", "Yes, SAML with Okta and Azure AD is included in the standard tier."),
]
BOARD = [
    ("Helen", "Let's prepare the numbers for Thursday's board meeting."),
    ("Helen", "How much runway does that give us?"),
    ("Omar", "At the current burn we have about twenty-two months of runway."),
    ("Omar", "Our dependency on a single cloud region is the biggest risk."),
]


def _meeting(store, title, when, lines):
    m = store.meetings.add(Meeting(title=title, started_at=when))
    return m, store.segments.add_many(m.id, [Segment(i * 5.0, i * 5.0 + 4, t, sp, 1) for i, (sp, t) in enumerate(lines)])


@pytest.fixture
def meetings(kith):
    store = kith.store()
    acme = _meeting(store, "Acme pricing call", datetime(2026, 10, 6, 15, tzinfo=timezone.utc), ACME)
    board = _meeting(store, "Board prep", datetime(2026, 11, 25, 16, tzinfo=timezone.utc), BOARD)
    return acme, board


class Scripted(Engines):
    """The model boundary: returns a fixed answer object (the real models are in the slow test)."""

    def __init__(self, raw: RawAnswer):
        super().__init__()
        self.raw, self.prompts = raw, []

    def get_llm(self, kith, name, progress=None):
        outer = self

        class LLM:
            name, n_ctx = "scripted", 4096

            def count_tokens(self, text):
                return len(text.split())

            def complete_json(self, system, user, schema, max_tokens=0):
                outer.prompts.append(user)
                return outer.raw, outer.raw.model_dump_json(), None

        return LLM()


@pytest.mark.parametrize("q, since, until", [
    ("what did we decide last week?", "2026-11-23", "2026-11-29"),
    ("anything about pricing in October?", "2026-10-01", "2026-10-31"),
    ("in December 2025 what did Acme say", "2025-12-01", "2025-12-31"),
    ("yesterday's call", "2026-11-29", "2026-11-29"),
    ("what did Dana say about the budget?", None, None),
])
def test_time_filters(q, since, until):
    s, u, phrase = time_filter(q, NOW)
    if since is None:
        assert s is None and phrase == ""
    else:
        assert s.date().isoformat() == since and (u.date().toordinal() - 1) == datetime.fromisoformat(until).toordinal()


def test_person_and_title_filters_come_from_the_question(kith, meetings):
    (acme, _), (board, _) = meetings
    f, rest = parse_filters(kith.store(), "What did Omar say about the Acme budget last week?", NOW)
    assert f.people == ["Omar"] and f.titles == ["Acme"] and "last week" not in rest
    assert f.focus_meetings == {board.id, acme.id}  # Omar spoke in Board prep; Acme's meeting is titled so
    assert f.to_json()["since"] == "2026-11-23"


def test_paraphrased_questions_are_found_by_meaning(kith, meetings):
    from app.embed import index, load_embedder

    store = kith.store()
    emb = load_embedder()
    index(store, emb)
    (_, acme), (_, board) = meetings
    q = "What scares them about the agreement duration?"  # no content word in common with the answer line
    kw = retrieve(store, q, keyword_only=True, now=NOW)
    hy = retrieve(store, q, embedder=emb, now=NOW)
    assert acme[3].id not in [ln.segment.id for ln in kw.lines if ln.hit]
    assert acme[3].id in [ln.segment.id for ln in hy.lines if ln.hit][:3]
    # the neighbours come along as context, marked as such
    ctx = [ln for ln in hy.lines if not ln.hit]
    assert ctx and all(ln.why == ["context"] for ln in ctx)


def test_nothing_relevant_means_i_dont_know_without_the_model(kith, meetings):
    engines = Scripted(RawAnswer(answer="x", cite=[1]))
    d = ask(kith, "zyxwvut qqqq?", engines=engines, keyword_only=True, now=NOW)
    assert d["text"] == NOTHING and not d["known"] and not d["citations"] and engines.prompts == []


def test_an_answer_names_its_meeting_and_date_and_cites_a_checked_line(kith, meetings):
    (_, acme), _ = meetings
    engines = Scripted(RawAnswer(answer="About fifty thousand dollars for the first year.", cite=[1, 2]))
    d = ask(kith, "What budget did Acme mention?", engines=engines, keyword_only=True, now=NOW)
    assert d["known"] and "Acme pricing call" in d["text"] and "2026-10-06" in d["text"]
    assert d["meeting"]["title"] == "Acme pricing call"
    # the model cited two lines; only the one that holds the answer's words is kept
    assert [c["segment_id"] for c in d["citations"]] == [acme[1].id]
    json.dumps(d)  # JSON-ready for --json and the Ask page


def test_an_answer_its_citations_do_not_support_is_not_given(kith, meetings):
    engines = Scripted(RawAnswer(answer="The CEO loves golf.", cite=[1]))
    d = ask(kith, "What budget did Acme mention?", engines=engines, keyword_only=True, now=NOW)
    assert not d["known"] and d["unsure"] and d["text"] == UNSURE and not d["citations"]
    assert d["retrieved"]  # the closest lines are shown instead


def test_the_cli_answers_in_json(kith, meetings, capsys):
    from app.meetings.ask import cmd

    assert cmd(kith, "zyxwvut qqqq?", as_json=True, keyword_only=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == "zyxwvut qqqq?" and out["text"] == NOTHING and out["known"] is False
    assert out["citations"] == [] and "filters" in out


def test_reindex_embeds_every_line_once(kith, meetings):
    from app.meetings.ask import reindex

    seen = []
    r = reindex(kith, progress=lambda done, total: seen.append((done, total)))
    assert r["embedded"] == len(ACME) + len(BOARD) and seen[-1] == (r["embedded"], r["embedded"])
    assert reindex(kith)["embedded"] == 0


def test_the_cli_refuses_an_empty_question(kith):
    from app.core.errors import KithError
    from app.meetings.ask import cmd

    with pytest.raises(KithError, match="needs a question"):
        cmd(kith, "  ")


@pytest.mark.slow
def test_ask_on_smollm2_never_answers_without_a_citation(smol, meetings):
    d = ask(smol, "What budget did Acme mention?", now=NOW)
    assert d["retrieved"]
    if d["known"]:
        assert d["citations"] and all(c["quote"] for c in d["citations"])
    else:
        assert d["unsure"] and d["text"] == UNSURE


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("strace"),
                    reason="needs root for a network namespace, and strace")
def test_ask_runs_with_no_network_and_opens_no_socket(kith_home, tmp_path):
    """`kith ask` (sentence vectors + the local LLM) in a network namespace with no interfaces,
    traced: it answers, and no process of it tried an internet socket."""
    import subprocess
    import sys

    if subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("unshare -n is not permitted here")
    # a passphrase database, as on a machine without a keyring (the subprocesses have none)
    env = {**os.environ, "KITH_PASSPHRASE": "offline-test-passphrase",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    seed = ("import sys; from datetime import datetime, timezone; from app.context import Kith; "
            "from tests.meetings.test_ask_across_meetings import ACME, _meeting; import os; "
            "k = Kith.from_env(dict(os.environ)); "
            "_meeting(k.store(), 'Acme pricing call', datetime(2026, 10, 6, 15, tzinfo=timezone.utc), ACME); k.close()")
    r = subprocess.run([sys.executable, "-c", seed], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    trace = tmp_path / "trace"
    cmd = ["unshare", "-n", "strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace),
           sys.executable, "-m", "app", "ask", "--json", "--llm", "smollm2-135m", "What budget did Acme mention?"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["semantic"] and out["retrieved"], "vectors and lines were used without a network"
    assert any("fifty thousand" in ln["text"] for ln in out["retrieved"])
    inet = [ln for ln in trace.read_text().splitlines() if "AF_INET" in ln]
    assert trace.exists() and inet == [], inet


def test_the_reply_to_a_question_is_the_line_after_it_or_after_a_follow_up_question(kith, meetings):
    from app.store.search import replies

    _, (_, board) = meetings
    prep, question, answer, risk = board
    # "Let's prepare the numbers" is followed by a question: its reply is the line after that
    assert replies(kith.store(), [prep.id, question.id, answer.id, risk.id]) == [answer.id, answer.id, risk.id]


def test_a_misnumbered_citation_is_moved_to_the_line_that_says_it(kith, meetings):
    _, (_, board) = meetings
    engines = Scripted(RawAnswer(answer="About twenty-two months of runway at the current burn.", cite=[1]))
    d = ask(kith, "How long until we run out of cash?", engines=engines, now=NOW)
    assert d["known"] and [c["segment_id"] for c in d["citations"]] == [board[2].id]


def test_a_speaker_known_by_a_role_label_is_matched_whole(kith):
    """ "What did PhD C think…" is about PhD C, not whichever "PhD" comes first; a word several
    speakers share names no one (their meetings stay in focus)."""
    from app.meetings.retrieval import name_runs

    assert name_runs("What did PhD C and Grad D think about Speaker 2 and the Acme deal?") == ["PhD C", "Grad D", "Speaker 2"]
    assert name_runs("What did Dana Whitfield say?") == ["Dana Whitfield"]
    store = kith.store()
    m = store.meetings.add(Meeting(title="Robustness sync", started_at=NOW - timedelta(days=3), status="processed"))
    store.segments.add_many(m.id, [Segment(i * 3.0, i * 3.0 + 2, t, who, 1) for i, (who, t) in enumerate([
        ("PhD A", "The silence detection is fine on my side."),
        ("PhD C", "I think silence detection hurts the features."),
        ("Grad D", "Combinatorial inputs are too many.")])])
    f, _ = parse_filters(store, "What did PhD C think about silence detection?", NOW)
    assert f.people == ["PhD C"] and f.focus_meetings == {m.id}
    f, _ = parse_filters(store, "What did the PhD students think about silence detection?", NOW)
    assert f.people == [] and f.focus_meetings == {m.id}
    r = retrieve(store, "What did PhD C think about silence detection?", limit=2, now=NOW, keyword_only=True)
    assert max((ln for ln in r.lines if ln.hit), key=lambda ln: ln.score).segment.speaker == "PhD C"
