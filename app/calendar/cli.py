"""Calendar verbs: `kith calendar connect|add-ics|sync|list|remove` (`kith today`/`brief`: app.brief.cli).

Only `connect`, `add-ics` (for a URL) and `sync` use the network, and only when run.
Heavy imports (Google libraries, icalendar, llama.cpp) happen inside the commands.
"""
from __future__ import annotations

import sys
from datetime import datetime, timezone

from app.core.errors import KithError
from app.core.output import print_json, print_table


def _opts(kith, no_llm: bool = True):
    from app.brief.service import options_for

    return options_for(kith, with_llm=not no_llm)


def open_in_browser(url: str) -> None:
    """``open_url`` for `connect`: print the address and try the system browser."""
    import threading
    import webbrowser

    print(f"Opening Google sign-in in your browser. If nothing opens, visit this address on this machine:\n  {url}",
          flush=True)
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def _print_reports(reports) -> int:
    rows = [(r.source_id, r.kind, r.source, "full" if r.full else "incremental", r.added, r.updated, r.removed,
             f"{r.seconds:.2f}s", r.note) for r in reports]
    print_table(rows, ["id", "kind", "source", "sync", "added", "updated", "removed", "time", "note"])
    return 1 if any(r.note.startswith("error") for r in reports) else 0


# -- calendar ------------------------------------------------------------------------------
def cmd_connect(kith, args) -> int:
    from app.calendar.google import connect, load_client_config

    if args.provider != "google":  # argparse restricts choices; kept for clarity of the message
        raise KithError(f"unknown calendar provider {args.provider!r}")
    cfg = load_client_config(args.client_secrets)
    store = kith.store()
    account, sources = connect(store, cfg, open_in_browser, timeout=args.timeout, only_primary=args.primary_only)
    print(f"Connected {account}: {len(sources)} calendar(s). Tokens are in your keyring (service 'kith').")
    reports = _sync(kith, [s.id for s in sources])
    return _print_reports(reports)


def _sync(kith, only=None, briefs: bool = True):
    from app.brief.service import prepare_upcoming
    from app.ops.calendar import sync

    store = kith.store()
    reports = sync(store, only=only).value
    if briefs:
        prepare_upcoming(store, _opts(kith), hours=kith.settings.calendar.brief_ahead_hours)
    return reports


def cmd_add_ics(kith, args) -> int:
    from app.ops.calendar import add_feed

    store = kith.store()
    rec, report = add_feed(store, args.location, name=args.name).value
    print(f"Added calendar {rec.name!r} (source {rec.id}): {report.added} event(s) in the window.")
    if report.note:
        print(f"kith: {report.note}", file=sys.stderr)
    return 0


def cmd_sync(kith, args) -> int:
    if args.if_due:
        from app.calendar.sync import due

        if not due(kith.store(), kith.settings.calendar.sync_minutes):
            return 0  # calendar.sync_minutes = 0 (only when asked) or synced recently
    reports = _sync(kith, args.source or None, briefs=not args.no_briefs)
    if not reports:
        print("No calendars yet: `kith calendar connect google --client-secrets FILE` or `kith calendar add-ics PATH|URL`.")
        return 0
    return _print_reports(reports)


def cmd_list(kith, args) -> int:
    from datetime import timedelta

    from app.calendar.repo import CalendarRepo

    repo = CalendarRepo(kith.store())
    sources = repo.list_sources()
    if args.events:
        now = datetime.now(timezone.utc)
        events = repo.events_between(now - timedelta(days=1), now + timedelta(days=args.days))
        if args.json:
            print_json(events)
            return 0
        print_table([(e.id, e.local_start().strftime("%Y-%m-%d %H:%M") if not e.all_day else e.start.date().isoformat() + " (all day)",
                      e.title, ", ".join(a.label for a in e.others())[:60]) for e in events],
                    ["id", "start", "title", "attendees"])
        return 0
    rows = [{"id": s.id, "kind": s.kind, "name": s.name, "events": repo.count_events(s.id),
             "synced": s.last_synced_at.isoformat(timespec="seconds") if s.last_synced_at else None,
             "location": s.config.get("location") or s.config.get("calendar_id"), "enabled": s.enabled} for s in sources]
    if args.json:
        print_json(rows)
        return 0
    print_table([(r["id"], r["kind"], r["name"], r["events"], r["synced"] or "never", r["location"]) for r in rows],
                ["id", "kind", "name", "events", "last sync", "where"])
    return 0


def cmd_remove(kith, args) -> int:
    from app.calendar.google import forget_credentials
    from app.calendar.repo import CalendarRepo

    repo = CalendarRepo(kith.store())
    src = repo.get_source(args.id)
    repo.delete_source(src.id)
    account = src.config.get("account")
    if account and not any(s.config.get("account") == account for s in repo.list_sources("google")):
        forget_credentials(account)
        print(f"Removed {src.name}; the Google tokens for {account} were deleted from the keyring.")
    else:
        print(f"Removed {src.name} and its events.")
    return 0


# -- today / brief -------------------------------------------------------------------------
def register(sub) -> None:
    cal = sub.add_parser("calendar", help="calendars: connect Google, add .ics feeds, sync, list")
    csub = cal.add_subparsers(dest="calendar_command", metavar="ACTION")
    cal.set_defaults(func=lambda kith, args: (cal.print_help(), 2)[1])

    p = csub.add_parser("connect", help="sign in to a calendar provider (opens your browser)")
    p.add_argument("provider", choices=["google"])
    p.add_argument("--client-secrets", required=True, metavar="FILE",
                   help="OAuth client JSON (type 'Desktop app') from Google Cloud Console")
    p.add_argument("--primary-only", action="store_true", help="only the account's primary calendar")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser sign-in")
    p.set_defaults(func=cmd_connect)

    p = csub.add_parser("add-ics", help="import an iCalendar feed (.ics file or https/webcal URL)")
    p.add_argument("location", metavar="PATH|URL")
    p.add_argument("--name", help="display name (default: the feed's own name)")
    p.set_defaults(func=cmd_add_ics)

    p = csub.add_parser("sync", help="fetch changes from every calendar (the only command that goes online)")
    p.add_argument("--source", type=int, action="append", metavar="ID", help="only this source (repeatable)")
    p.add_argument("--no-briefs", action="store_true", help="do not refresh briefs for the coming meetings")
    p.add_argument("--if-due", action="store_true",
                   help="only if your calendar.sync_minutes setting says a sync is due (for a timer/cron job)")
    p.set_defaults(func=cmd_sync)

    p = csub.add_parser("list", help="calendar sources (or upcoming events with --events)")
    p.add_argument("--events", action="store_true", help="list events instead of sources")
    p.add_argument("--days", type=int, default=7, help="with --events: how many days ahead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = csub.add_parser("remove", help="remove a calendar source and its events")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_remove)
