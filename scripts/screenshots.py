"""Screenshots of the desktop app on a seeded demo profile, for docs/screenshots/.

    xvfb-run -a .venv/bin/python scripts/screenshots.py [--profile DIR] [--llm smollm2-135m]

Seeds a throwaway profile (passphrase mode — never your keyring) through the core: the
bundled Northwind sales-call transcript goes through `process_file` (the configured LLM
writes the minutes), a calendar .ics with today's and tomorrow's meetings is added with
`add_feed`, some suggestions are accepted and some left for Review. A live meeting is
really recorded: capture's FileSource replays tests/data/jfk.wav through the Recorder and
the StreamingTranscriber. Then each page is grabbed to a PNG.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VTT = ROOT / "tests" / "ui" / "data" / "northwind_call.vtt"
WAV = ROOT / "tests" / "data" / "jfk.wav"
OUT = ROOT / "docs" / "screenshots"


def ics_text(now: datetime) -> str:
    def stamp(d: datetime) -> str:
        return d.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    soon = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    tomorrow = (now + timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    events = [
        ("ev1", "Northwind rollout review", soon, soon + timedelta(minutes=45),
         [("Dana Whitfield", "dana@northwind.example"), ("Priya Raman", "priya.raman@northwind.example")]),
        ("ev2", "Contoso discovery call", tomorrow, tomorrow + timedelta(minutes=30), [("Lee Park", "lee@contoso.example")]),
    ]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kith screenshots//EN"]
    for uid, title, start, end, people in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}@kith.example", f"DTSTAMP:{stamp(now)}", f"DTSTART:{stamp(start)}",
                  f"DTEND:{stamp(end)}", f"SUMMARY:{title}", "ORGANIZER;CN=Sam:mailto:sam@kith.example"]
        lines += [f"ATTENDEE;CN={n}:mailto:{e}" for n, e in people]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def seed(kith, llm: str | None, transcript_only: bool = False) -> None:
    from app.calendar.ics import add_feed
    from app.core.domain import Contact
    from app.meetings.pipeline import ProcessOptions, process_file

    store = kith.store()
    if not store.contacts.find_by_email("dana@northwind.example"):
        store.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"], title="Head of Support",
                                   source="calendar"))
    if not store.meetings.list(limit=1) and transcript_only:  # layout checks: no LLM, no minutes
        from app.core.domain import Meeting
        from app.meetings.importers import import_transcript

        segs, _ = import_transcript(VTT)
        m = store.meetings.add(Meeting(title="Northwind pilot call", started_at=datetime.now(timezone.utc), status="transcribed"))
        store.segments.add_many(m.id, segs)
    if not store.meetings.list(limit=1):
        print("seeding: processing the Northwind call (the LLM writes the minutes)…", file=sys.stderr)
        t0 = time.perf_counter()
        process_file(kith, VTT, ProcessOptions(template="sales", title="Northwind pilot call", llm_model=llm,
                                               with_emails=["dana@northwind.example"],
                                               started_at=datetime.now(timezone.utc) - timedelta(days=2, hours=3),
                                               user_notes="Pilot: 10 agents, $12k. Priya (security) must sign off."),
                     bus=kith.bus)
        print(f"seeding: processed in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    from app.calendar.repo import CalendarRepo

    if not CalendarRepo(store).list_sources():
        ics = kith.paths.cache / "screenshots-calendar.ics"
        ics.parent.mkdir(parents=True, exist_ok=True)
        ics.write_text(ics_text(datetime.now().astimezone()), encoding="utf-8")
        add_feed(store, str(ics), name="Work calendar")
    if not store.deals.list():
        from app.core.domain import Company, Deal

        co = store.companies.find_by_domain("northwind.example") or store.companies.add(
            Company(name="Northwind", domain="northwind.example"))
        store.deals.add(Deal(company_id=co.id, title="Northwind support pilot", stage="pilot", amount=12000,
                             currency="USD", next_step="Security review with Priya"))
    dana = store.contacts.find_by_email("dana@northwind.example")
    for m in store.meetings.list(limit=5):  # as the calendar invite would have linked her
        if dana and m.status == "processed" and not store.meetings.participants(m.id):
            store.meetings.add_participant(m.id, dana.id)
    pending = store.suggestions.list(status="pending")
    for s in pending:  # accept the action items (they become open); the rest stays for Review
        if s.kind == "action_item":
            try:
                store.suggestions.accept(s.id)
            except Exception as e:  # noqa: BLE001
                print(f"seeding: could not accept #{s.id}: {e}", file=sys.stderr)


def make_profile(args):
    from app.core.config import load_settings
    from app.context import Kith
    from app.core.paths import Paths
    from app.store.keys import SALT_BYTES, new_master_key, write_salt

    home = Path(args.profile).resolve()
    models = Paths.from_env().models
    paths = dataclasses.replace(Paths.under(home), models_override=Path(args.models) if args.models else models).ensure()
    if not paths.database.exists() and not paths.key_salt_file.exists():
        write_salt(paths.key_salt_file, new_master_key()[:SALT_BYTES])  # passphrase mode: never the keyring
    settings = load_settings(paths.settings_file)
    settings.crm.my_name = "Sam"
    if args.llm:
        settings.llm.model = args.llm
    return Kith(paths=paths, settings=settings, passphrase=args.passphrase)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default=str(ROOT / ".screenshots-profile"))
    ap.add_argument("--passphrase", default="kith-screenshots")
    ap.add_argument("--models", default=None, help="model cache to share (default: the user's)")
    ap.add_argument("--llm", default=None, help="LLM for the seeded minutes (default: settings)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--transcript-only", action="store_true", help="seed without the LLM (quick layout checks)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    kith = make_profile(args)
    seed(kith, args.llm, args.transcript_only)
    kith.close()

    from app.ui.application import build_context
    from app.ui.audio import wav_source_factory
    from app.ui.main_window import MainWindow
    from app.ui.qt import QApplication

    ctx = build_context(kith, wav_source_factory(WAV, loop=True))
    app = QApplication.instance()
    win = MainWindow(ctx)
    win.resize(1180, 760)
    win.show()

    def settle(seconds: float = 0.6) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end or ctx.tasks.active():
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()

    def shot(widget, name: str) -> None:
        settle()
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(f"saved {path} ({path.stat().st_size // 1024} KB)")

    settle(1.0)
    win.banner.hide()
    today = win.go("today")
    settle()
    from app.ui.views.today import EventCard

    cards = today.findChildren(EventCard)
    if cards:
        cards[0]._toggle()  # show the first meeting's prep brief
    shot(win, "today")

    h = ctx.tasks.db(lambda s: next((m.id for m in s.meetings.list() if m.status == "processed"), None))
    settle()
    win.open_meeting(h.result)
    meetings = win.page("meetings")
    settle()
    data = meetings.page.data
    cited = next((a.evidence for a in (data.actions if data else []) if a.evidence), None)
    if not cited and data and data.segments:
        cited = [data.segments[min(9, len(data.segments) - 1)].id]
    meetings.page.tabs.setCurrentIndex(1 if data and data.actions else 0)
    meetings.page.highlight(cited or [])
    win.banner.hide()
    shot(win, "meeting")

    meetings.page.followup()  # Follow-up email… (the draft of `kith meetings followup`)
    settle()
    if meetings.page.followup_dialog is not None:
        shot(meetings.page.followup_dialog, "followup")
        meetings.page.followup_dialog.reject()
    meetings.import_file(str(VTT))  # the import sheet (Cancel: nothing is imported)
    settle()
    if meetings.sheet is not None:
        shot(meetings.sheet, "import-sheet")
        meetings.sheet.reject()

    people = win.go("people")
    settle()
    dana = next((people.contacts.list.item(i).data(256) for i in range(people.contacts.list.count())
                 if people.contacts.list.item(i).text().startswith("Dana")), None)
    if dana:
        win.open_person(dana)
    shot(win, "person")

    people.tabs.setCurrentWidget(people.deals)
    settle()
    if people.deals.list.count():
        people.deals.list.setCurrentRow(0)
    shot(win, "deal")

    win.go("review")
    shot(win, "review")

    settings = win.go("settings")
    settings.show_tab("Models")
    shot(win, "settings")

    live = win.go("live")
    live.title.setText("Northwind rollout review")
    live.notes.setPlainText("- Confirm pilot start date\n- Priya: encryption questions\n- Rollout to 40 agents in Q2?")
    live.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(live.transcript.finals()) < 3:
        app.processEvents()
        time.sleep(0.01)
    live.toggle_compact()
    settle(1.5)
    win.banner.hide()
    shot(win, "live")
    shot(live.compact, "live-compact")
    live.stop(process=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and live.session.state != "idle":
        app.processEvents()
        time.sleep(0.01)
    live.close_compact()
    win.close()
    ctx.tasks.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
