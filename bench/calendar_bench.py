"""Calendar and brief figures (DESIGN.md §5 style; run: .venv/bin/python bench/calendar_bench.py).

1. Google sync of 5,000 events from the loopback Calendar v3 server, through the real
   google-api-python-client (2 pages of 2,500), into the encrypted store; then an
   incremental sync of 50 changes. Baseline in the same run: fetching and JSON-decoding the
   same pages with plain urllib (the floor any client pays) → ratio = our overhead.
   Also: an .ics feed of 5,000 expanded events (icalendar + recurring-ical-events).
2. Prep brief for a contact with 20 past meetings: ``--no-llm`` (store reads + rules +
   Markdown) and with the default local model (first call incl. model load, then warm).
   Baseline: ``collect`` alone (the store reads).
Targets: sync ≤ 5 s; brief on the default model ≤ 15 s.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "calendar"))

import keyring  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402


class _MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.d: dict = {}

    def get_password(self, s, u):
        return self.d.get((s, u))

    def set_password(self, s, u, p):
        self.d[(s, u)] = p

    def delete_password(self, s, u):
        self.d.pop((s, u), None)


def _kith(home: Path, models: Path):
    from app.core.config import Settings
    from app.context import Kith
    from app.core.paths import Paths

    paths = dataclasses.replace(Paths.under(home), models_override=models)
    return Kith(paths=paths, settings=Settings())


def bench_sync(home: Path, models: Path, n: int) -> dict:
    from gcal_server import GoogleServer, browser_for

    from app.calendar import google
    from app.calendar.repo import CalendarRepo

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # loopback http test server only
    kith = _kith(home / "sync", models)
    store = kith.store()
    out: dict = {}
    with GoogleServer() as srv:
        s = srv.state
        me = {"email": s.account, "self": True}
        series = n // 4 // 20
        for k in range(series):  # a quarter as weekly series of 20 instances (DST crossing)
            s.weekly(s.account, f"ser{k}", f"Series {k}", datetime(2026, 9, 7, 9, 0) + timedelta(hours=k % 8), 20, 30,
                     "Europe/Berlin", attendees=[me, {"email": f"p{k}@acme{k % 50}.com", "displayName": f"Person {k}"}])
        for i in range(n - series * 20):
            s.timed(s.account, f"ev{i}", f"Call {i}", datetime(2026, 10, 1, 8, 0) + timedelta(minutes=37 * i), 45,
                    "America/New_York", attendees=[me, {"email": f"x{i}@corp{i % 300}.io", "displayName": f"X {i}"}],
                    description="Agenda: " + "item " * 20)
        _, sources = google.connect(store, srv.client_config(), browser_for(srv), api_endpoint=srv.api_endpoint, timeout=30)
        now = datetime(2026, 10, 1, tzinfo=timezone.utc)
        src = google.GoogleCalendarSource(sources[0], api_endpoint=srv.api_endpoint, now=now)

        # baseline: the same two pages with urllib + json, no client library, no store
        token = json.loads(keyring.get_password("kith", "google:" + s.account))["token"]
        t0 = time.perf_counter()
        page, got = None, 0
        while True:
            url = srv.api_endpoint + f"calendars/{s.account}/events?singleEvents=true&maxResults=2500&timeMin=2026-09-01T00:00:00Z"
            if page:
                url += "&pageToken=" + page
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
            body = json.loads(urllib.request.urlopen(req).read())
            got += len(body["items"])
            page = body.get("nextPageToken")
            if not page:
                break
        out["baseline_fetch_s"] = time.perf_counter() - t0
        assert got == n, got

        t0 = time.perf_counter()
        r = src.sync(store)
        out["full_sync_s"] = time.perf_counter() - t0
        assert r.added == n and CalendarRepo(store).count_events() == n, r
        for i in range(50):
            if i % 2:
                s.cancel(s.account, f"ev{i}")
            else:
                s.timed(s.account, f"ev{i}", f"Call {i} (moved)", datetime(2026, 10, 2, 8, 0) + timedelta(minutes=i), 30,
                        "America/New_York")
        src = google.GoogleCalendarSource(CalendarRepo(store).get_source(sources[0].id), api_endpoint=srv.api_endpoint, now=now)
        t0 = time.perf_counter()
        r2 = src.sync(store)
        out["incremental_50_s"] = time.perf_counter() - t0
        assert (r2.updated, r2.removed) == (25, 25), r2
    kith.close()
    return out


def bench_ics(home: Path, models: Path, n: int) -> float:
    from app.calendar import ics

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", "X-WR-CALNAME:Bench"]
    per = 10
    for k in range(n // per):
        d0 = datetime(2026, 9, 5, 8, 0) + timedelta(days=k % 20, hours=k % 9)
        lines += ["BEGIN:VEVENT", f"UID:bench-{k}", f"SUMMARY:Series {k}",
                  f"DTSTART;TZID=Europe/Berlin:{d0:%Y%m%dT%H%M%S}", f"DTEND;TZID=Europe/Berlin:{d0 + timedelta(minutes=30):%Y%m%dT%H%M%S}",
                  f"RRULE:FREQ=WEEKLY;COUNT={per}", f"ATTENDEE;CN=P {k}:mailto:p{k}@acme.com", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    f = home / "bench.ics"
    f.write_text("\r\n".join(lines) + "\r\n")
    kith = _kith(home / "ics", models)
    store = kith.store()
    t0 = time.perf_counter()
    _, rep = ics.add_feed(store, str(f), now=datetime(2026, 10, 1, tzinfo=timezone.utc), )
    dt = time.perf_counter() - t0
    kith.close()
    assert rep.added == n, rep
    return dt


def seed_history(store, meetings: int = 20):
    from app.calendar.model import Attendee, CalendarEvent, SourceRecord
    from app.calendar.repo import CalendarRepo
    from app.core.domain import ActionItem, Company, Contact, Deal, Meeting, Note

    acme = store.companies.add(Company(name="Acme Corp", domain="acme.com"))
    bob = store.contacts.add(Contact(name="Bob Stone", emails=["bob@acme.com"], title="VP Engineering", company_id=acme.id))
    store.deals.add(Deal(company_id=acme.id, title="Platform licence", stage="negotiation", amount=48000, currency="EUR",
                         next_step="send the revised order form"))
    topics = ["rollout plan", "pricing", "security review", "SSO with Okta", "data residency", "support tiers",
              "renewal terms", "usage numbers", "integration with SAP", "training"]
    for i in range(meetings):
        m = store.meetings.add(Meeting(title=f"Acme — {topics[i % 10]}",
                                       started_at=datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc) + timedelta(weeks=i)))
        store.meetings.add_participant(m.id, bob.id)
        store.notes.add(Note(meeting_id=m.id, author="ai", kind="minutes", body=(
            f"## Summary\n\nWe discussed {topics[i % 10]} with Bob [S2]. Bob asked for a follow-up on "
            f"{topics[(i + 3) % 10]} [S8].\n\n## Signals\n\n- **budget**: {'approved' if i > 10 else 'pending'} [S9]\n")))
        if i % 3 == 0:
            store.actions.add(ActionItem(meeting_id=m.id, text=f"Send notes on {topics[i % 10]}", owner_text="You", status="open"))
        if i % 4 == 0:
            store.actions.add(ActionItem(meeting_id=m.id, text=f"Share {topics[(i + 1) % 10]} details", owner_text="Bob",
                                         owner_contact_id=bob.id, status="open"))
    repo = CalendarRepo(store)
    src = repo.add_source(SourceRecord(kind="ics", name="bench", config={"location": "/bench.ics"}))
    ev = CalendarEvent(external_id="next", title="Acme: contract review", start=datetime.now(timezone.utc) + timedelta(hours=2),
                       end=datetime.now(timezone.utc) + timedelta(hours=3), tz="Europe/Berlin",
                       attendees=[Attendee("bob@acme.com", "Bob Stone")])
    repo.upsert_events(src.id, [ev])
    return repo.get_event(ev.id)


def bench_brief(home: Path, models: Path, with_llm: bool, model: str, threads: int = 2) -> dict:
    from app.brief.build import collect
    from app.brief.render import to_markdown
    from app.brief.service import BriefOptions, brief_for_event

    kith = _kith(home / "brief", models)
    store = kith.store()
    ev = seed_history(store)
    out: dict = {}
    reads = []
    for _ in range(20):
        t0 = time.perf_counter()
        collect(store, ev)
        reads.append(time.perf_counter() - t0)
    out["collect_s"] = statistics.median(reads)
    runs = []
    for _ in range(20):
        t0 = time.perf_counter()
        b = brief_for_event(store, ev, BriefOptions(), force=True)
        to_markdown(b)
        runs.append(time.perf_counter() - t0)
    out["no_llm_s"] = statistics.median(runs)
    assert len(b.meetings) == 5 and b.people[0].meetings == 20
    print(f"brief, contact with 20 past meetings, --no-llm (incl. storing it): {out['no_llm_s'] * 1000:.0f} ms  "
          f"(baseline collect-only store reads: {out['collect_s'] * 1000:.0f} ms, ratio {out['no_llm_s'] / out['collect_s']:.1f}×)",
          flush=True)
    if with_llm:
        from app.catalog import resolve_llm
        from app.extract.llm import LocalLLM

        t0 = time.perf_counter()
        path = resolve_llm(kith.paths, model)
        out["resolve_model_s"] = time.perf_counter() - t0
        llm = LocalLLM(path, n_threads=threads, n_ctx=4096, hash_cache_dir=kith.paths.models)
        from app.core.domain import ActionItem

        for label in ("llm_first_s", "llm_warm_s"):
            if label == "llm_warm_s":  # new facts → a new prompt (identical prompts would hit llama.cpp's cache)
                last = store.meetings.meetings_with(b.people[0].contact_id)[0]
                store.actions.add(ActionItem(meeting_id=last.id, text="Loop in legal on the DPA", owner_text="Bob",
                                             owner_contact_id=b.people[0].contact_id, status="open"))
            t0 = time.perf_counter()
            b = brief_for_event(store, ev, BriefOptions(llm=lambda: llm), force=True)
            out[label] = time.perf_counter() - t0
            out[label.replace("_s", "_source")] = b.agenda_source
        out["llm_agenda"] = [(p.text, p.refs) for p in b.agenda + b.questions]
    kith.close()
    return out


def main() -> int:
    from app.core.paths import Paths

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--no-llm", action="store_true", help="skip the default-model brief")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--models", type=Path, default=None, help="model cache (default: Kith's usual one)")
    ap.add_argument("--threads", type=int, default=2, help="llama.cpp threads (settings.llm.threads default: 2)")
    args = ap.parse_args()
    keyring.set_keyring(_MemoryKeyring())
    models = args.models or Paths.from_env().models
    print(f"cores: {os.cpu_count()}  load avg: {os.getloadavg()[0]:.1f}  (other engineers share this machine)", flush=True)
    with tempfile.TemporaryDirectory(prefix="kith-calbench-") as tmp:
        home = Path(tmp)
        s = bench_sync(home, models, args.events)
        print(f"google full sync, {args.events} events: {s['full_sync_s']:.2f} s (target ≤ 5 s)  "
              f"baseline urllib fetch+json of the same pages: {s['baseline_fetch_s']:.2f} s  "
              f"ratio {s['full_sync_s'] / s['baseline_fetch_s']:.1f}×")
        print(f"google incremental sync, 50 changes: {s['incremental_50_s'] * 1000:.0f} ms")
        print(f"ics import, {args.events} expanded events: {bench_ics(home, models, args.events):.2f} s")
        b = bench_brief(home, models, not args.no_llm, args.model, args.threads)
        if "llm_first_s" in b:
            print(f"brief with {args.model} ({args.threads} threads): first {b['llm_first_s']:.1f} s (incl. model load), next (new facts, model loaded) {b['llm_warm_s']:.1f} s "
                  f"(target ≤ 15 s; source {b['llm_warm_source']}); model resolve {b['resolve_model_s']:.1f} s")
            for text, refs in b["llm_agenda"]:
                print(f"    - {text} {refs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
